// `mlib doctor [--fix]`: everything that can be wrong with the library, each with its remedy; --fix applies
// the safe ones and says what it did. Exit status 1 while any problem remains (notices, such as models an older mlib
// identified, are shown and do not count).
import type { Command } from "commander";
import type { DoctorCheck, DoctorProblem } from "../../doctor/doctor-types.js";
import type { ModelLibrary } from "../../operations/index.js";
import { cliSignal } from "../signals.js";
import { commonOptions, markFailed, requireFolder, withCommonOptions, withLibrary } from "../common.js";
import { err, out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("doctor")
    .description("check the library for everything that can be wrong (staging left behind, folders without metadata, corrupt metadata, index out of step, unhashed or changed files...); --fix applies the safe fixes")
    .option("--fix", "apply the safe fixes")
    .action(async (opts: { fix?: boolean }) => {
      const common = commonOptions(cmd);
      const { runDoctor } = await import("../../doctor/run-doctor.js");
      await withLibrary(requireFolder(common), async (lib) => {
        // The doctor cannot import a feature; the CLI passes the mapper's link check in.
        const r = await runDoctor(lib, { fix: opts.fix === true, checks: [linkCheck(lib)] }, { signal: cliSignal() });
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
        for (const n of r.notices) {
          out(`${`notice: ${n.kind}`.padEnd(22)} ${n.message}`);
          out(`${"".padEnd(22)} → ${n.remedy}`);
        }
        const fixHint = r.fixable > 0 && !opts.fix ? `; ${r.fixable} can be fixed safely with \`mlib doctor --fix\`` : "";
        const notes = r.notices.length > 0 ? ` (${r.notices.length} notice${r.notices.length === 1 ? "" : "s"})` : "";
        out(r.problems.length === 0
          ? `${r.modelsChecked} models checked: no problems${r.fixed.length ? ` (after ${r.fixed.length} fixes)` : ""}${notes}`
          : `${r.modelsChecked} models checked: ${r.problems.length} problem${r.problems.length === 1 ? "" : "s"}${fixHint}${notes}`);
      });
    });
  withCommonOptions(cmd);
}

/** Links we made into app folders that are broken (ours, dangling: re-created by the fix), gone, or changed. */
function linkCheck(lib: ModelLibrary): DoctorCheck {
  return {
    name: "links",
    async run(signal) {
      const { checkLinks } = await import("../../mapper/check-links.js");
      const { repairLinks } = await import("../../mapper/repair-links.js");
      const checked = await checkLinks(lib, {}, { signal });
      return checked.links
        .filter((l) => l.status !== "healthy")
        .map((l): DoctorProblem => {
          const repairable = l.status === "broken" || l.status === "missing";
          return {
            kind: "link",
            path: l.entry.target,
            id: l.entry.model_id,
            message: `link for app ${l.entry.app_id} is ${l.status}${l.detail ? ` (${l.detail})` : ""}`,
            remedy: repairable
              ? "mlib links repair (re-creates ours that broke, forgets ours the user removed)"
              : l.status === "unreadable"
                ? `left alone: it cannot be looked at (a folder you cannot read, a disk not mounted); check again once it can, or if its disk is gone for good: mlib links repair --forget-unreadable --app ${l.entry.app_id} --model ${l.entry.model_id}`
                : "left alone: the file there is not (or no longer) ours; check it by hand",
            fix: repairable
              ? async () => {
                  const r = await repairLinks(lib, { model: l.entry.model_id, app: l.entry.app_id });
                  return `links of ${l.entry.model_id} in ${l.entry.app_id} repaired (${r.actions.length} action(s))`;
                }
              : undefined,
          };
        });
    },
  };
}
