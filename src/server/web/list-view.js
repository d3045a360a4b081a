// The model list: search as you type, filters with facet counts, sorting and paging. Everything the user
// picked lives in the URL (`/?q=qwen&type=llm&sort=name&page=2`), so a search is a link to share or reload.
// The list answers first; facet counts follow (they cost more at 100k models and may lag a keystroke).
import { api } from "./api.js";
import { h, clear } from "./dom.js";
import { formatNumber } from "./format.js";
import { createModelRows } from "./model-rows.js";
import { onBeforeNavigate } from "./router.js";

export const PAGE_SIZE = 50;
/** How long typing pauses before the address bar takes the query. */
const URL_PAUSE_MS = 300;

/** Filter parameter in the URL/API → facet group in /api/facets, with its heading. */
const GROUPS = [
  ["type", "types", "Type"],
  ["family", "families", "Family"],
  ["format", "formats", "Format"],
  ["quant", "quantizations", "Quantization"],
  ["tag", "tags", "Tags"],
];
const FILTER_KEYS = ["type", "subtype", "family", "format", "quant", "tag"];
const SORTS = [["relevance", "Relevance"], ["name", "Name"], ["updated", "Recently updated"], ["added", "Recently added"], ["size", "Largest"]];
const SHOWN_PER_GROUP = 12;

export function readState(search) {
  const sp = new URLSearchParams(search);
  const state = { q: sp.get("q") ?? "", sort: sp.get("sort") ?? "", tagMode: sp.get("tagMode") ?? "", page: Math.max(1, Number.parseInt(sp.get("page") ?? "1", 10) || 1) };
  for (const key of FILTER_KEYS) state[key] = sp.getAll(key);
  return state;
}

function stateUrl(state) {
  const sp = new URLSearchParams();
  if (state.q) sp.set("q", state.q);
  for (const key of FILTER_KEYS) for (const v of state[key]) sp.append(key, v);
  if (state.tagMode) sp.set("tagMode", state.tagMode);
  if (state.sort) sp.set("sort", state.sort);
  if (state.page > 1) sp.set("page", String(state.page));
  const s = sp.toString();
  return s ? `/?${s}` : "/";
}

function apiParams(state) {
  const params = { q: state.q, tagMode: state.tagMode, sort: state.sort };
  for (const key of FILTER_KEYS) params[key] = state[key];
  return params;
}

export function createListView(root) {
  let state = readState(location.search);
  let modelsSeq = 0;
  let facetsSeq = 0;
  let modelsAbort = null;
  let facetsAbort = null;
  let facetsTimer = null;
  const expanded = new Set();

  const search = h("input", { id: "search", type: "search", placeholder: "Search models — name, family, tag, quantization…", autocomplete: "off", spellcheck: "false", "aria-label": "search" });
  search.value = state.q;
  search.addEventListener("input", () => {
    rows.skipPending(); // the rows below the fold of the last keystroke's page: this one's come instead
    state = { ...state, q: search.value, page: 1 };
    writeUrlSoon();
    refresh();
  });
  const sort = h("select", { id: "sort", "aria-label": "sort" }, SORTS.map(([v, label]) => h("option", { value: v }, label)));
  sort.value = state.sort || "relevance";
  sort.addEventListener("change", () => change({ sort: sort.value === "relevance" ? "" : sort.value }));
  const total = h("span", { id: "total", class: "total" });
  const facets = h("div", { class: "facets", id: "facets" });
  const chips = h("div", { class: "chips", id: "active-filters" });
  const tbody = h("tbody");
  const table = h("table", { class: "models", id: "models" },
    h("thead", {}, h("tr", {}, ["Name", "Type", "Family", "Format", "Quant", "Size", "Params", "Tags", "Updated"].map((t) => h("th", {}, t)))),
    tbody);
  const pager = h("div", { class: "pager", id: "pager" });
  const rows = createModelRows(tbody);
  let shown = 0;
  const message = h("div", { class: "message", id: "list-message" });

  root.append(
    h("div", { class: "list-layout" },
      h("section", { class: "sidebar" }, facets),
      h("section", { class: "results" },
        h("div", { class: "searchbar" }, search, sort),
        h("div", { class: "summary" }, total, chips),
        message,
        table,
        pager)),
  );
  search.focus();

  // While typing, the address bar follows after a short pause: in chromium each history.replaceState is a
  // same-document navigation that also makes the browser fetch and decode the favicon again (~10 ms of the
  // renderer's time per keystroke, measured), time the next keystroke's rows waited for.
  let urlTimer = 0;
  function writeUrlSoon() {
    clearTimeout(urlTimer);
    urlTimer = setTimeout(writeUrl, URL_PAUSE_MS);
  }
  function writeUrl() {
    if (!urlTimer) return;
    clearTimeout(urlTimer);
    urlTimer = 0;
    history.replaceState(history.state, "", stateUrl(state));
  }
  const stopFlush = onBeforeNavigate(writeUrl);
  window.addEventListener("pagehide", writeUrl);

  function change(patch, push = true) {
    clearTimeout(urlTimer);
    urlTimer = 0;
    state = { ...state, page: 1, ...patch };
    if (push) history.pushState({ inPage: true }, "", stateUrl(state));
    else history.replaceState(history.state, "", stateUrl(state));
    refresh();
  }

  function toggle(key, value) {
    const values = state[key].includes(value) ? state[key].filter((v) => v !== value) : [...state[key], value];
    change({ [key]: values });
  }

  async function loadModels() {
    const seq = ++modelsSeq;
    modelsAbort?.abort();
    modelsAbort = new AbortController();
    const params = { ...apiParams(state), limit: PAGE_SIZE, offset: (state.page - 1) * PAGE_SIZE };
    const started = performance.now();
    try {
      const result = await api.models(params, modelsAbort.signal);
      if (seq !== modelsSeq) return;
      renderModels(result, performance.now() - started);
    } catch (e) {
      if (e.name === "AbortError" || seq !== modelsSeq) return;
      message.textContent = e.message;
      message.className = "message error";
      rows.show([]);
      total.textContent = "";
    }
  }

  async function loadFacets() {
    const seq = ++facetsSeq;
    facetsAbort?.abort();
    facetsAbort = new AbortController();
    const forState = state;
    try {
      // A group with a value picked counts as if it had none (its other values stay offered, to be added as
      // "or"); every other group counts under all filters. One more request per such group (cached server-side).
      const params = apiParams(forState);
      const own = GROUPS.filter(([key]) => forState[key].length > 0);
      const [result, ...others] = await Promise.all([
        api.facets(params, facetsAbort.signal),
        ...own.map(([key]) => api.facets({ ...params, [key]: [], ...(key === "tag" ? { tagMode: "" } : {}) }, facetsAbort.signal)),
      ]);
      own.forEach(([, group], i) => (result[group] = others[i][group]));
      if (seq !== facetsSeq) return;
      renderFacets(result);
      facets.dataset.for = stateUrl(forState);
    } catch (e) {
      if (e.name !== "AbortError" && seq === facetsSeq) facets.textContent = e.message;
    }
  }

  function refresh() {
    loadModels();
    // While typing, facets wait for a short pause: the list is what keeps up with each key.
    clearTimeout(facetsTimer);
    facetsTimer = setTimeout(loadFacets, 120);
    renderChips();
  }

  function renderModels(result, ms) {
    // A page past the end (a link or a back step kept while the library shrank): the last page instead of an
    // empty one that said "the library is empty" with no pager to leave it.
    const last = Math.max(1, Math.ceil(result.totalCount / PAGE_SIZE));
    if (result.models.length === 0 && state.page > last) {
      state = { ...state, page: last };
      history.replaceState(history.state, "", stateUrl(state));
      loadModels();
      return;
    }
    message.textContent = "";
    message.className = "message";
    total.textContent = `${formatNumber(result.totalCount)} model${result.totalCount === 1 ? "" : "s"}`;
    total.title = `${ms.toFixed(0)} ms`;
    if (result.models.length === 0) {
      message.textContent = state.q || FILTER_KEYS.some((k) => state[k].length) ? "No model matches." : "The library is empty: import a file or folder under “Import & verify”.";
    }
    rows.show(result.models);
    // Says the page's rows are in (benchmarks and tests wait for it: a page equal to the last one changes no cell).
    table.dataset.shown = String(++shown);
    renderPager(result.totalCount);
  }

  function renderPager(count) {
    // Redrawn with each page: a button pressed from the keyboard keeps the focus (on the other one when it is
    // now disabled, at the first or last page) instead of losing it to the top of the page.
    const focused = pager.contains(document.activeElement) ? document.activeElement.id : null;
    clear(pager);
    const pages = Math.max(1, Math.ceil(count / PAGE_SIZE));
    if (pages === 1) return;
    const go = (page) => {
      writeUrl();
      state = { ...state, page };
      history.pushState({ inPage: true }, "", stateUrl(state));
      loadModels();
      window.scrollTo(0, 0);
    };
    pager.append(
      h("button", { id: "prev", disabled: state.page <= 1, onclick: () => go(state.page - 1) }, "‹ Previous"),
      h("span", {}, ` page ${formatNumber(state.page)} of ${formatNumber(pages)} `),
      h("button", { id: "next", disabled: state.page >= pages, onclick: () => go(state.page + 1) }, "Next ›"),
    );
    if (focused) {
      const [same, other] = focused === "next" ? ["#next", "#prev"] : ["#prev", "#next"];
      const target = pager.querySelector(`${same}:not(:disabled)`) ?? pager.querySelector(`${other}:not(:disabled)`);
      target?.focus({ preventScroll: true }); // the new page is shown from its top
    }
  }

  /** What in the facets has the focus (a value's checkbox, "every tag", "all N"), to give it back once redrawn. */
  function facetFocus() {
    const el = document.activeElement;
    if (!el || !facets.contains(el)) return null;
    const group = el.closest(".facet")?.dataset.group;
    if (el.matches(".facet-value input")) return { group, value: el.value };
    if (el.matches(".tagmode input")) return { group, part: ".tagmode input" };
    if (el.matches("button.more")) return { group, part: "button.more" };
    return null;
  }

  function restoreFacetFocus(at) {
    const group = at && [...facets.querySelectorAll(".facet")].find((g) => g.dataset.group === at.group);
    if (!group) return;
    const target = at.part ? group.querySelector(at.part) : [...group.querySelectorAll(".facet-value input")].find((i) => i.value === at.value);
    target?.focus({ preventScroll: true });
  }

  function renderFacets(result) {
    // Redrawn after every change of filter: the control the user ticked keeps the focus (the keyboard's place
    // was lost at each filter, back to the top of the page).
    const focused = facetFocus();
    clear(facets);
    for (const [key, group, title] of GROUPS) {
      const counts = result[group] ?? {};
      const entries = Object.entries(counts);
      // What is selected stays visible even when the other filters leave it no match.
      for (const v of state[key]) if (!(v in counts)) entries.push([v, 0]);
      if (entries.length === 0) continue;
      const all = expanded.has(key);
      const shown = all ? entries : entries.slice(0, SHOWN_PER_GROUP).concat(entries.slice(SHOWN_PER_GROUP).filter(([v]) => state[key].includes(v)));
      facets.append(
        h("div", { class: "facet", dataset: { group: key } },
          h("h3", {}, title),
          key === "tag" && state.tag.length > 1
            ? h("label", { class: "tagmode" }, h("input", { type: "checkbox", checked: state.tagMode === "all", onchange: (e) => change({ tagMode: e.target.checked ? "all" : "" }) }), " every tag")
            : null,
          shown.map(([value, n]) =>
            h("label", { class: "facet-value" },
              h("input", { type: "checkbox", value, checked: state[key].includes(value), onchange: () => toggle(key, value) }),
              h("span", { class: "facet-name" }, value),
              h("span", { class: "count" }, formatNumber(n)))),
          entries.length > SHOWN_PER_GROUP
            ? h("button", { class: "link more", onclick: () => { if (all) expanded.delete(key); else expanded.add(key); renderFacets(result); } }, all ? "fewer" : `all ${entries.length}`)
            : null,
        ),
      );
    }
    restoreFacetFocus(focused);
  }

  function renderChips() {
    clear(chips);
    for (const key of FILTER_KEYS) {
      for (const v of state[key]) chips.append(h("button", { class: "chip", title: "remove this filter", onclick: () => toggle(key, v) }, `${key}: ${v} ×`));
    }
    if (FILTER_KEYS.some((k) => state[k].length)) {
      const none = Object.fromEntries(FILTER_KEYS.map((k) => [k, []]));
      chips.append(h("button", { class: "link", onclick: () => change({ ...none, tagMode: "" }) }, "clear filters"));
    }
  }

  refresh();

  return {
    /** Back/forward to another list URL: take its state without rebuilding the view. */
    update(search2) {
      clearTimeout(urlTimer);
      urlTimer = 0;
      state = readState(search2);
      search.value = state.q;
      sort.value = state.sort || "relevance";
      refresh();
    },
    refresh,
    dispose() {
      // Left by back/forward: that entry is already another one's, the pending URL is not written into it.
      clearTimeout(urlTimer);
      urlTimer = 0;
      stopFlush();
      window.removeEventListener("pagehide", writeUrl);
      rows.dispose();
    },
  };
}
