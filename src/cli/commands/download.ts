// `mlib download REPO [--quant Q | --file PATH[,PATH...]...] [--rev REV] [--connections N]`, and `--complete ID` for a
// stored shard set with missing shards. Runs in the foreground with a progress line on a terminal (bytes,
// speed, ETA); Ctrl-C pauses it (exit 130) and the same command resumes it. --json prints the result only.
// Pickle weights need --allow-pickle (hub/download-pickles.ts).
import type { Command } from "commander";
import { commonOptions, parsePositiveInt, usageError, withCommonOptions, withLibrary } from "../common.js";
import { collectFiles } from "../file-list.js";
import { runInForeground } from "../download-runner.js";

export function register(program: Command): void {
  const cmd = program
    .command("download")
    .description("download a model from the Hugging Face Hub into the library (resumable; Ctrl-C pauses)")
    .argument("[repo]", "owner/name on the Hub")
    .option("--quant <quant>", "the quant to fetch (every shard of it), e.g. Q4_K_M")
    .option("--file <path>", "a file of the repo; repeat it, or separate several with commas (write a comma inside a name as \\,)", collectFiles)
    .option("--rev <revision>", "branch, tag or commit (default main)")
    .option("--connections <n>", "parallel connections per large file (default 8)", parsePositiveInt)
    .option("--complete <id>", "fetch the missing shards of a stored model (its repo must be known)")
    .option("--type <type>", "model type of the new folder (default: from the repo)")
    .option("--family <family>", "family of the new folder (default: from the model's bytes)")
    .option("--name <name>", "name of the new folder (default: the repo name and the quant)")
    .option("--allow-pickle", "download pickle weights too (.bin/.pt/.ckpt that can run code when loaded)")
    .action(async (repo: string | undefined, flags: { quant?: string; file?: string[]; rev?: string; connections?: number; complete?: string; type?: string; family?: string; name?: string; allowPickle?: boolean }) => {
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
              allowPickle: flags.allowPickle,
            },
            { signal, onProgress },
          ),
        );
      });
    });
  cmd.addHelpText(
    "after",
    [
      "",
      "--file takes one path of the repo, or several separated by commas, and can be repeated:",
      "  mlib download acme/x --file config.json,model.safetensors --file tokenizer.json",
      "A comma inside a file name is written \\, (quoted, so the shell keeps the backslash):",
      "  mlib download acme/x --file 'weights\\,v2.gguf'",
    ].join("\n"),
  );
  withCommonOptions(cmd);
}
