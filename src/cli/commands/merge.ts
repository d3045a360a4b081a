// `mlib merge SRC [--dry-run]`: merges the library at SRC into this one (see src/merge/merge-library.ts).
// Prints the plan (dry run) or what was done; a killed merge is finished by running the same command again.
import type { Command } from "commander";
import { existsSync, readdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { ModelLibraryError } from "../../core/errors.js";
import { cliSignal } from "../signals.js";
import type { MergePlanItem, MergeResult } from "../../merge/merge-types.js";
import type { LinkMove, RepointResult } from "../../mapper/repoint-links.js";
import type { ModelLibrary } from "../../store/model-library.js";
import { commonOptions, libraryRoot, markFailed, usageError, withCommonOptions, withLibrary } from "../common.js";
import { formatBytes, out, printJson } from "../output.js";
import { startProgress } from "../progress.js";

export function register(program: Command): void {
  const cmd = program
    .command("merge")
    .description("merge the library at SRC into this one: moves (renames on one filesystem), skips verified duplicates, journaled so a killed merge is finished by running it again")
    .argument("<src>", "the library folder to merge from")
    .option("--dry-run", "print the plan; write nothing on either side")
    .option("--allow-pickle", "merge pickle files too (they can run code when loaded)")
    .action(async (src: string, opts: { dryRun?: boolean; allowPickle?: boolean }) => {
      const common = commonOptions(cmd);
      // A folder of loose model files (~/ComfyUI/models), or another folder given by mistake, is no library: the
      // merge found nothing and said "0 to move" with exit 0, its files not mentioned. An empty folder is an empty
      // library (nothing to do), and an unfinished merge is let through (its source may be empty by now).
      const journal = join(resolve(libraryRoot(common)), ".model-library", "merge-journal.json");
      if (existsSync(src) && !existsSync(journal) && !isEmptyFolder(src) && !looksLikeLibrary(resolve(src))) {
        throw usageError(`${src}: not a library (no .model-library, and no model folder with a metadata.json in it); to store the model files in it, use \`mlib import ${src}\``);
      }
      const { mergeLibrary } = await import("../../merge/merge-library.js");
      const { linksInto, repointLinks } = await import("../../mapper/repoint-links.js");
      await withLibrary(common, async (lib) => {
        const progress = startProgress({ json: common.json, title: opts.dryRun ? "planning" : "merging" });
        const signal = cliSignal();
        let r: MergeResult;
        let links: RepointResult | null = null;
        try {
          r = await mergeLibrary(lib, {
            source: src,
            dryRun: opts.dryRun === true,
            allowPickle: opts.allowPickle === true,
            // CLEANUP's last step: links we made into SRC for the moved models follow them (the mapper's
            // registry); the merge keeps its journal until this has run, so a re-run finishes it.
            beforeFinish: async (done) => {
              const l = await repointLinks(lib, { sourceRoot: done.source, moves: movesOf(lib, done) }, { signal });
              links = l;
              if (l.errors.length > 0) {
                // The journal stays (the merge is not finished) so that the same command retries just these.
                const moved = done.counts.moved + done.counts.renamed + done.counts.duplicates;
                throw new ModelLibraryError("E_IO", `${moved} models merged, but ${l.errors.length} links into ${done.source} could not be re-pointed: ` +
                  `${l.errors.map((e) => e.message.includes(e.target) ? e.message : `${e.target}: ${e.message}`).join("; ")}. Fix that and run \`mlib merge ${done.source}\` again to finish`);
              }
            },
          }, {
            signal,
            onProgress: (p) => progress.update(p.done ?? 0, p.total ?? 0, `${p.phase} ${p.item ?? ""}`),
          });
        } finally {
          progress.stop();
        }
        const repointed = links as RepointResult | null;
        if (r.counts.left > 0) markFailed();
        if (common.json) {
          printJson(repointed ? { ...r, links: repointed } : r);
          return;
        }
        if (r.resumed && r.dryRun) out(`the plan a merge from ${r.source} recorded and has not finished (it may be running now; if it was stopped, \`mlib merge ${r.source}\` finishes it)`);
        else if (r.resumed) out(`finishing the merge from ${r.source} a stopped run had started (its journal's plan)`);
        if (r.dryRun) {
          for (const p of r.plan) out(describePlan(p));
          const by = (a: string) => r.plan.filter((p) => p.action === a).length;
          out(`plan: ${by("move")} to move, ${by("conflict")} to move under a new name, ${by("duplicate")} duplicates (source copy removed once re-hashed), ${by("error")} left in the source` +
            `; ${r.sameFilesystem ? "one filesystem: renames only, no data copied" : `${formatBytes(r.plan.filter((p) => p.crossDevice && (p.action === "move" || p.action === "conflict")).reduce((a, p) => a + p.bytes, 0))} to copy from another filesystem`}` +
            ". Nothing was written.");
          const linked = linksInto(r.source, r.plan.filter((p) => p.action !== "error").map((p) => p.source));
          if (linked.length > 0) out(`${linked.length} links mlib made into app folders for these models will be re-pointed at their new place`);
          return;
        }
        for (const x of r.results) {
          if (x.outcome === "moved") out(`moved       ${x.source}`);
          else if (x.outcome === "renamed") out(`renamed     ${x.source} → ${x.destId} (${x.reason})`);
          else if (x.outcome === "duplicate-removed") out(`duplicate   ${x.source} = ${x.destId} (source copy removed)`);
          else out(`left        ${x.source}: ${x.reason}`);
        }
        out(`${r.counts.moved} moved, ${r.counts.renamed} moved under a new name, ${r.counts.duplicates} duplicates removed from the source, ${r.counts.left} left in the source; ${formatBytes(r.bytesCopied)} copied`);
        if (repointed) printLinks(repointed);
      }, { reconcile: "quick" });
    });
  withCommonOptions(cmd);
}

function describePlan(p: MergePlanItem): string {
  switch (p.action) {
    case "move":
      return `move        ${p.source}  (${formatBytes(p.bytes)}${p.crossDevice ? ", copied: another filesystem" : ""})`;
    case "conflict":
      return `conflict    ${p.source} → ${p.destId}: ${p.reason}`;
    case "duplicate":
      return `duplicate   ${p.source} = ${p.destId}`;
    default:
      return `error       ${p.source}: ${p.reason}`;
  }
}

/** Each SRC folder that left SRC (moved, renamed, or a verified duplicate) and where its files are now. */
function movesOf(lib: ModelLibrary, r: MergeResult): LinkMove[] {
  const planned = new Map(r.plan.map((p) => [p.source, p]));
  return r.results
    .filter((x) => x.outcome !== "left" && x.destId !== null)
    .map((x) => ({
      fromId: x.source,
      toId: x.destId!,
      toDir: lib.modelDir(x.destId!),
      // A duplicate's files are found by content in the library model (their names may differ).
      ...(x.outcome === "duplicate-removed" ? { files: planned.get(x.source)?.files ?? [] } : {}),
    }));
}

function printLinks(l: RepointResult): void {
  if (l.links.length === 0) return;
  for (const x of l.links) if (x.action !== "repointed" && x.action !== "moved") out(`link ${x.action.padEnd(12)} ${x.target}: ${x.detail ?? ""}`);
  out(`links into the source: ${l.counts.repointed} re-pointed, ${l.counts.moved} moved to this library's registry as they are, ${l.counts["kept-as-copy"]} kept as copies, ${l.counts.untouched} not ours (left on disk), ${l.counts.left} left in the source's registry`);
}

/** A library of ours or the original's: its own folder or index, or a model folder (metadata.json) 1-4 levels down. */
function looksLikeLibrary(root: string): boolean {
  if (["models.db", "link_registry.json", ".model-library"].some((n) => existsSync(join(root, n)))) return true;
  let budget = 5000; // entries looked at: a huge folder that is no library is not walked to the end
  const visit = (dir: string, depth: number): boolean => {
    let entries;
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return false;
    }
    budget -= entries.length;
    if (depth > 0 && entries.some((e) => e.name === "metadata.json" && e.isFile())) return true;
    if (depth >= 4 || budget <= 0) return false;
    return entries.some((e) => e.isDirectory() && !e.name.startsWith(".") && budget > 0 && visit(join(dir, e.name), depth + 1));
  };
  return visit(root, 0) || budget <= 0; // past the budget: not ours to judge, the merge decides
}

function isEmptyFolder(dir: string): boolean {
  try {
    return readdirSync(dir).length === 0;
  } catch {
    return false; // not a folder, unreadable: the merge says what is wrong
  }
}
