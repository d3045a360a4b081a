// `mlib unlink --app APP --root DIR`: removes exactly the links we made there (each proven ours first).
import type { Command } from "commander";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("unlink")
    .description("remove the links mlib made for an app in a folder, and nothing else")
    .requiredOption("--app <app>", "app profile id")
    .requiredOption("--root <dir>", "the app's models folder given to `map apply`")
    .action(async () => {
      const common = commonOptions(cmd);
      const o = cmd.opts<{ app: string; root: string }>();
      const { unlinkApp } = await import("../../mapper/unlink-app.js");
      await withLibrary(common, async (lib) => {
        const r = await unlinkApp(lib, { app: o.app, root: o.root });
        if (r.errors.length > 0) markFailed();
        if (common.json) return printJson(r);
        for (const x of r.outcomes) if (x.outcome === "kept") out(`kept      ${x.target}  (${x.reason ?? "not ours any more"})`);
        for (const e of r.errors) out(`error     ${e.message}`);
        out(`${r.removed} removed, ${r.gone} already gone, ${r.kept} kept (left on disk), ${r.errors.length} errors`);
      }, { reconcile: "none", create: false });
    });
  withCommonOptions(cmd);
}
