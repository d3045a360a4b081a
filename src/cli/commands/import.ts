// `mlib import PATH...`: stores model files in the library (copy by default), deduplicated by content.
// Sources are only read, except with --mode move, which deletes them once the stored copy is committed.
import { Option, type Command } from "commander";
import type { ImportMode, ImportResult } from "../../operations/import-models.js";
import { collectList, commonOptions, markFailed, withCommonOptions, withLibrary } from "../common.js";
import { err, formatBytes, out, printJson } from "../output.js";
import { startProgress } from "../progress.js";

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
        let results: ImportResult[];
        try {
          results = await importModels(lib, paths, {
            mode: flags.mode,
            securityAcknowledged: Boolean(flags.allowPickle),
            allowDuplicate: Boolean(flags.allowDuplicate),
            allowIncomplete: Boolean(flags.allowIncomplete),
            modelType: flags.type,
            family: flags.family,
            subtype: flags.subtype,
            name: flags.name,
            tags: flags.tag,
            onProgress: (p) => progress.update(p.bytesDone, p.bytesTotal, p.source),
          });
        } finally {
          progress.stop();
        }
        const count = (s: ImportResult["status"]) => results.filter((r) => r.status === s).length;
        const summary = { imported: count("imported"), duplicates: count("duplicate"), failed: count("failed") };
        if (summary.failed > 0) markFailed();
        if (common.json) {
          printJson({ results, ...summary });
          return;
        }
        printImportResults(results);
        if (flags.name && results.length > 1) err(`--name applies to a single model; ${results.length} were imported under their own names`);
        out(`${summary.imported} imported, ${summary.duplicates} already in the library, ${summary.failed} failed`);
      });
    });
  withCommonOptions(cmd);
}

export function printImportResults(results: ImportResult[]): void {
  for (const r of results) {
    if (r.status === "imported") {
      out(`imported   ${r.modelId}  (${r.format}, ${r.files} file${r.files === 1 ? "" : "s"}, ${formatBytes(r.bytes)})`);
      out(`           ${r.path}`);
      for (const w of r.warnings) out(`           warning: ${w}`);
    } else if (r.status === "duplicate") {
      out(`duplicate  ${r.source}: already in the library as ${r.duplicateOf}`);
    } else {
      err(r.error?.message ?? `${r.source}: import failed`);
    }
  }
}
