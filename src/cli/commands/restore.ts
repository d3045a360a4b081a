// `mlib restore ID`: puts back metadata.json from metadata.json.bak (after a bad edit or a corrupt write).
// A metadata.json that still parses is replaced only after a yes on a terminal, or with --force; the
// replaced file is kept as metadata.json.replaced-<date> either way.
import type { Command } from "commander";
import { createInterface } from "node:readline/promises";
import { ModelLibraryError } from "../../core/errors.js";
import { commonOptions, usageError, withCommonOptions, withLibrary } from "../common.js";
import { out, printJson } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("restore")
    .description("restore a model's metadata.json from its backup (metadata.json.bak)")
    .argument("<id>", "model id (its folder relative to the library)")
    .option("-f, --force", "replace a metadata.json that is still valid (it is kept as metadata.json.replaced-<date>)")
    .action(async (id: string) => {
      const common = commonOptions(cmd);
      const force = Boolean(cmd.opts<{ force?: boolean }>().force);
      const { restoreMetadata } = await import("../../operations/restore-metadata.js");
      await withLibrary(
        common,
        async (lib) => {
          let result;
          try {
            result = await restoreMetadata(lib, { id, force }, { signal: cliSignal() });
          } catch (e) {
            if (!(e instanceof ModelLibraryError && e.code === "E_EXISTS") || force) throw e;
            if (!process.stdin.isTTY) throw usageError(e.message);
            const normalized = id.replace(/\/+$/, "");
            if (!(await confirm(`${normalized}/metadata.json is valid; replace it with its backup (the current one is kept)? [y/N] `))) {
              if (common.json) printJson({ id: normalized, restored: false });
              else out("not restored");
              return;
            }
            result = await restoreMetadata(lib, { id, force: true }, { signal: cliSignal() });
          }
          if (common.json) printJson(result);
          else out(`restored ${result.id}/metadata.json from its backup${result.keptAs ? ` (the replaced file is kept as ${result.keptAs})` : ""}`);
        },
        { create: false },
      );
    });
  withCommonOptions(cmd);
}

async function confirm(question: string): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  try {
    return /^y(es)?$/i.test((await rl.question(question)).trim());
  } finally {
    rl.close();
  }
}
