// `mlib rm ID`: deletes a model (its folder and index row). Asks first on a terminal unless --yes.
import type { Command } from "commander";
import { createInterface } from "node:readline/promises";
import { commonOptions, usageError, withCommonOptions, withLibrary } from "../common.js";
import { formatBytes, out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("rm")
    .description("delete a model from the library (its folder and files)")
    .argument("<id>", "model id")
    .option("-y, --yes", "do not ask for confirmation")
    .option("--cascade", "also remove every link mlib made for it in apps (without it, a linked model is refused)")
    .action(async (id: string) => {
      const common = commonOptions(cmd);
      const yes = Boolean(cmd.opts<{ yes?: boolean }>().yes);
      const cascade = Boolean(cmd.opts<{ cascade?: boolean }>().cascade);
      await withLibrary(common, async (lib) => {
        const record = lib.require(id);
        const { unlinkBeforeRemoval } = await import("../../mapper/remove-model-links.js");
        // Refused before asking: a linked model is deleted only with --cascade (mapper/remove-model-links.ts).
        if (!cascade) await unlinkBeforeRemoval(lib, { modelId: record.id, cascade: false });
        if (!yes) {
          if (!process.stdin.isTTY) throw usageError(`refusing to delete ${record.id} without --yes (no terminal to ask on)`);
          if (!(await confirm(`Delete ${record.id} (${formatBytes(record.sizeBytes)})? [y/N] `))) {
            if (common.json) printJson({ id: record.id, deleted: false });
            else out("not deleted");
            return;
          }
        }
        const links = cascade ? await unlinkBeforeRemoval(lib, { modelId: record.id, cascade: true }) : null;
        if (links && !common.json) for (const o of links.outcomes) out(`${o.outcome === "kept" ? "kept (changed, not ours)" : o.outcome} ${o.target}`);
        const removed = await lib.remove(record.id);
        if (common.json) printJson({ id: removed.id, deleted: true, path: removed.path, freedBytes: removed.freedBytes, links: links?.outcomes ?? [] });
        else out(`deleted ${removed.id} (${formatBytes(removed.freedBytes)} freed)`);
      });
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
