// The rows of the model table, kept and refilled rather than rebuilt. Measured in chromium at 100k models, a
// keystroke's new page of 50 rows cost more in the renderer (new elements to style, lay out and paint, the old
// ones to collect) than the request itself; the next keystroke's response then waited behind that work.
// Here each row's elements are made once and only their text changes (an unchanged cell is not touched), and
// only the rows that fit on the screen are filled at once: the others (below the fold, still showing the previous
// page for a moment) follow when the renderer is idle, at the latest 150 ms later or at the first scroll, and
// are skipped when the next keystroke's rows come first.
import { h } from "./dom.js";
import { formatBytes, formatCount, formatDate } from "./format.js";
import { navigate } from "./router.js";

/** Rows no shorter than this (px): how many fill the screen is counted with it (more, never fewer). */
const MIN_ROW_PX = 34;

function text(node, value) {
  if (node.data !== value) node.data = value;
}

function attr(el, name, value) {
  if (el.getAttribute(name) !== value) el.setAttribute(name, value);
}

/** One row's elements and a fill(model) that changes only what differs. */
function makeRow() {
  const t = () => document.createTextNode("");
  const name = t(), id = t(), type = t(), subtype = t(), family = t(), format = t(), quant = t(), size = t(), params = t(), date = t();
  const link = h("a", {}, name);
  link.addEventListener("click", (e) => navigate(e, link.getAttribute("href")));
  const sub = h("div", { class: "muted small" }, subtype);
  const typeCell = h("td", { class: "short" }, type, sub);
  const familyCell = h("td", { class: "short" }, family);
  const formatCell = h("td", { class: "short" }, format);
  const quantCell = h("td", { class: "short" }, quant);
  const tags = h("td", { class: "tags" });
  const dateCell = h("td", { class: "date" }, date);
  const tr = h("tr", {}, h("td", { class: "name" }, link, h("div", { class: "id" }, id)), typeCell, familyCell, formatCell, quantCell,
    h("td", { class: "num" }, size), h("td", { class: "num" }, params), tags, dateCell);
  let tagKey = null;
  return {
    tr,
    fill(m) {
      attr(tr, "data-id", m.id);
      attr(link, "href", `/model?id=${encodeURIComponent(m.id)}`);
      text(name, m.officialName || m.cleanedName);
      text(id, m.id);
      text(type, m.modelType);
      text(subtype, m.subtype ?? "");
      if (sub.hidden !== !m.subtype) sub.hidden = !m.subtype;
      attr(typeCell, "title", [m.modelType, m.subtype].filter(Boolean).join(" / "));
      text(family, m.family ?? "-");
      attr(familyCell, "title", m.family ?? "");
      text(format, m.format ?? "-");
      attr(formatCell, "title", m.format ?? "");
      text(quant, m.quantization ?? "-");
      attr(quantCell, "title", m.quantization ?? "");
      text(size, formatBytes(m.sizeBytes));
      text(params, m.parameterCount ? formatCount(m.parameterCount) : "-");
      const key = m.tags.slice(0, 3).join("\u0000") + `\u0000${m.tags.length}`;
      if (key !== tagKey) {
        tagKey = key;
        tags.replaceChildren(...m.tags.slice(0, 3).map((x) => h("span", { class: "tag" }, x)), ...(m.tags.length > 3 ? [h("span", { class: "muted" }, ` +${m.tags.length - 3}`)] : []));
      }
      const when = formatDate(m.updatedAt);
      attr(dateCell, "title", when);
      text(date, when.slice(0, 10));
    },
  };
}

/** The table body's rows: show(models) puts exactly those rows in it, the visible ones at once. */
export function createModelRows(tbody) {
  const pool = [];
  let pending = null; // { models, from }: rows still to fill after the visible ones
  let idle = 0;

  function rowAt(i) {
    while (pool.length <= i) pool.push(makeRow());
    return pool[i];
  }

  /** How many rows can be on the screen: the viewport's height over the shortest row, plus a margin. */
  function visibleCount() {
    return Math.ceil(window.innerHeight / MIN_ROW_PX) + 2;
  }

  function fillRest() {
    cancelIdle();
    if (!pending) return;
    const { models, from } = pending;
    pending = null;
    for (let i = from; i < models.length; i++) {
      const row = rowAt(i);
      row.fill(models[i]);
      if (row.tr.parentNode !== tbody) tbody.append(row.tr);
    }
  }

  function cancelIdle() {
    if (idle) (window.cancelIdleCallback ?? clearTimeout)(idle);
    idle = 0;
  }

  window.addEventListener("scroll", fillRest, { passive: true });

  return {
    show(models) {
      cancelIdle();
      pending = null;
      const now = Math.min(models.length, visibleCount());
      for (let i = 0; i < now; i++) rowAt(i).fill(models[i]);
      // Rows past the new page leave the table (kept for the next one); rows of it not filled yet stay in place
      // (off screen) rather than leave and come back.
      while (tbody.rows.length > models.length) tbody.lastElementChild.remove();
      for (let i = tbody.rows.length; i < now; i++) tbody.append(pool[i].tr);
      if (now < models.length) {
        pending = { models, from: now };
        idle = (window.requestIdleCallback ?? ((fn) => setTimeout(fn, 50)))(fillRest, { timeout: 150 });
      }
    },
    /** Drops the rows still to fill (a new page is coming: the next keystroke's). */
    skipPending() {
      cancelIdle();
      pending = null;
    },
    /** Fills every row now (before printing, measuring, or leaving the view). */
    flush: fillRest,
    dispose() {
      cancelIdle();
      window.removeEventListener("scroll", fillRest);
    },
  };
}
