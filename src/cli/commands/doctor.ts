// `mlib doctor [--fix]`: everything that can be wrong with the library, each with its remedy; --fix applies
// the safe ones and says what it did. Exit status 1 while any problem remains.
import type { Command } from "commander";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { err, out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("doctor")
    .description("check the library for everything that can be wrong (staging left behind, folders without metadata, corrupt metadata, index out of step, unhashed or changed files...); --fix applies the safe fixes")
    .option("--fix", "apply the safe fixes")
    .action(async (opts: { fix?: boolean }) => {
      const common = commonOptions(cmd);
      const { runDoctor } = await import("../../doctor/run-doctor.js");
      await withLibrary(common, async (lib) => {
        // Extension point: the mapper's link checks are passed in `checks` once its registry is merged.
        const r = await runDoctor(lib, { fix: opts.fix === true, checks: [] });
        if (r.problems.length > 0 || r.fixErrors.length > 0) markFailed();
        if (common.json) {
          printJson(r);
          return;
        }
        for (const f of r.fixed) out(`fixed       ${f.did}`);
        for (const e of r.fixErrors) err(`${e.path}: fix failed: ${e.error}`);
        for (const p of r.problems) {
          out(`${p.kind.padEnd(22)} ${p.path}${p.id ? ` (${p.id})` : ""}: ${p.message}`);
          out(`${"".padEnd(22)} → ${p.remedy}`);
        }
        const fixHint = r.fixable > 0 && !opts.fix ? `; ${r.fixable} can be fixed safely with \`mlib doctor --fix\`` : "";
        out(r.problems.length === 0
          ? `${r.modelsChecked} models checked: no problems${r.fixed.length ? ` (after ${r.fixed.length} fixes)` : ""}`
          : `${r.modelsChecked} models checked: ${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}${fixHint}`);
      });
    });
  withCommonOptions(cmd);
}
