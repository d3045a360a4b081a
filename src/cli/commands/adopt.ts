// `mlib adopt`: gives model folders found in the library without a metadata.json (copied in by hand,
// left by another tool) their metadata, and reports shard sets that are missing files.
import type { Command } from "commander";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { err, out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("adopt")
    .description("index model folders inside the library that have no metadata.json; report incomplete shard sets")
    .action(async () => {
      const common = commonOptions(cmd);
      const { adoptOrphans, incompleteShardReport } = await import("../../operations/import-in-place.js");
      await withLibrary(common, async (lib) => {
        const result = await adoptOrphans(lib);
        const incomplete = await incompleteShardReport(lib);
        if (result.errors.length > 0) markFailed();
        if (common.json) {
          printJson({ ...result, incomplete });
          return;
        }
        for (const id of result.adopted) out(`adopted     ${id}`);
        for (const o of incomplete) out(`incomplete  ${o.dir}: missing ${o.missingFiles.join(", ")} (has ${o.weightFiles.join(", ")})`);
        for (const e of result.errors) err(`${e.dir}: ${e.error}`);
        out(`${result.orphansFound} folder${result.orphansFound === 1 ? "" : "s"} without metadata: ${result.adopted.length} adopted, ${incomplete.length} incomplete, ${result.errors.length} failed`);
      });
    });
  withCommonOptions(cmd);
}
