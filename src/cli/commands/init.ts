// `mlib init`: creates (or opens) the library and says where it is.
import type { Command } from "commander";
import { commonOptions, withCommonOptions, withLibrary } from "../common.js";
import { out, printJson } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("init")
    .description("create the library folder (or open it) and print where it is")
    .action(async () => {
      const common = commonOptions(cmd);
      const { initLibrary } = await import("../../operations/init-library.js");
      await withLibrary(common, async (lib) => {
        const { root, models } = await initLibrary(lib, {}, { signal: cliSignal() });
        if (common.json) printJson({ root, models });
        else out(`library: ${root} (${models} model${models === 1 ? "" : "s"})`);
      });
    });
  withCommonOptions(cmd);
}
