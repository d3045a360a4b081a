// `mlib init`: creates (or opens) the library and says where it is.
import type { Command } from "commander";
import { commonOptions, withCommonOptions, withLibrary } from "../common.js";
import { out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("init")
    .description("create the library folder (or open it) and print where it is")
    .action(async () => {
      const common = commonOptions(cmd);
      await withLibrary(common, async (lib) => {
        const models = lib.index.count();
        if (common.json) printJson({ root: lib.root, models });
        else out(`library: ${lib.root} (${models} model${models === 1 ? "" : "s"})`);
      });
    });
  withCommonOptions(cmd);
}
