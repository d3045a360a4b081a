// `mlib rm ID`: deletes a model (its folder and index row). Asks first on a terminal unless --yes.
import type { Command } from "commander";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { createInterface } from "node:readline/promises";
import { ModelLibraryError } from "../../core/errors.js";
import { commonOptions, markFailed, usageError, withCommonOptions, withLibrary } from "../common.js";
import { formatBytes, out, printJson, safeText } from "../output.js";
import { cliSignal, interrupt } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("rm")
    .description("delete a model from the library (its folder and files)")
    .argument("<id>", "model id")
    .option("-y, --yes", "do not ask for confirmation (needed when stdin is not a terminal: nothing is deleted unasked)")
    .option("--cascade", "also remove every link mlib made for it in apps (without it, a linked model is refused)")
    .action(async (id: string) => {
      const common = commonOptions(cmd);
      const yes = Boolean(cmd.opts<{ yes?: boolean }>().yes);
      const cascade = Boolean(cmd.opts<{ cascade?: boolean }>().cascade);
      const [{ showModel }, { unlinkBeforeRemoval, removeModelUnlinked, linksOfModel }] = await Promise.all([
        import("../../operations/show-model.js"),
        import("../../mapper/remove-model-links.js"),
      ]);
      const signal = cliSignal();
      await withLibrary(common, async (lib) => {
        // A model whose metadata.json does not parse is not in the index, but it can still be removed.
        const broken = !lib.get(id) && existsSync(join(lib.modelDir(id), "metadata.json"));
        const record = broken ? { id, sizeBytes: null } : (await showModel(lib, { id }, { signal })).record;
        // The refusal names every link, one per line (the error's own message, printed as one line, showed
        // its line breaks as `\n`); each line made safe on its own, so a file name cannot fake another.
        const refuse = (e: unknown): void => {
          if (diskFull(e)) {
            // rm itself needs a few KiB (its lock and staging lease, the registry, the index): on a disk full to
            // the last byte it cannot run, and deleting is exactly what would make room.
            const dir = lib.modelDir(record.id);
            throw new ModelLibraryError("E_IO", `${(e as Error).message}. The disk is full: mlib needs a little room to delete safely. Free a few MiB elsewhere and run this again, or remove the model's folder yourself (rm -r ${dir}); the next mlib command drops it from the index.`, { path: dir, cause: e });
          }
          if (!(e instanceof ModelLibraryError) || e.code !== "E_LINKED") throw e;
          const links = linksOfModel(lib.root, record.id);
          const lines = [
            `mlib: model ${record.id} is linked into apps; not deleted. Its links:`,
            ...links.slice(0, 10).map((l) => `  ${l.target} (${l.app_id}, ${l.link_type})`),
            ...(links.length > 10 ? [`  ... and ${links.length - 10} more`] : []),
            `Use \`mlib rm ${record.id} --cascade\` to remove them with it, or \`mlib unlink\` first.`,
          ];
          for (const line of lines) process.stderr.write(`${safeText(line)}\n`);
          markFailed();
        };
        // Refused before asking: a linked model is deleted only with --cascade (mapper/remove-model-links.ts).
        if (!cascade) {
          try {
            await unlinkBeforeRemoval(lib, { modelId: record.id, cascade: false });
          } catch (e) {
            return refuse(e);
          }
        }
        if (!yes) {
          if (!process.stdin.isTTY) throw usageError(`refusing to delete ${record.id} without --yes (no terminal to ask on)`);
          if (!(await confirm(`Delete ${record.id} (${formatBytes(record.sizeBytes)})? [y/N] `, signal))) {
            if (common.json) printJson({ id: record.id, deleted: false });
            else out("not deleted");
            return;
          }
        }
        // Checked again with the deletion, under one hold of the registry lock: an apply in another process may
        // have linked the model since (it is then refused, as above).
        let done;
        try {
          done = await removeModelUnlinked(lib, { modelId: record.id, cascade }, { signal });
        } catch (e) {
          return refuse(e);
        }
        const { removed, links } = done;
        if (links && !common.json) for (const o of links.outcomes) out(o.outcome === "kept" ? `kept ${o.target}  (${o.reason ?? "not ours any more"})` : `${o.outcome} ${o.target}`);
        if (common.json) printJson({ id: removed.id, deleted: true, path: removed.path, freedBytes: removed.freedBytes, links: links?.outcomes ?? [] });
        else out(`deleted ${removed.id} (${formatBytes(removed.freedBytes)} freed)`);
      }, { create: false });
    });
  withCommonOptions(cmd);
}

async function confirm(question: string, signal: AbortSignal): Promise<boolean> {
  const rl = createInterface({ input: process.stdin, output: process.stderr });
  // On a terminal readline reads Ctrl-C as a key, not as a signal: make it one.
  rl.on("SIGINT", () => interrupt("SIGINT"));
  try {
    return /^y(es)?$/i.test((await rl.question(question, { signal })).trim());
  } finally {
    rl.close();
  }
}

/** An error that comes from a full disk (an OS ENOSPC, or SQLite's "disk full"), however deep its cause. */
function diskFull(e: unknown): boolean {
  for (let c: unknown = e, depth = 0; c && depth < 5; c = (c as { cause?: unknown }).cause, depth++) {
    const code = (c as { code?: unknown }).code;
    if (code === "ENOSPC" || code === "SQLITE_FULL") return true;
  }
  return false;
}
