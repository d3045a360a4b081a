// Library stats: totals and a few horizontal bar charts drawn as plain SVG (no chart library).
import { api } from "./api.js";
import { h, svg, clear } from "./dom.js";
import { formatBytes, formatNumber } from "./format.js";

const TOP = 12;

export function createStatsView(root) {
  // Drawn into the page's one view element: an answer arriving after the user has left draws nothing.
  let gone = false;
  load();
  return {
    dispose() {
      gone = true;
    },
  };

  async function load() {
    clear(root).append(h("p", { class: "muted" }, "Loading…"));
    let s;
    try {
      s = await api.stats();
    } catch (e) {
      if (!gone) clear(root).append(h("p", { class: "message error" }, e.message));
      return;
    }
    if (!gone) draw(root, s);
  }
}

function draw(root, s) {
  clear(root).append(
    h("div", { class: "stats", id: "stats" },
      h("h1", {}, "Library"),
      h("p", { class: "totals" }, h("strong", {}, formatNumber(s.count)), " models, ", h("strong", {}, formatBytes(s.totalBytes))),
      h("div", { class: "charts" },
        chart("Bytes by type", s.bytesByType, formatBytes),
        chart("Bytes by family", s.bytesByFamily, formatBytes),
        chart("Models by format", s.byFormat, formatNumber),
        chart("Models by quantization", s.byQuantization, formatNumber))),
  );
}

/** A horizontal bar chart of the largest TOP groups (the rest summed as "other"). */
function chart(title, values, format) {
  let entries = Object.entries(values ?? {}).sort((a, b) => b[1] - a[1]);
  if (entries.length > TOP) entries = [...entries.slice(0, TOP - 1), ["other", entries.slice(TOP - 1).reduce((n, [, v]) => n + v, 0)]];
  const max = Math.max(1, ...entries.map(([, v]) => v));
  const row = 22;
  const labelWidth = 130;
  const barWidth = 220;
  const width = labelWidth + barWidth + 90;
  const height = Math.max(row, entries.length * row);
  return h("figure", { class: "chart" },
    h("figcaption", {}, title),
    entries.length === 0
      ? h("p", { class: "muted" }, "nothing yet")
      : svg("svg", { viewBox: `0 0 ${width} ${height}`, width, height, role: "img", "aria-label": title },
        entries.map(([k, v], i) => {
          const y = i * row;
          const w = Math.max(1, (barWidth * v) / max);
          return svg("g", {},
            svg("title", {}, `${k}: ${format(v)}`),
            svg("text", { x: labelWidth - 6, y: y + 15, "text-anchor": "end", class: "chart-label" }, k.length > 18 ? `${k.slice(0, 17)}…` : k),
            svg("rect", { x: labelWidth, y: y + 4, width: w.toFixed(1), height: row - 8, rx: 2, class: "chart-bar" }),
            svg("text", { x: labelWidth + w + 6, y: y + 15, class: "chart-value" }, format(v)));
        })));
}
