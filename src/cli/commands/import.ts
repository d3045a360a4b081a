// `mlib import PATH...`: stores model files in the library (copy by default), deduplicated by content.
// Sources are only read, except with --mode move, which deletes them once the stored copy is committed.
import { Option, type Command } from "commander";
import type { ImportMode, ImportSummary } from "../../operations/import-models.js";
import { collectList, commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { printImportResults } from "../describe.js";
import { err, out, printJson } from "../output.js";
import { startProgress } from "../progress.js";
import { cliSignal } from "../signals.js";

interface ImportFlags {
  mode: ImportMode;
  allowPickle?: boolean;
  allowDuplicate?: boolean;
  allowIncomplete?: boolean;
  type?: string;
  family?: string;
  subtype?: string;
  name?: string;
  tag?: string[];
}

export function register(program: Command): void {
  const cmd = program
    .command("import")
    .description("import model files or folders into the library")
    .argument("<path...>", "model files or folders (a folder is searched for models)")
    .addOption(new Option("--mode <mode>", "how files get into the library").choices(["copy", "move", "hardlink", "reflink"]).default("copy"))
    .option("--allow-pickle", "store pickle checkpoints (loading them can run arbitrary code)")
    .option("--allow-duplicate", "store content that is already in the library")
    .option("--allow-incomplete", "store shard sets with missing shards")
    .option("--type <type>", "model type (llm, diffusion, embedding, audio, vision...) instead of the detected one")
    .option("--family <family>", "model family instead of the detected one")
    .option("--subtype <subtype>", "subtype (checkpoints, loras, vae...) instead of the detected one")
    .option("--name <name>", "display name (when a single model is imported)")
    .option("--tag <tag>", "a tag (repeatable, or comma-separated)", collectList)
    .action(async (paths: string[]) => {
      const common = commonOptions(cmd);
      const flags = cmd.opts<ImportFlags>();
      const { importModels } = await import("../../operations/import-models.js");
      await withLibrary(common, async (lib) => {
        const progress = startProgress({ json: common.json, title: "importing" });
        let summary: ImportSummary;
        try {
          summary = await importModels(
            lib,
            {
              paths,
              mode: flags.mode,
              securityAcknowledged: Boolean(flags.allowPickle),
              allowDuplicate: Boolean(flags.allowDuplicate),
              allowIncomplete: Boolean(flags.allowIncomplete),
              modelType: flags.type,
              family: flags.family,
              subtype: flags.subtype,
              name: flags.name,
              tags: flags.tag,
            },
            { signal: cliSignal(), onProgress: (p) => progress.update(p.done ?? 0, p.total ?? 0, p.item) },
          );
        } finally {
          progress.stop();
        }
        const { results, imported, duplicates, failed } = summary;
        if (failed > 0) markFailed();
        if (common.json) {
          printJson({ results, imported, duplicates, failed });
          return;
        }
        printImportResults(results);
        if (flags.name && results.length > 1) err(`--name applies to a single model; ${results.length} were imported under their own names`);
        out(`${imported} imported, ${duplicates} already in the library, ${failed} failed`);
      });
    });
  withCommonOptions(cmd);
}
