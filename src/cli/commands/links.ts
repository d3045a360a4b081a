// `mlib links [--app APP] [--model ID]`, `mlib links check` (exit 1 unless all healthy), `mlib links repair
// [--forget-unreadable]`.
import type { Command } from "commander";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { err, out, printJson } from "../output.js";

interface Filter {
  app?: string;
  model?: string;
}

function filtered(cmd: Command): Command {
  return cmd.option("--app <app>", "only the links of this app profile").option("--model <id>", "only the links of this model");
}

export function register(program: Command): void {
  const links = filtered(program.command("links").description("the links made into apps (subcommands: check, repair)"));
  links.action(async () => {
    const common = commonOptions(links);
    const f = links.opts<Filter>();
    const { listLinks } = await import("../../mapper/list-links.js");
    await withLibrary(common, async (lib) => {
      const entries = await listLinks(lib, { app: f.app, model: f.model });
      if (common.json) return printJson({ links: entries });
      for (const e of entries) out(`${e.app_id.padEnd(9)} ${e.link_type.padEnd(8)} ${e.target}  <- ${e.model_id}${e.pending ? "  (unfinished)" : ""}`);
      out(`${entries.length} link${entries.length === 1 ? "" : "s"}`);
    }, { reconcile: "none", create: false });
  });
  withCommonOptions(links);

  const check = filtered(links.command("check").description("the state of each link: healthy, broken, changed, foreign, missing (exit 1 unless all healthy)"));
  check.action(async () => {
    const common = commonOptions(check);
    const f = { ...links.opts<Filter>(), ...check.opts<Filter>() };
    const { checkLinks } = await import("../../mapper/check-links.js");
    await withLibrary(common, async (lib) => {
      const r = await checkLinks(lib, { app: f.app, model: f.model });
      if (!r.ok) markFailed();
      if (common.json) return printJson({ ok: r.ok, counts: r.counts, links: r.links.map((l) => ({ ...l.entry, status: l.status, detail: l.detail })) });
      for (const l of r.links) if (l.status !== "healthy") out(`${l.status.padEnd(8)} ${l.entry.target}  (${l.detail})`);
      out(Object.entries(r.counts).map(([k, v]) => `${v} ${k}`).join(", "));
    }, { reconcile: "none", create: false });
  });
  withCommonOptions(check);

  const repair = filtered(links.command("repair").description("re-make broken links of ours, forget those the user removed or replaced"))
    .option("--forget-unreadable", "also forget the links that cannot be looked at (their disk gone for good); kept otherwise");
  repair.action(async () => {
    const common = commonOptions(repair);
    const f = { ...links.opts<Filter>(), ...repair.opts<Filter & { forgetUnreadable?: boolean }>() };
    const { repairLinks } = await import("../../mapper/repair-links.js");
    await withLibrary(common, async (lib) => {
      const r = await repairLinks(lib, { app: f.app, model: f.model, forgetUnreadable: Boolean(f.forgetUnreadable) });
      if (r.errors.length > 0) markFailed();
      if (common.json) return printJson(r);
      for (const a of r.actions) out(`${a.action.padEnd(9)} ${a.target}  (${a.was}${a.detail ? `: ${a.detail}` : ""})`);
      for (const e of r.errors) out(`error     ${e.message}`);
      const unreadable = r.errors.filter((e) => e.unreadable).length;
      if (unreadable > 0) {
        // Kept on purpose (a disk unplugged for now); the way to drop them when it is gone for good.
        const scope = [f.app ? ` --app ${f.app}` : "", f.model ? ` --model ${f.model}` : ""].join("");
        err(`${unreadable} link${unreadable === 1 ? "" : "s"} cannot be looked at and ${unreadable === 1 ? "is" : "are"} kept; if ${unreadable === 1 ? "its" : "their"} disk is gone for good: mlib links repair --forget-unreadable${scope}`);
      }
      out(`${r.actions.length} repaired, ${r.healthy} healthy, ${r.errors.length} errors`);
    }, { create: false });
  });
  withCommonOptions(repair);
}
