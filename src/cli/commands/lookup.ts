// `mlib lookup [ID...] [--force]`: find the Hub repo of stored models (a file with our SHA-256 is an exact
// match; else names), filling repo_id, tags, base model and card fields; models the user matched by hand are
// kept unless --force. `--set-repo REPO` / `--mark-manual` record the user's own decision instead.
import type { Command } from "commander";
import { commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { out, printJson } from "../output.js";

export function register(program: Command): void {
  const cmd = program
    .command("lookup")
    .description("find the Hugging Face repo of stored models (all models pending a lookup when no id is given)")
    .argument("[id...]", "model ids")
    .option("--force", "also redo models matched by hand (match_source manual)")
    .option("--set-repo <repo>", "set this repo by hand (owner/name) on the given models")
    .option("--mark-manual", "mark the models as decided by hand: no more lookups")
    .action(async (ids: string[], flags: { force?: boolean; setRepo?: string; markManual?: boolean }) => {
      const common = commonOptions(cmd);
      const { lookupModels, assertLookupArgs } = await import("../../hub/lookup-models.js");
      const params = { ids, force: flags.force, setRepo: flags.setRepo ?? null, markManual: flags.markManual };
      assertLookupArgs(params);
      await withLibrary(common, async (lib) => {
        const results = await lookupModels(lib, params);
        if (results.some((r) => r.outcome === "error")) markFailed();
        if (common.json) return printJson({ results });
        if (results.length === 0) return out("no model is pending a lookup");
        for (const r of results) {
          const how = r.method ? ` (${r.method}${r.confidence !== null ? `, confidence ${r.confidence.toFixed(2)}` : ""})` : "";
          const what =
            r.outcome === "matched" ? `${r.repoId}${how}${r.matchedFile ? ` — ${r.matchedFile}` : ""}`
            : r.outcome === "candidate" ? `maybe ${r.repoId}${how}: not written (confirm with --set-repo ${r.repoId})`
            : r.outcome === "kept-manual" ? `kept (set by hand${r.repoId ? `: ${r.repoId}` : ""}; --force redoes it)`
            : r.outcome === "manual" ? `set by hand${r.repoId ? `: ${r.repoId}` : ""}`
            : r.outcome === "error" ? `error: ${r.error}`
            : `no match${r.repoId ? ` (its repo ${r.repoId} has no file with these bytes)` : ""}`;
          out(`${r.id}: ${what}`);
        }
      }, { create: false });
    });
  withCommonOptions(cmd);
}
