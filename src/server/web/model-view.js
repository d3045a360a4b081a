// One model: every field, its files with sizes and hashes, where it came from, the metadata.json as stored,
// a form to edit its display name, tags and notes, and verify / redetect / delete; look its Hub repo up (as
// `mlib lookup ID [--force]`), and fetch the missing shards of an incomplete split file (`mlib download --complete`).
import { api } from "./api.js";
import { h, clear } from "./dom.js";
import { formatBytes, formatCount, formatDate } from "./format.js";
import { confirmDialog } from "./confirm.js";
import { operationEnd, trackOperation } from "./operations.js";
import { back, go, navigate } from "./router.js";
import { session } from "./session.js";

export function createModelView(root, id) {
  // The view draws into the page's one view element: once the user has gone to another view, an answer that
  // arrives late must not draw this one over it.
  let gone = false;
  load();

  async function load() {
    // Drawn again after a save, a lookup or a redetect: the control that had the focus gets it back (by its id),
    // rather than the keyboard's place going back to the top of the page.
    const focused = root.contains(document.activeElement) ? document.activeElement.id : "";
    clear(root).append(h("p", { class: "muted" }, "Loading…"));
    let d;
    try {
      if (!id) throw new Error("No model given: a model's page is /model?id=<its id>.");
      d = await api.model(id);
    } catch (e) {
      if (gone) return;
      clear(root).append(h("p", { class: "message error" }, e.message), h("a", { href: "/", onclick: (ev) => navigate(ev, "/") }, "Back to the list"));
      return;
    }
    if (gone) return;
    render(d);
    if (focused) document.getElementById(focused)?.focus({ preventScroll: true });
  }

  function render(d) {
    const { record: r, metadata: m } = d;
    const canWrite = session.authorized;
    const result = h("div", { id: "action-result", class: "message" });
    const buttons = h("div", { class: "actions" },
      h("button", { id: "verify", disabled: !canWrite, onclick: () => start("verify") }, "Verify"),
      h("button", { id: "redetect", disabled: !canWrite, onclick: () => start("redetect") }, "Redetect"),
      h("button", { id: "lookup", disabled: !canWrite, onclick: lookup, title: "find this model's Hub repo: a Hub file with the same SHA-256 is an exact match" }, "Look up on the Hub"),
      h("label", { class: "small", title: "also redo a repo set (or refused) by hand" }, h("input", { type: "checkbox", id: "lookup-force" }), " even if set by hand"),
      h("button", { id: "delete", class: "danger", disabled: !canWrite, onclick: remove }, "Delete…"));
    const missing = d.missingShards?.length
      ? h("div", { class: "message error", id: "missing-shards" },
        `Incomplete: ${d.missingShards.length} shard${d.missingShards.length === 1 ? "" : "s"} missing (${d.missingShards.slice(0, 5).join(", ")}${d.missingShards.length > 5 ? ", …" : ""}). `,
        h("button", { id: "complete-download", disabled: !canWrite || !m.repo_id, onclick: complete, title: m.repo_id ? `from ${m.repo_id}` : "its Hub repo is not known: look it up first" }, m.repo_id ? `Download the missing shards from ${m.repo_id}` : "Download the missing shards (look up its repo first)"))
      : null;

    /** Runs an operation the page started, shows its progress in the panel, and returns its end event. */
    async function follow(start, op, label) {
      result.className = "message";
      result.textContent = `${label}: starting…`;
      const { id: opId } = await start();
      trackOperation(opId, op);
      return operationEnd(opId);
    }

    async function lookup() {
      try {
        const force = document.getElementById("lookup-force")?.checked ?? false;
        const e = await follow(() => api.lookup([r.id], force), "lookup", "Hub lookup");
        if (!root.contains(result)) return;
        const x = e.summary?.results?.[0];
        if (e.state !== "done" || !x) throw new Error(`lookup ${e.state}${e.error ? `: ${e.error.message}` : ""}`);
        const how = x.method ? ` (${x.method}${x.confidence !== null ? `, confidence ${x.confidence}` : ""})` : "";
        const text = {
          matched: `Hub lookup: matched ${x.repoId}${how}.`,
          candidate: `Hub lookup: a possible match, ${x.repoId}${how}: not recorded (it needs confirmation).`,
          "no-match": "Hub lookup: no repo on the Hub matches this model.",
          "kept-manual": `Hub lookup: kept what was set by hand${x.repoId ? ` (${x.repoId})` : ""}; tick “even if set by hand” to redo it.`,
          error: `Hub lookup failed: ${x.error ?? "error"}`,
        }[x.outcome] ?? `Hub lookup: ${x.outcome}`;
        await load();
        const again = document.getElementById("action-result");
        if (again) {
          again.className = x.outcome === "error" ? "message error" : "message ok";
          again.textContent = text;
        }
      } catch (err) {
        result.className = "message error";
        result.textContent = err.message;
      }
    }

    async function complete() {
      try {
        const e = await follow(() => api.completeDownload(r.id), "download", "Downloading the missing shards");
        if (!root.contains(result)) return;
        if (e.state !== "done") throw new Error(`download ${e.state}${e.error ? `: ${e.error.message}` : ""}`);
        await load();
        const again = document.getElementById("action-result");
        if (again) {
          again.className = "message ok";
          again.textContent = `Downloaded the missing shards: ${e.summary.fetchedBytes.toLocaleString("en-US")} bytes.`;
        }
      } catch (err) {
        result.className = "message error";
        result.textContent = err.message;
      }
    }

    async function start(op) {
      result.className = "message";
      result.textContent = `${op}: starting…`;
      try {
        const { id: opId } = op === "verify" ? await api.verify([r.id]) : await api.redetect([r.id]);
        trackOperation(opId, op);
        const e = await operationEnd(opId);
        if (!root.contains(result)) return; // the user has moved on
        if (e.state === "done" && op === "verify") {
          const ok = e.summary.failed === 0;
          result.className = ok ? "message ok" : "message error";
          result.textContent = ok ? "Verified: every file matches its recorded hashes." : `Verify FAILED: ${describeFailure(e.summary.failures[0])}`;
        } else if (e.state === "done") {
          result.className = "message ok";
          result.textContent = e.summary.changed ? "Redetected: the identification changed." : "Redetected: nothing changed.";
          if (e.summary.changed) load();
        } else {
          result.className = "message error";
          result.textContent = `${op} ${e.state}${e.error ? `: ${e.error.message}` : ""}`;
        }
      } catch (e) {
        result.className = "message error";
        result.textContent = e.message;
      }
    }

    async function remove() {
      const linked = d.links.length;
      const also = linked ? ` Its ${linked} link${linked === 1 ? "" : "s"} in apps (listed on this page) will be removed too.` : "";
      if (!(await confirmDialog(`Delete ${r.id} and its ${formatBytes(r.sizeBytes)} of files from the library?${also} This cannot be undone.`))) return;
      try {
        // cascade only when the page showed links: with none shown, a link made meanwhile is refused (409), not removed unseen
        await api.remove(r.id, linked > 0);
        go("/", { replace: true }); // its page is gone: Back leads to where the user was before it
      } catch (e) {
        result.className = "message error";
        result.textContent = e.message;
      }
    }

    const fields = [
      ["id", r.id], ["folder", d.folder], ["type", [r.modelType, r.subtype].filter(Boolean).join(" / ")], ["family", r.family],
      ["architecture", r.architecture], ["format", [r.format, m.security_tier ? `(${m.security_tier})` : null].filter(Boolean).join(" ")],
      ["quantization", r.quantization], ["parameters", r.parameterCount ? formatCount(r.parameterCount) : null],
      ["context length", r.contextLength], ["size", `${formatBytes(r.sizeBytes)} (${r.sizeBytes.toLocaleString("en-US")} bytes)`],
      ["tags", r.tags.join(", ")], ["description", m.description], ["notes", m.notes], ["base model", m.base_model?.join(", ")],
      ["sha256", r.hashes.sha256], ["blake3", r.hashes.blake3], ["added", formatDate(r.addedAt)], ["updated", formatDate(r.updatedAt)],
      ["expected files", m.expected_files?.join(", ")], ["edited by hand", Array.isArray(m.manual_fields) ? m.manual_fields.join(", ") : null],
    ];
    const provenance = [
      ["Hub repo", m.repo_id], ["download URL", m.download_url], ["matched by", [m.match_source, m.match_method].filter(Boolean).join(" / ")],
      ["match confidence", m.match_confidence], ["pending lookup", m.pending_online_lookup === null ? null : String(m.pending_online_lookup)],
      ["compatible apps", m.compatible_apps?.join(", ")],
    ];
    const files = m.files ?? [];

    clear(root).append(
      h("div", { class: "model-page", id: "model-page" },
        h("a", { href: "/", class: "back", onclick: (e) => { e.preventDefault(); back(); } }, "‹ Back"),
        h("h1", { id: "model-name" }, r.officialName || r.cleanedName),
        h("div", { class: "id" }, r.id),
        buttons,
        missing,
        result,
        h("div", { class: "columns" },
          h("section", {}, h("h2", {}, "Fields"), definitionList(fields, "fields")),
          h("section", {},
            h("h2", {}, "Provenance"), definitionList(provenance, "provenance"),
            h("h2", {}, `Links into apps (${d.links.length})`), linksTable(d.links),
            editForm(r, m, canWrite, load))),
        h("h2", {}, `Files (${files.length})`),
        h("table", { class: "files", id: "files" },
          h("thead", {}, h("tr", {}, ["Name", "Size", "SHA-256", "BLAKE3"].map((t) => h("th", {}, t)))),
          h("tbody", {}, files.map((f) => h("tr", {},
            h("td", {}, f.name),
            h("td", { class: "num" }, formatBytes(f.size)),
            h("td", { class: "hash" }, f.sha256 ?? "-"),
            h("td", { class: "hash" }, f.blake3 ?? "-"))))),
        h("h2", {}, "metadata.json as stored"),
        h("pre", { class: "json", id: "metadata-json" }, d.metadataText),
      ),
    );
  }

  return {
    dispose() {
      gone = true;
    },
  };
}

function linksTable(links) {
  if (links.length === 0) return h("p", { class: "muted", id: "links" }, "Not linked into any app. Link it from Apps.");
  return h("table", { class: "links", id: "links" },
    h("thead", {}, h("tr", {}, ["App", "Link", "Kind"].map((t) => h("th", {}, t)))),
    h("tbody", {}, links.map((l) => h("tr", {}, h("td", {}, l.app_id), h("td", { class: "path" }, l.target), h("td", {}, l.clone ? "reflink" : l.link_type)))));
}

function describeFailure(f) {
  if (!f) return "";
  if (f.error) return f.error;
  return f.files.filter((x) => x.status !== "ok" && x.status !== "unhashed").map((x) => `${x.name}: ${x.status}`).join(", ");
}

function definitionList(pairs, id) {
  return h("dl", { id }, pairs.filter(([, v]) => v !== null && v !== undefined && v !== "").map(([k, v]) => [h("dt", {}, k), h("dd", {}, String(v))]));
}

function editForm(r, m, canWrite, reload) {
  const name = h("input", { id: "edit-name", value: m.official_name ?? r.officialName, maxlength: 300 });
  const tags = h("input", { id: "edit-tags", value: (m.tags ?? []).join(", "), placeholder: "comma-separated" });
  const notes = h("textarea", { id: "edit-notes", rows: 4 });
  notes.value = m.notes ?? "";
  const status = h("span", { class: "muted", id: "edit-status" });
  const form = h("form", { class: "edit", id: "edit-form" },
    h("h2", {}, "Edit"),
    h("label", {}, "Display name", name),
    h("label", {}, "Tags", tags),
    h("label", {}, "Notes", notes),
    h("div", {}, h("button", { type: "submit", id: "edit-save", disabled: !canWrite }, "Save"), " ", status),
    h("p", { class: "muted small" }, "The id and folder stay as they are; fields saved here are kept when the Hub is consulted."));
  const tagList = (text) => text.split(",").map((t) => t.trim()).filter(Boolean);
  // What the form showed, to send only what the user changed: a field sent is recorded as edited by hand,
  // and a Hub lookup then never fills it (saving a note froze the name and tags against the Hub).
  const shown = { name: name.value, tags: tagList(tags.value), notes: notes.value };
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const fields = {};
    if (name.value !== shown.name) fields.name = name.value;
    if (tagList(tags.value).join("\0") !== shown.tags.join("\0")) fields.tags = tagList(tags.value);
    if (notes.value !== shown.notes) fields.notes = notes.value;
    status.className = "muted";
    if (Object.keys(fields).length === 0) {
      status.textContent = "nothing changed";
      return;
    }
    status.textContent = "saving…";
    try {
      await api.edit(r.id, fields);
      await reload();
      // the page was drawn again: its new form says it
      const saved = document.getElementById("edit-status");
      if (saved) saved.textContent = "saved";
    } catch (err) {
      status.textContent = err.message;
      status.className = "error";
    }
  });
  return form;
}
