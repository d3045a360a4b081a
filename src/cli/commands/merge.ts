// `mlib merge SRC [--dry-run]`: merges the library at SRC into this one (see src/merge/merge-library.ts).
// Prints the plan (dry run) or what was done; a killed merge is finished by running the same command again.
import type { Command } from "commander";
import { cliSignal } from "../signals.js";
import type { MergePlanItem, MergeResult } from "../../merge/merge-types.js";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
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
      const { mergeLibrary } = await import("../../merge/merge-library.js");
      await withLibrary(common, async (lib) => {
        const progress = startProgress({ json: common.json, title: opts.dryRun ? "planning" : "merging" });
        let r: MergeResult;
        try {
          r = await mergeLibrary(lib, { source: src, dryRun: opts.dryRun === true, allowPickle: opts.allowPickle === true }, {
            signal: cliSignal(),
            onProgress: (p) => progress.update(p.done ?? 0, p.total ?? 0, `${p.phase} ${p.item ?? ""}`),
          });
        } finally {
          progress.stop();
        }
        if (r.counts.left > 0) markFailed();
        if (common.json) {
          printJson(r);
          return;
        }
        if (r.resumed) out(`finishing the merge from ${r.source} a stopped run had started (its journal's plan)`);
        if (r.dryRun) {
          for (const p of r.plan) out(describePlan(p));
          const by = (a: string) => r.plan.filter((p) => p.action === a).length;
          out(`plan: ${by("move")} to move, ${by("conflict")} to move under a new name, ${by("duplicate")} duplicates (source copy removed once re-hashed), ${by("error")} left in the source` +
            `; ${r.sameFilesystem ? "one filesystem: renames only, no data copied" : `${formatBytes(r.plan.filter((p) => p.crossDevice && (p.action === "move" || p.action === "conflict")).reduce((a, p) => a + p.bytes, 0))} to copy from another filesystem`}` +
            ". Nothing was written.");
          return;
        }
        for (const x of r.results) {
          if (x.outcome === "moved") out(`moved       ${x.source}`);
          else if (x.outcome === "renamed") out(`renamed     ${x.source} → ${x.destId} (${x.reason})`);
          else if (x.outcome === "duplicate-removed") out(`duplicate   ${x.source} = ${x.destId} (source copy removed)`);
          else out(`left        ${x.source}: ${x.reason}`);
        }
        out(`${r.counts.moved} moved, ${r.counts.renamed} moved under a new name, ${r.counts.duplicates} duplicates removed from the source, ${r.counts.left} left in the source; ${formatBytes(r.bytesCopied)} copied`);
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
