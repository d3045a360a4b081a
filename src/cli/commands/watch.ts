// `mlib watch`: keeps the index in step with the library folder until Ctrl-C or SIGTERM (exit 0). Prints one
// line per change (a JSON object per line with --json), and first the mode it runs in.
import type { Command } from "commander";
import type { WatchEvent } from "../../watcher/watch-library.js";
import { commonOptions, parsePositiveInt, requireFolder, withCommonOptions, withLibrary } from "../common.js";
import { err, out } from "../output.js";
import { untilInterrupted } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("watch")
    .description("watch the library folder and keep the index in step (edited metadata.json, removed folders, new model files adopted) until Ctrl-C")
    .option("--debounce <ms>", "gather events for this long before acting", parsePositiveInt, 100)
    .option("--settle <ms>", "adopt new model files once they stopped changing for this long", parsePositiveInt, 2000)
    .option("--rescan <seconds>", "periodic rescan in containers+rescan mode", parsePositiveInt, 60)
    .option("--allow-pickle", "adopt pickle files too (they can run code when loaded)")
    .action(async (opts: { debounce: number; settle: number; rescan: number; allowPickle?: boolean }) => {
      const common = commonOptions(cmd);
      const { watchLibrary } = await import("../../watcher/watch-library.js");
      await withLibrary(requireFolder(common), async (lib) => {
        // SIGINT/SIGTERM are the normal end (exit 0), through the CLI's one signal path.
        await untilInterrupted(async (signal) => {
          const watcher = await watchLibrary(lib, {
            signal,
            debounceMs: opts.debounce,
            settleMs: opts.settle,
            rescanMs: opts.rescan * 1000,
            allowPickle: opts.allowPickle === true,
            onEvent: (e) => (common.json ? out(JSON.stringify(e)) : describe(e, lib.root)),
          });
          await watcher.closed;
        });
        if (!common.json) err("watch stopped");
      });
    });
  withCommonOptions(cmd);
}

function describe(e: WatchEvent, root: string): void {
  switch (e.type) {
    case "ready":
      out(`watching ${root}: ${e.models} models, ${e.watchedFolders} folders watched, mode ${e.mode}` +
        (e.rescanMs ? ` (model folders not watched one by one: a rescan every ${e.rescanMs / 1000} s finds metadata.json edited in place)` : ""));
      return;
    case "mode":
      out(`mode ${e.mode}: ${e.reason}`);
      return;
    case "indexed":
      out(`indexed     ${e.id}`);
      return;
    case "removed":
      out(`removed     ${e.id}`);
      return;
    case "waiting":
      out(`waiting     ${e.dir}: ${e.reason}`);
      return;
    case "adopted":
      out(`adopted     ${e.id}`);
      return;
    case "incomplete":
      out(`incomplete  ${e.dir}: missing ${e.missing.join(", ")} (not adopted)`);
      return;
    case "refused":
      out(`refused     ${e.dir}: ${e.reason}`);
      return;
    case "rescan":
      out(`rescan      ${e.added} added, ${e.updated} updated, ${e.removed} removed`);
      return;
    case "error":
      err(`${e.path}: ${e.message}`);
      return;
  }
}
