// `mlib reindex`: rebuilds the index (.model-library/index.db) from every metadata.json.
import type { Command } from "commander";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { err, formatMs, out, printJson } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("reindex")
    .description("rebuild the index from every metadata.json")
    .action(async () => {
      const common = commonOptions(cmd);
      const { reindexLibrary } = await import("../../operations/reindex-library.js");
      // Opening without a reconcile: the rebuild reads everything anyway.
      await withLibrary(
        common,
        async (lib) => {
          const report = await reindexLibrary(lib, {}, { signal: cliSignal() });
          const { models } = report;
          if (report.problems.length > 0) markFailed();
          if (common.json) {
            printJson(report);
            return;
          }
          for (const p of report.problems) err(`${p.id}: ${p.error}`);
          out(`reindexed ${models} model${models === 1 ? "" : "s"} in ${formatMs(report.elapsedMs)}` + (report.problems.length > 0 ? ` (${report.problems.length} unreadable)` : ""));
        },
        { reconcile: "none", create: false },
      );
    });
  withCommonOptions(cmd);
}
