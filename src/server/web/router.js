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

/** For a link's click: follow it in the page (a modified click still opens a new tab). */
export function navigate(event, href) {
  if (event && (event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1)) return;
  event?.preventDefault();
  leaving();
  history.pushState(null, "", href);
  renderer();
}

export function go(href) {
  leaving();
  history.pushState(null, "", href);
  renderer();
}
