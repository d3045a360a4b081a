// Client-side navigation between the page's routes (/, /model?id=..., /actions, /stats) without reloads.
let renderer = () => undefined;
const beforeLeaving = new Set();

/** Calls fn before the page pushes another URL (a view writes what it still holds back into its own entry). */
export function onBeforeNavigate(fn) {
  beforeLeaving.add(fn);
  return () => beforeLeaving.delete(fn);
}

function leaving() {
  for (const fn of beforeLeaving) fn();
}

export function setRenderer(fn) {
  renderer = fn;
}

/** The state of a history entry the page pushed itself: the entry before it is one of the page's own. */
const IN_PAGE = { inPage: true };

/** For a link's click: follow it in the page (a modified click still opens a new tab). */
export function navigate(event, href) {
  if (event && (event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1)) return;
  event?.preventDefault();
  go(href);
}

/** Shows `href`; `replace`: in place of the current entry (one that no longer leads anywhere, a deleted model's). */
export function go(href, { replace = false } = {}) {
  leaving();
  if (replace) history.replaceState(history.state, "", href);
  else history.pushState(IN_PAGE, "", href);
  renderer();
}

/**
 * Back to where the user came from in the page; to `fallback` when this entry was opened from outside (a
 * link, a new tab, a bookmark), where history.back() would leave the page or do nothing.
 */
export function back(fallback = "/") {
  if (history.state?.inPage) history.back();
  else go(fallback);
}
