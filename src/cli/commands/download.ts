// `mlib download REPO [--quant Q | --file PATH...] [--rev REV] [--connections N]`, and `--complete ID` for a
// stored shard set with missing shards. Runs in the foreground with a progress line on a terminal (bytes,
// speed, ETA); Ctrl-C pauses it (exit 130) and the same command resumes it. --json prints the result only.
import type { Command } from "commander";
import { ModelLibraryError } from "../../core/errors.js";
import type { ProgressEvent } from "../../operations/types.js";
import { collectList, commonOptions, parsePositiveInt, usageError, withCommonOptions, withLibrary } from "../common.js";
import { err, formatBytes, out, printJson } from "../output.js";
import { startDownloadProgress } from "./download-progress.js";

export function register(program: Command): void {
  const cmd = program
    .command("download")
    .description("download a model from the Hugging Face Hub into the library (resumable; Ctrl-C pauses)")
    .argument("[repo]", "owner/name on the Hub")
    .option("--quant <quant>", "the quant to fetch (every shard of it), e.g. Q4_K_M")
    .option("--file <path>", "a file of the repo (repeatable)", collectList)
    .option("--rev <revision>", "branch, tag or commit (default main)")
    .option("--connections <n>", "parallel connections per large file (default 8)", parsePositiveInt)
    .option("--complete <id>", "fetch the missing shards of a stored model (its repo must be known)")
    .option("--type <type>", "model type of the new folder (default: from the repo)")
    .option("--family <family>", "family of the new folder (default: from the model's bytes)")
    .option("--name <name>", "name of the new folder (default: the repo name and the quant)")
    .action(async (repo: string | undefined, flags: { quant?: string; file?: string[]; rev?: string; connections?: number; complete?: string; type?: string; family?: string; name?: string }) => {
      const common = commonOptions(cmd);
      if (!repo && !flags.complete) throw usageError("give a repo (owner/name) or --complete ID");
      if (flags.quant && flags.file?.length) throw usageError("--quant and --file cannot be used together");
      const { downloadModel } = await import("../../hub/download-model.js");
      await withLibrary(common, async (lib) => {
        await runInForeground(common.json, (signal, onProgress) =>
          downloadModel(
            lib,
            {
              repoId: repo ?? "",
              quant: flags.quant,
              files: flags.file,
              revision: flags.rev,
              connections: flags.connections,
              completeModelId: flags.complete,
              modelType: flags.type,
              family: flags.family,
              name: flags.name,
            },
            { signal, onProgress },
          ),
        );
      });
    });
  withCommonOptions(cmd);
}

/** Runs a download with Ctrl-C as "pause", a progress line on a terminal, and prints what landed. */
export async function runInForeground(
  json: boolean,
  run: (signal: AbortSignal, onProgress: (e: ProgressEvent) => void) => Promise<import("../../hub/download-model.js").DownloadModelResult>,
): Promise<void> {
  const ac = new AbortController();
  const onSigint = (): void => ac.abort("pause");
  process.once("SIGINT", onSigint);
  const progress = startDownloadProgress(json);
  try {
    const r = await run(ac.signal, (e) => progress.update(e));
    progress.stop();
    if (json) return printJson(r);
    for (const f of r.files) out(`${f.how.padEnd(10)} ${f.path}  ${formatBytes(f.size)}  sha256 ${f.sha256}${f.linkedFrom ? `  (from ${f.linkedFrom})` : ""}`);
    const speed = r.seconds > 0 ? ` at ${formatBytes(r.fetchedBytes / r.seconds)}/s` : "";
    out(`${r.modelId}: ${r.repoId}@${r.commitSha?.slice(0, 12) ?? "?"}, ${formatBytes(r.totalBytes)} (${formatBytes(r.fetchedBytes)} fetched in ${r.seconds.toFixed(1)} s${speed})`);
  } catch (e) {
    progress.stop();
    if (e instanceof ModelLibraryError && e.code === "E_CANCELLED") {
      err(e.message);
      process.exitCode = 130;
      return;
    }
    throw e;
  } finally {
    process.off("SIGINT", onSigint);
  }
}
