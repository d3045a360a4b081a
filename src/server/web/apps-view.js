// Apps: link the library's models into an app's models folder (ComfyUI, A1111, Forge, llama.cpp, LM Studio,
// your own profiles). Preview first — what would be created, what is already there, what would be replaced
// and every conflict with its reason — then apply, as an operation with progress. Below, the links made, and
// unlink to remove exactly those of one app folder. The app and folder are kept in the URL (/apps?app=&root=).
// Where the app reads folders itself, "Write app config" says so in its own configuration instead of linking
// (ComfyUI's extra_model_paths.yaml; the flags of A1111/Forge). The links can be checked and repaired, for one
// app or all, with progress (as `mlib links check` / `mlib links repair`).
import { api } from "./api.js";
import { h, clear } from "./dom.js";
import { operationEnd, trackOperation } from "./operations.js";
import { session } from "./session.js";
import { confirmDialog } from "./confirm.js";
import { navigate } from "./router.js";

export function createAppsView(root) {
  const canWrite = session.authorized;
  const params = new URLSearchParams(location.search);
  const app = h("select", { id: "map-app" });
  const folder = h("input", { id: "map-root", "aria-label": "the app's models folder", size: 50, placeholder: "/home/me/ComfyUI/models", value: params.get("root") ?? "" });
  const conflict = h("select", { id: "map-conflict" }, [["skip", "skip conflicts"], ["rename", "rename ours"], ["overwrite", "move theirs aside"]].map(([v, t]) => h("option", { value: v }, t)));
  const link = h("select", { id: "map-link" }, ["auto", "symlink", "hardlink", "reflink", "copy"].map((v) => h("option", { value: v }, v)));
  const previewButton = h("button", { type: "submit", id: "map-preview" }, "Preview");
  const applyButton = h("button", { type: "button", id: "map-apply", disabled: true, onclick: apply }, "Apply");
  const unlinkButton = h("button", { type: "button", id: "map-unlink", class: "danger", disabled: !canWrite, onclick: unlink }, "Unlink…");
  const configButton = h("button", { type: "button", id: "map-config", disabled: !canWrite, onclick: writeConfig, title: "ComfyUI: write extra_model_paths.yaml; A1111/Forge: the command-line flags" }, "Write app config");
  const configResult = h("div", { id: "map-config-result" });
  const linksApp = h("select", { id: "links-app", "aria-label": "links of" }, h("option", { value: "" }, "all apps"));
  const checkButton = h("button", { type: "button", id: "links-check", disabled: !canWrite, onclick: () => checkOrRepair("check") }, "Check links");
  const repairButton = h("button", { type: "button", id: "links-repair", disabled: !canWrite, onclick: () => checkOrRepair("repair"), title: "re-make broken links of ours; forget those removed or replaced (their files stay)" }, "Repair links");
  const linksStatus = h("div", { class: "message", id: "links-status" });
  const linksProblems = h("div", { id: "links-problems" });
  const description = h("p", { class: "muted small", id: "map-app-description" });
  const message = h("div", { class: "message", id: "map-message" });
  const preview = h("div", { id: "map-preview-result" });
  const links = h("div", { id: "map-links" });
  let shown = null; // the form's values the preview on screen was made for

  const form = h("form", { class: "card", id: "map-form" },
    h("h2", {}, "Link models into an app"),
    h("p", { class: "muted" }, "The app's models folder: links are made inside it (its parent folder must exist); nothing outside the app's own folder is created or removed."),
    h("div", { class: "row" }, h("label", {}, "App ", app), folder),
    h("div", { class: "row small" }, h("label", {}, "conflicts: ", conflict), h("label", {}, "link: ", link)),
    description,
    h("div", { class: "row" }, previewButton, applyButton, configButton, unlinkButton));
  form.addEventListener("submit", (e) => {
    e.preventDefault();
    doPreview();
  });
  for (const input of [app, folder, conflict, link]) input.addEventListener("change", () => { applyButton.disabled = true; });

  clear(root).append(h("div", { class: "apps-page" }, h("h1", {}, "Apps"), form, message, configResult, preview,
    h("h2", {}, "Links made"),
    h("div", { class: "row" }, h("label", {}, "Links of ", linksApp), checkButton, repairButton),
    linksStatus, linksProblems, links));

  let appList = [];
  api.apps().then(({ apps }) => {
    appList = apps;
    for (const a of apps) {
      app.append(h("option", { value: a.id }, a.id));
      linksApp.append(h("option", { value: a.id }, a.id));
    }
    if (params.get("app")) app.value = params.get("app");
    describeApp();
  }, (e) => fail(e));
  app.addEventListener("change", describeApp);
  loadLinks();

  function describeApp() {
    const a = appList.find((x) => x.id === app.value);
    clear(description);
    if (a) description.append(a.description ?? "", h("br"), `Folders: ${a.folders.join(", ")}`);
  }

  function body() {
    return { app: app.value, root: folder.value.trim(), onConflict: conflict.value, link: link.value };
  }

  function fail(e) {
    message.className = "message error";
    message.textContent = e.message;
  }

  function remember() {
    const b = body();
    history.replaceState(history.state, "", `/apps?${new URLSearchParams({ app: b.app, root: b.root })}`);
  }

  async function doPreview() {
    message.className = "message";
    message.textContent = "";
    applyButton.disabled = true;
    if (!folder.value.trim()) return fail(new Error("give the app's models folder (an absolute path)"));
    remember();
    clear(preview).append(h("p", { class: "muted" }, "Previewing…"));
    try {
      const b = body();
      const { preview: p } = await api.previewMap(b);
      shown = JSON.stringify(b);
      renderPreview(p);
      applyButton.disabled = !canWrite || p.creates.length + p.replaces.length + (b.onConflict === "skip" ? 0 : p.conflicts.length) === 0;
    } catch (e) {
      clear(preview);
      fail(e);
    }
  }

  function renderPreview(p) {
    clear(preview).append(
      h("div", { class: "card", id: "preview" },
        h("h2", {}, `Preview: ${p.app}${p.appVersion ? ` ${p.appVersion}` : ""} → ${p.root}`),
        h("p", { id: "preview-counts" },
          `${p.creates.length} to create, ${p.skips.length} already there, ${p.replaces.length} to replace (broken links of ours), ${p.conflicts.length} conflicts, ${p.excluded.length} excluded`),
        p.notes.length ? h("ul", { class: "notes" }, p.notes.map((n) => h("li", {}, n))) : null,
        entries("Created", "preview-creates", p.creates),
        entries("Replaced", "preview-replaces", p.replaces),
        entries("Conflicts", "preview-conflicts", p.conflicts, true)));
  }

  async function apply() {
    if (JSON.stringify(body()) !== shown) return doPreview(); // the form changed since the preview: show the new one first
    applyButton.disabled = true;
    message.className = "message";
    message.textContent = "Applying…";
    try {
      const { id } = await api.applyMap(body());
      trackOperation(id, "map");
      const e = await operationEnd(id);
      if (!root.contains(message)) return;
      if (e.state === "done") {
        const s = e.summary;
        message.className = s.errors ? "message error" : "message ok";
        message.textContent = `Applied: ${s.made} links made, ${s.existing} already there, ${s.conflicts} conflicts left${s.errors ? `, ${s.errors} errors: ${s.firstErrors.map((x) => x.message).join("; ")}` : ""}.`;
      } else {
        fail(new Error(`apply ${e.state}${e.error ? `: ${e.error.message}` : ""}`));
      }
      clear(preview);
      loadLinks();
    } catch (e) {
      fail(e);
    }
  }

  async function unlink() {
    const b = body();
    if (!b.root) return fail(new Error("give the app's models folder (an absolute path)"));
    if (!(await confirmDialog(`Remove every link model-library made for ${b.app} in ${b.root}? Files that are not ours stay.`, "Unlink"))) return;
    try {
      const { id } = await api.unlink(b.app, b.root);
      trackOperation(id, "unlink");
      const e = await operationEnd(id);
      if (!root.contains(message)) return;
      message.className = e.state === "done" ? "message ok" : "message error";
      message.textContent = e.state === "done" ? `Unlinked: ${e.summary.removed} links removed.` : `unlink ${e.state}${e.error ? `: ${e.error.message}` : ""}`;
      clear(preview);
      loadLinks();
    } catch (e) {
      fail(e);
    }
  }

  async function writeConfig() {
    const b = body();
    if (!b.root) return fail(new Error("give the app's models folder (an absolute path)"));
    remember();
    message.className = "message";
    message.textContent = "";
    clear(configResult);
    try {
      const r = await api.mapConfig({ app: b.app, root: b.root });
      const lines = r.kind === "comfyui-yaml"
        ? [h("p", { class: "message ok", id: "map-config-message" }, r.changed ? `Wrote the ${"model_library"} section of ${r.file}${r.backup ? ` (the previous file is kept as ${r.backup})` : ""}: restart ComfyUI to see the models.` : `${r.file} already says this: nothing changed.`)]
        : [h("p", { class: "message ok", id: "map-config-message" }, `Start ${r.app} with these flags:`), h("pre", { class: "json", id: "map-config-flags" }, r.flags.join(" ") || "(none: no single library folder holds exactly one of its folders' models)")];
      if (r.notMapped.length) lines.push(h("ul", { class: "notes", id: "map-config-not-mapped" }, r.notMapped.map((n) => h("li", {}, `${n.targetDir}: ${n.reason}`))));
      configResult.append(h("div", { class: "card" }, h("h2", {}, `App config: ${r.app}`), lines));
    } catch (e) {
      fail(e);
    }
  }

  async function checkOrRepair(what) {
    const filter = linksApp.value ? { app: linksApp.value } : {};
    const op = `links-${what}`;
    checkButton.disabled = repairButton.disabled = true;
    linksStatus.className = "message";
    linksStatus.textContent = what === "check" ? "Checking…" : "Repairing…";
    clear(linksProblems);
    try {
      const { id } = what === "check" ? await api.linksCheck(filter) : await api.linksRepair(filter);
      trackOperation(id, op);
      const e = await operationEnd(id);
      if (!root.contains(linksStatus)) return;
      if (e.state !== "done") throw new Error(`${op} ${e.state}${e.error ? `: ${e.error.message}` : ""}`);
      const s = e.summary;
      if (what === "check") {
        linksStatus.className = s.ok ? "message ok" : "message error";
        linksStatus.textContent = `${s.checked} link${s.checked === 1 ? "" : "s"} checked: ${Object.entries(s.counts).map(([k, n]) => `${n} ${k}`).join(", ")}.`;
        if (s.problems.length) linksProblems.append(problemTable("links-problem-list", ["Link", "State", "Why"], s.problems.map((p) => [p.target, p.status, p.detail ?? ""])));
      } else {
        linksStatus.className = s.errors ? "message error" : "message ok";
        linksStatus.textContent = `Repaired: ${s.repaired} link${s.repaired === 1 ? "" : "s"} acted on, ${s.healthy} healthy, ${s.errors} error${s.errors === 1 ? "" : "s"}${s.errors ? `: ${s.firstErrors.map((x) => x.message).join("; ")}` : ""}.`;
        if (s.actions.length) linksProblems.append(problemTable("links-repair-list", ["Link", "Was", "Done"], s.actions.map((a) => [a.target, a.was, a.action])));
        loadLinks();
      }
    } catch (e) {
      linksStatus.className = "message error";
      linksStatus.textContent = e.message;
    } finally {
      checkButton.disabled = repairButton.disabled = !canWrite;
    }
  }

  async function loadLinks() {
    try {
      const { links: list } = await api.links();
      clear(links);
      if (list.length === 0) {
        links.append(h("p", { class: "muted" }, "No links yet."));
        return;
      }
      links.append(h("table", { class: "links", id: "links-table" },
        h("thead", {}, h("tr", {}, ["App", "Model", "Link", "Kind"].map((t) => h("th", {}, t)))),
        h("tbody", {}, list.map((l) => h("tr", { dataset: { target: l.target } },
          h("td", {}, l.app_id),
          h("td", {}, h("a", { href: `/model?id=${encodeURIComponent(l.model_id)}`, onclick: (ev) => navigate(ev, `/model?id=${encodeURIComponent(l.model_id)}`) }, l.model_id)),
          h("td", { class: "path" }, l.target),
          h("td", {}, l.clone ? "reflink" : l.link_type))))));
    } catch (e) {
      links.textContent = e.message;
    }
  }

  return {};
}

function problemTable(id, heads, rows) {
  return h("table", { class: "links", id },
    h("thead", {}, h("tr", {}, heads.map((t) => h("th", {}, t)))),
    h("tbody", {}, rows.map((cells) => h("tr", {}, cells.map((c, i) => h("td", i === 0 ? { class: "path" } : {}, c))))));
}

function entries(title, id, list, withReason = false) {
  if (list.length === 0) return null;
  return h("details", { id, open: list.length <= 50 },
    h("summary", {}, `${title} (${list.length})`),
    h("table", { class: "links" },
      h("thead", {}, h("tr", {}, ["Model", "Link", withReason ? "Why" : null].filter(Boolean).map((t) => h("th", {}, t)))),
      h("tbody", {}, list.slice(0, 500).map((x) => h("tr", {}, h("td", {}, x.modelId), h("td", { class: "path" }, x.target), withReason ? h("td", {}, x.reason ?? "") : null)))));
}
