// `mlib map preview|apply|config APP --root DIR`: link the library's models into an app's folders, or write
// the app's own configuration so it reads them in place.
import { Option, type Command } from "commander";
import type { ModelLibrary } from "../../operations/index.js";
import { commonOptions, markFailed, withCommonOptions, withLibrary, type CommonOptions } from "../common.js";
import { out, printJson } from "../output.js";

interface MapOptions {
  root: string;
  appVersion?: string;
  onConflict?: "skip" | "rename" | "overwrite";
  link?: "auto" | "symlink" | "hardlink" | "reflink" | "copy";
}

function sub(map: Command, name: string, description: string, run: (lib: ModelLibrary, app: string, o: MapOptions, common: CommonOptions) => Promise<void>): Command {
  const cmd = map
    .command(name)
    .description(description)
    .argument("<app>", "app profile id (see `mlib apps`)")
    .requiredOption("--root <dir>", "the app's models folder, e.g. ~/ComfyUI/models (nothing is made outside its parent)")
    .option("--app-version <version>", "the app's version: selects version-specific configs and overrides.json version_ranges")
    .action(async (app: string) => {
      const common = commonOptions(cmd);
      const o = cmd.opts<MapOptions>();
      await withLibrary(common, (lib) => run(lib, app, o, common), { create: false });
    });
  withCommonOptions(cmd);
  return cmd;
}

function rel(p: string, root: string): string {
  return p.startsWith(`${root}/`) ? p.slice(root.length + 1) : p;
}

export function register(program: Command): void {
  // The common options on the group too, as on `links`: `mlib map --json preview APP` works like `... preview APP --json`.
  const map = withCommonOptions(program.command("map").description("map the library's models into an app (preview, apply, or write the app's config)"));

  sub(map, "preview", "show what apply would create, leave, replace, and every conflict", async (lib, app, o, common) => {
    const { previewMapping } = await import("../../mapper/preview-mapping.js");
    const p = await previewMapping(lib, { app, root: o.root, appVersion: o.appVersion ?? null });
    if (common.json) return printJson(p);
    for (const n of p.notes) out(`note: ${n}`);
    for (const c of p.creates) out(`create    ${rel(c.target, p.root)}  <- ${c.modelId}`);
    for (const c of p.replaces) out(`replace   ${rel(c.target, p.root)}  <- ${c.modelId}  (${c.reason})`);
    for (const c of p.conflicts) out(`conflict  ${rel(c.target, p.root)}  <- ${c.modelId}  (${c.reason})`);
    for (const x of p.excluded) out(`excluded  ${x.modelId}  (${x.reason})`);
    out(`${p.creates.length} to create, ${p.replaces.length} to replace, ${p.skips.length} already in place, ${p.conflicts.length} conflicts`);
  });

  const apply = sub(map, "apply", "make the links (conflicts: skip, rename ours, or move the user's file aside)", async (lib, app, o, common) => {
    const { applyMapping } = await import("../../mapper/apply-mapping.js");
    const r = await applyMapping(lib, { app, root: o.root, appVersion: o.appVersion ?? null, onConflict: o.onConflict, link: o.link });
    if (r.errors.length > 0) markFailed();
    if (common.json) return printJson(r);
    for (const n of r.notes) out(`note: ${n}`);
    for (const m of r.made) out(`${m.action.padEnd(9)} ${rel(m.target, r.root)}  (${m.method})${m.movedAside ? `  your file moved to ${m.movedAside}` : ""}`);
    for (const c of r.conflicts) out(`left      ${rel(c.target, r.root)}  (${c.reason})`);
    for (const e of r.errors) out(`error     ${e.message}`);
    out(`${r.made.length} made, ${r.existing} already in place, ${r.conflicts.length} conflicts left, ${r.errors.length} errors`);
  });
  apply
    .addOption(new Option("--on-conflict <policy>", "skip (default), rename (our link gets a free name), overwrite (the user's file is moved aside)").choices(["skip", "rename", "overwrite"]))
    .addOption(new Option("--link <method>", "auto (default: symlink, hardlink, reflink, copy), or one of them").choices(["auto", "symlink", "hardlink", "reflink", "copy"]));

  sub(map, "config", "write the app's own config to read the library in place (ComfyUI extra_model_paths.yaml; A1111/Forge flags)", async (lib, app, o, common) => {
    const { writeAppConfig } = await import("../../mapper/write-app-config.js");
    const r = await writeAppConfig(lib, { app, root: o.root, appVersion: o.appVersion ?? null });
    if (common.json) return printJson(r);
    if (r.kind === "comfyui-yaml") {
      out(r.changed ? `wrote section "model_library" of ${r.file}${r.backup ? ` (previous version: ${r.backup})` : ""}` : `${r.file} is already up to date`);
    } else if (r.flags.length > 0) {
      out(`add to COMMANDLINE_ARGS (webui-user.sh / webui-user.bat):`);
      out(r.flags.join(" "));
    }
    for (const n of r.notMapped) out(`not mapped: ${n.targetDir}: ${n.reason}`);
  });
}
