// `mlib adopt`: gives model folders found in the library without a metadata.json (copied in by hand,
// left by another tool) their metadata, and reports shard sets that are missing files.
import type { Command } from "commander";
import { commonOptions, markFailed, requireFolder, withCommonOptions, withLibrary } from "../common.js";
import { err, out, printJson } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("adopt")
    .description("index model folders inside the library that have no metadata.json; report incomplete shard sets")
    .option("--allow-pickle", "also index folders holding pickle weights (loading them can run arbitrary code)")
    .action(async () => {
      const common = commonOptions(cmd);
      const { adoptOrphans } = await import("../../operations/adopt-orphans.js");
      await withLibrary(requireFolder(common), async (lib) => {
        const allowPickle = Boolean(cmd.opts<{ allowPickle?: boolean }>().allowPickle);
        const result = await adoptOrphans(lib, { allowPickle }, { signal: cliSignal() });
        const { incomplete } = result;
        // A shard set left unadopted is a failure, as at import (refused) and in the doctor (a problem): a script
        // must not take "nothing adopted" for success.
        if (result.errors.length > 0 || incomplete.length > 0) markFailed();
        if (common.json) {
          printJson(result);
          return;
        }
        for (const id of result.adopted) out(`adopted     ${id}`);
        for (const o of incomplete) out(`incomplete  ${o.dir}: missing ${o.missingFiles.join(", ")} (has ${o.weightFiles.join(", ")})`);
        for (const e of result.errors) err(`${e.dir}: ${e.error}`);
        for (const w of result.warnings) err(`warning: ${w}`);
        if (incomplete.length > 0) {
          const sets = `${incomplete.length} incomplete shard set${incomplete.length === 1 ? "" : "s"}`;
          err(`${sets} not adopted: put the missing files beside the others and run mlib adopt again`);
        }
        out(`${result.orphansFound} folder${result.orphansFound === 1 ? "" : "s"} without metadata: ${result.adopted.length} adopted, ${incomplete.length} incomplete, ${result.errors.length} failed`);
      });
    });
  withCommonOptions(cmd);
}
