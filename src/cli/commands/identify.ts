// `mlib identify PATH...`: what each file (or model folder) is, from its own bytes. Reads only.
import type { Command } from "commander";
import { commonOptions, errorInfo, markFailed, withCommonOptions } from "../common.js";
import { describeIdentification } from "../describe.js";
import { err, out, printJson, safeText } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("identify")
    .description("identify model files or folders (format, type, family, quantization, parameters...)")
    .argument("<path...>", "model files or folders")
    .action(async (paths: string[]) => {
      const common = commonOptions(cmd);
      const { identify } = await import("../../identify/identify.js");
      const signal = cliSignal();
      const records: unknown[] = [];
      for (const [i, path] of paths.entries()) {
        if (signal.aborted) return; // identification of one file is quick: stop between files
        try {
          const ident = await identify(path);
          if (common.json) records.push(ident);
          else {
            if (i > 0) out();
            for (const line of describeIdentification(ident)) out(line);
          }
        } catch (e) {
          markFailed();
          const error = errorInfo(e);
          if (common.json) records.push({ path, error });
          else err(error.message);
          if (common.debug) process.stderr.write(`${safeText((e as Error)?.stack ?? String(e), { keepNewlines: true })}\n`);
        }
      }
      if (common.json) printJson(records);
    });
  withCommonOptions(cmd, { library: "hidden" });
}
