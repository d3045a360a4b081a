// Hub: search the Hugging Face Hub (through the server, which caches answers), see each repo's download options
// per quant with every shard's size summed, start a download (an operation: progress in the corner), and the
// library's downloads with pause, resume and cancel. The search is in the URL (/hub?q=qwen&kind=llm).
import { api } from "./api.js";
import { h, clear } from "./dom.js";
import { formatBytes, formatCount, formatDate } from "./format.js";
import { onOperationEvent, trackOperation } from "./operations.js";
import { session } from "./session.js";
import { confirmDialog } from "./confirm.js";

const KINDS = [["", "any kind"], ["llm", "LLM"], ["diffusion", "diffusion"], ["audio", "audio"], ["embedding", "embedding"]];
const SORTS = [["downloads", "most downloaded"], ["likes", "most liked"], ["lastModified", "recently updated"], ["trendingScore", "trending"]];

export function createHubView(root) {
  const canWrite = session.authorized;
  const params = new URLSearchParams(location.search);
  const q = h("input", { id: "hub-q", type: "search", "aria-label": "search the Hub", placeholder: "qwen2.5 gguf", size: 40, value: params.get("q") ?? "" });
  const kind = h("select", { id: "hub-kind", "aria-label": "kind" }, KINDS.map(([v, t]) => h("option", { value: v }, t)));
  const sort = h("select", { id: "hub-sort", "aria-label": "sort" }, SORTS.map(([v, t]) => h("option", { value: v }, t)));
  kind.value = params.get("kind") ?? "";
  sort.value = params.get("sort") ?? "downloads";
  const message = h("div", { class: "message", id: "hub-message" });
  const results = h("div", { id: "hub-results" });
  const downloads = h("div", { id: "downloads" });
  let searching = null;

  const form = h("form", { class: "card", id: "hub-form" },
    h("h2", {}, "Search the Hugging Face Hub"),
    h("div", { class: "row" }, q, kind, sort, h("button", { type: "submit", id: "hub-search" }, "Search")));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    search();
  });

  clear(root).append(h("div", { class: "hub-page" }, h("h1", {}, "Hub"), form, message, results, h("h2", {}, "Downloads"), downloads));
  if (q.value) search();
  loadDownloads();

  // Progress of downloads moves the table; their end (done, paused, failed) changes its rows.
  let pending = null;
  const stop = onOperationEvent((e) => {
    if (e.op !== "download" || pending) return;
    pending = setTimeout(() => {
      pending = null;
      loadDownloads();
    }, e.phase === "end" ? 0 : 500);
  });

  function fail(e) {
    message.className = "message error";
    message.textContent = e.message;
  }

  async function search() {
    searching?.abort();
    searching = new AbortController();
    message.className = "message";
    message.textContent = "";
    const p = { q: q.value.trim(), kind: kind.value, sort: sort.value, limit: 20 };
    history.replaceState(history.state, "", `/hub?${new URLSearchParams({ q: p.q, kind: p.kind, sort: p.sort })}`);
    clear(results).append(h("p", { class: "muted" }, "Searching…"));
    try {
      const { models, fromCache } = await api.hubSearch(p, searching.signal);
      renderResults(models, fromCache);
    } catch (e) {
      if (e.name === "AbortError") return;
      clear(results);
      fail(e);
    }
  }

  function renderResults(models, fromCache) {
    clear(results).append(
      h("p", { class: "muted small", id: "hub-count" }, `${models.length} repos${fromCache ? " (from the cache)" : ""}`),
      h("div", { class: "hub-results" }, models.map((m) =>
        h("div", { class: "card hub-model", dataset: { repo: m.repoId } },
          h("div", { class: "hub-head" },
            // the Hub's own page (only an http(s) address is ever made a link)
            /^https?:\/\//.test(m.url ?? "") ? h("a", { href: m.url, target: "_blank", rel: "noreferrer noopener", class: "repo" }, m.repoId) : h("strong", { class: "repo" }, m.repoId),
            m.gated ? h("span", { class: "tag" }, "gated") : null,
            h("span", { class: "muted small" }, ` ${m.kind} · ${formatCount(m.downloads)} downloads · ${formatCount(m.likes)} likes · ${formatDate(m.releaseDate)}`)),
          h("div", { class: "small" }, [...m.formats, ...m.compatibleEngines.map((x) => `→ ${x}`)].map((t) => h("span", { class: "tag" }, t))),
          repoDetails(m.repoId),
          m.downloadOptions.length === 0
            ? h("p", { class: "muted small" }, "No download options known for this repo.")
            : h("table", { class: "options" },
              h("thead", {}, h("tr", {}, ["Quant", "Size", "Files", ""].map((t) => h("th", {}, t)))),
              h("tbody", {}, m.downloadOptions.map((o) => h("tr", { dataset: { quant: o.quant } },
                h("td", {}, o.quant),
                h("td", { class: "num" }, formatBytes(o.sizeBytes)),
                h("td", { class: "num", title: o.files.join("\n") }, String(o.files.length)),
                h("td", {}, h("button", { class: "small download", disabled: !canWrite, onclick: () => start(m.repoId, o) }, "Download"))))))))));
  }

  async function start(repoId, option) {
    message.className = "message";
    message.textContent = "";
    try {
      // a quant the Hub's names give is asked for by quant (every shard); anything else by its files
      const body = /^[\w.+-]{1,64}$/.test(option.quant) ? { repoId, quant: option.quant } : { repoId, files: option.files };
      const { id } = await api.download(body);
      trackOperation(id, "download");
      message.className = "message ok";
      message.textContent = `Downloading ${repoId} ${option.quant} (${formatBytes(option.sizeBytes)}).`;
      loadDownloads();
    } catch (e) {
      fail(e);
    }
  }

  async function control(d, action) {
    if (action === "cancel" && !(await confirmDialog(`Cancel the download of ${d.repo_id}? Its partial files are removed.`, "Cancel download"))) return;
    try {
      await api.controlDownload(d.download_id, action);
      if (action === "resume") message.textContent = `Resuming ${d.repo_id}.`;
    } catch (e) {
      fail(e);
    }
    loadDownloads();
  }

  /** The Downloads table's rows, by download id: made once, then changed in place. */
  const rows = new Map();

  // Read again at every download's progress (every 500 ms): a table rebuilt each time took the focus off the
  // button a keyboard user was on, and could swallow a click whose press and release fell on two buttons.
  async function loadDownloads() {
    let list;
    try {
      ({ downloads: list } = await api.downloads());
    } catch (e) {
      rows.clear();
      downloads.textContent = e.message;
      return;
    }
    if (list.length === 0) {
      rows.clear();
      clear(downloads).append(h("p", { class: "muted", id: "downloads-empty" }, "No downloads in progress or paused."));
      return;
    }
    let tbody = downloads.querySelector("#downloads-table tbody");
    if (!tbody) {
      rows.clear();
      tbody = h("tbody");
      clear(downloads).append(h("table", { class: "downloads", id: "downloads-table" },
        h("thead", {}, h("tr", {}, ["Repo", "What", "Status", "Done", ""].map((t) => h("th", {}, t)))),
        tbody));
    }
    const ids = new Set(list.map((d) => d.download_id));
    for (const [id, row] of rows) {
      if (ids.has(id)) continue;
      row.tr.remove();
      rows.delete(id);
    }
    list.forEach((d, i) => {
      let row = rows.get(d.download_id);
      if (!row) {
        row = downloadRow();
        rows.set(d.download_id, row);
      }
      row.fill(d);
      if (tbody.rows[i] !== row.tr) tbody.insertBefore(row.tr, tbody.rows[i] ?? null); // moved only when out of place
    });
  }

  function downloadRow() {
    let current = null;
    const active = (d) => ["queued", "downloading", "pausing", "cancelling"].includes(d.status);
    const repo = h("td");
    const what = h("td");
    const statusText = document.createTextNode("");
    const error = h("div", { class: "error small" });
    const done = h("td", { class: "num" });
    const toggle = h("button", { disabled: !canWrite, onclick: () => control(current, active(current) ? "pause" : "resume") });
    const cancel = h("button", { class: "small danger cancel", disabled: !canWrite, onclick: () => control(current, "cancel") }, "Cancel");
    const tr = h("tr", {}, repo, what, h("td", { class: "status" }, statusText, error), done, h("td", {}, toggle, " ", cancel));
    return {
      tr,
      fill(d) {
        current = d;
        Object.assign(tr.dataset, { id: d.download_id, status: d.status });
        repo.textContent = d.repo_id;
        what.textContent = d.download_request?.quant ?? (d.filenames.length === 1 ? d.filenames[0] : `${d.filenames.length} files`);
        statusText.data = d.status;
        error.textContent = d.error ?? "";
        error.hidden = !d.error;
        done.textContent = `${formatBytes(d.downloaded_bytes ?? 0)} / ${formatBytes(d.total_bytes)}`;
        toggle.className = active(d) ? "small pause" : "small resume";
        toggle.textContent = active(d) ? "Pause" : "Resume";
      },
    };
  }

  return {
    dispose() {
      stop();
      searching?.abort();
      clearTimeout(pending);
    },
  };
}

/** The repo's model card fields and files, fetched when opened. */
function repoDetails(repoId) {
  const body = h("div", { class: "small" }, "Loading…");
  const el = h("details", { class: "repo-details" }, h("summary", {}, "Model card and files"), body);
  let loaded = false;
  el.addEventListener("toggle", async () => {
    if (!el.open || loaded) return;
    loaded = true;
    try {
      const d = await api.hubInfo(repoId);
      const card = d.cardData ?? {};
      const pairs = [
        ["commit", d.commitSha], ["library", d.libraryName], ["license", card.license], ["base model", [].concat(card.base_model ?? []).join(", ")],
        ["language", [].concat(card.language ?? []).join(", ")], ["pipeline", card.pipeline_tag],
      ].filter(([, v]) => v !== null && v !== undefined && v !== "");
      clear(body).append(
        h("dl", {}, pairs.map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))])),
        h("table", { class: "files" },
          h("tbody", {}, d.files.map((f) => h("tr", {}, h("td", { class: "path" }, f.path), h("td", { class: "num" }, formatBytes(f.size)))))));
    } catch (e) {
      body.textContent = e.message;
      body.className = "small error";
    }
  });
  return el;
}
