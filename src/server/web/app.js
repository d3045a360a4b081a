// The page's entry: reads the session, starts the live operation panel, and shows the view the URL names.
import { api } from "./api.js";
import { clear } from "./dom.js";
import { createListView } from "./list-view.js";
import { createModelView } from "./model-view.js";
import { createStatsView } from "./stats-view.js";
import { createActionsView } from "./actions-view.js";
import { createAppsView } from "./apps-view.js";
import { createHubView } from "./hub-view.js";
import { startOperationEvents, onOperationEnd } from "./operations.js";
import { setRenderer, navigate } from "./router.js";
import { session } from "./session.js";

const view = document.getElementById("view");
let current = null; // { route, instance }

function route() {
  const p = location.pathname;
  if (p === "/model") return "model";
  if (p === "/stats") return "stats";
  if (p === "/actions") return "actions";
  if (p === "/apps") return "apps";
  if (p === "/hub") return "hub";
  return "models";
}

async function render() {
  const r = route();
  if (r !== "models") {
    await sessionKnown;
    if (route() !== r) return; // navigated on meanwhile
  }
  for (const a of document.querySelectorAll("nav a")) a.classList.toggle("active", a.dataset.tab === r);
  if (current?.route === "models" && r === "models") {
    current.instance.update(location.search);
    return;
  }
  current?.instance?.dispose?.();
  clear(view);
  let instance = null;
  if (r === "models") instance = createListView(view);
  else if (r === "model") instance = createModelView(view, new URLSearchParams(location.search).get("id") ?? "");
  else if (r === "stats") instance = createStatsView(view);
  else if (r === "actions") instance = createActionsView(view);
  else if (r === "apps") instance = createAppsView(view);
  else if (r === "hub") instance = createHubView(view);
  current = { route: r, instance };
  document.title = r === "models" ? "model-library" : `${r} — model-library`;
}

let sessionKnown = null;

async function main() {
  // The list needs no session: it starts at once; the views that change things wait for it.
  sessionKnown = api.session().then(
    (s) => Object.assign(session, s),
    () => undefined, // the views show their own errors
  );
  sessionKnown.then(() => {
    document.getElementById("library-root").textContent = session.library;
    if (!session.authorized) {
      const banner = document.getElementById("banner");
      banner.hidden = false;
      banner.textContent = "Read-only: to import, edit, verify, delete, link into apps or download, open the URL that `mlib serve` printed (it carries the token).";
    }
  });
  for (const a of document.querySelectorAll("a[data-nav]")) a.addEventListener("click", (e) => navigate(e, a.getAttribute("href")));
  setRenderer(render);
  window.addEventListener("popstate", render);
  startOperationEvents(document.getElementById("operations"));
  // The list reflects imports and deletions as soon as they end.
  onOperationEnd(() => {
    if (current?.route === "models") current.instance.refresh();
  });
  render();
}

main();
