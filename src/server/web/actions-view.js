// Operations on the whole library: import a path on this machine, verify or redetect every model. Their
// progress shows in the corner (operations.js); the outcome of the recent ones is listed here.
import { api } from "./api.js";
import { h, clear } from "./dom.js";
import { onOperationEnd, trackOperation } from "./operations.js";
import { session } from "./session.js";

export function createActionsView(root) {
  const canWrite = session.authorized;
  const path = h("input", { id: "import-path", "aria-label": "file or folder to import", placeholder: "/home/me/Downloads/model.gguf or a folder", size: 60 });
  const mode = h("select", { id: "import-mode", "aria-label": "import mode" }, ["copy", "move", "hardlink", "reflink"].map((m) => h("option", { value: m }, m)));
  const pickle = h("input", { type: "checkbox", id: "allow-pickle" });
  const duplicate = h("input", { type: "checkbox", id: "allow-duplicate" });
  const incomplete = h("input", { type: "checkbox", id: "allow-incomplete" });
  const message = h("div", { class: "message", id: "actions-message" });
  const recent = h("div", { id: "recent" });

  async function run(start) {
    message.className = "message";
    message.textContent = "";
    try {
      const { id, op } = await start();
      trackOperation(id, op);
    } catch (e) {
      message.className = "message error";
      message.textContent = e.message;
    }
  }

  const importForm = h("form", { class: "card", id: "import-form" },
    h("h2", {}, "Import"),
    h("p", { class: "muted" }, "A file or a folder on this machine (folders are walked: every model in them is imported on its own). The source is never changed unless the mode is move."),
    h("div", { class: "row" }, path, mode, h("button", { type: "submit", disabled: !canWrite }, "Import")),
    h("div", { class: "row small" },
      h("label", {}, pickle, " allow pickle (can run code when loaded)"),
      h("label", {}, duplicate, " store duplicates"),
      h("label", {}, incomplete, " allow incomplete shard sets")));
  importForm.addEventListener("submit", (e) => {
    e.preventDefault();
    const p = path.value.trim();
    if (!p) return;
    run(() => api.importPaths([p], { mode: mode.value, allowPickle: pickle.checked, allowDuplicate: duplicate.checked, allowIncomplete: incomplete.checked }));
  });

  clear(root).append(
    h("div", { class: "actions-page" },
      h("h1", {}, "Import & verify"),
      importForm,
      h("div", { class: "card" },
        h("h2", {}, "Every model"),
        h("p", { class: "muted" }, "Verify re-hashes every stored file against its recorded SHA-256 and BLAKE3; redetect re-identifies models from their bytes (choices made by hand are kept)."),
        h("button", { id: "verify-all", disabled: !canWrite, onclick: () => run(() => api.verify([])) }, "Verify all"), " ",
        h("button", { id: "redetect-all", disabled: !canWrite, onclick: () => run(() => api.redetect([])) }, "Redetect all")),
      message,
      h("h2", {}, "Recent operations"),
      recent));

  async function loadRecent() {
    try {
      const { operations } = await api.operations();
      clear(recent);
      if (operations.length === 0) recent.append(h("p", { class: "muted" }, "none yet"));
      const list = h("ul", { class: "recent" });
      for (const o of operations.slice().reverse()) {
        list.append(h("li", {}, h("strong", {}, o.op), ` ${o.state} — started ${o.startedAt.slice(11, 19)}`, o.error ? h("span", { class: "error" }, `: ${o.error.message}`) : null, describe(o)));
      }
      recent.append(list);
    } catch (e) {
      recent.textContent = e.message;
    }
  }
  loadRecent();
  const stop = onOperationEnd(loadRecent);
  return { dispose: stop };
}

function describe(o) {
  const s = o.summary;
  if (o.state !== "done" || !s) return null;
  if (o.op === "import") {
    return h("ul", {}, s.models.slice(0, 20).map((r) => h("li", { class: r.status === "failed" ? "error" : "" }, `${r.status}: ${r.source}${r.modelId ? ` → ${r.modelId}` : ""}${r.duplicateOf ? ` (already in ${r.duplicateOf})` : ""}${r.error ? ` — ${r.error.message}` : ""}`)));
  }
  if (o.op === "verify") return h("span", {}, ` — ${s.ok} OK, ${s.failed} failed${s.failed ? `: ${s.failures.slice(0, 5).map((r) => r.id).join(", ")}` : ""}`);
  if (o.op === "redetect") return h("span", {}, ` — ${s.changed} changed, ${s.unchanged} unchanged${s.errors ? `, ${s.errors} errors` : ""}`);
  return null;
}
