// `mlib restore ID`: puts back metadata.json from metadata.json.bak (after a bad edit or a corrupt write).
import type { Command } from "commander";
import { commonOptions, withCommonOptions, withLibrary } from "../common.js";
import { out, printJson } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("restore")
    .description("restore a model's metadata.json from its backup (metadata.json.bak)")
    .argument("<id>", "model id (its folder relative to the library)")
    .action(async (id: string) => {
      const common = commonOptions(cmd);
      const { restoreMetadata } = await import("../../operations/restore-metadata.js");
      await withLibrary(common, async (lib) => {
        const result = await restoreMetadata(lib, { id }, { signal: cliSignal() });
        if (common.json) printJson(result);
        else out(`restored ${result.id}/metadata.json from its backup`);
      });
    });
  withCommonOptions(cmd);
}
