// Client-side navigation between the page's routes (/, /model?id=..., /actions, /stats) without reloads.
let renderer = () => undefined;

export function setRenderer(fn) {
  renderer = fn;
}

/** For a link's click: follow it in the page (a modified click still opens a new tab). */
export function navigate(event, href) {
  if (event && (event.ctrlKey || event.metaKey || event.shiftKey || event.button === 1)) return;
  event?.preventDefault();
  history.pushState(null, "", href);
  renderer();
}

export function go(href) {
  history.pushState(null, "", href);
  renderer();
}
