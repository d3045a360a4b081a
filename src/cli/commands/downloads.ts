// `mlib downloads [list|pause|resume|cancel] [ID...|--all]`: the downloads recorded in the library's
// downloads.json. pause/cancel ask the process running a download to stop (or act directly when none does);
// resume runs the download in the foreground, like `mlib download` (Ctrl-C pauses it again).
import type { Command } from "commander";
import { commonOptions, usageError, withCommonOptions, withLibrary, libraryRoot } from "../common.js";
import { formatBytes, out, printJson, table } from "../output.js";
import { runInForeground } from "../download-runner.js";

export function register(program: Command): void {
  const cmd = program
    .command("downloads")
    .description("list, pause, resume or cancel downloads (state in <library>/.model-library/downloads.json)")
    .argument("[action]", "list (default), pause, resume or cancel", "list")
    .argument("[id...]", "download ids (a unique prefix is enough)")
    .option("--all", "every download")
    .option("--allow-pickle", "resume: download pickle weights too (as `mlib download --allow-pickle`)")
    .action(async (action: string, ids: string[], flags: { all?: boolean; allowPickle?: boolean }) => {
      const common = commonOptions(cmd);
      const root = libraryRoot(common);
      const state = await import("../../hub/download-state.js");
      const which = flags.all ? ("all" as const) : ids;
      if (action === "list") {
        const list = await state.listDownloads(root);
        if (common.json) return printJson({ downloads: list });
        if (list.length === 0) return out("no downloads");
        const rows = list.map((d) => [
          d.download_id.slice(0, 8),
          d.status,
          d.repo_id,
          d.download_request.quant ?? (d.filenames.length === 1 ? d.filenames[0] : `${d.filenames.length} files`),
          `${formatBytes(d.downloaded_bytes ?? 0)} / ${formatBytes(d.total_bytes)}`,
          d.error ?? "",
        ]);
        for (const line of table([{ header: "id" }, { header: "status" }, { header: "repo" }, { header: "what" }, { header: "done", right: true }, { header: "error" }], rows)) out(line);
        return;
      }
      if (action !== "pause" && action !== "resume" && action !== "cancel") throw usageError(`unknown action "${action}" (list, pause, resume, cancel)`);
      if (which !== "all" && which.length === 0) throw usageError(`${action}: give a download id, or --all`);
      if (action === "pause" || action === "cancel") {
        const control = await import("../../hub/control-downloads.js");
        const results = action === "pause" ? await control.pauseDownloads(root, which) : await control.cancelDownloads(root, which);
        if (common.json) return printJson({ results });
        if (results.length === 0) return out(`no download to ${action}`); // `--all` with none: say so, not nothing
        for (const r of results) out(`${r.downloadId.slice(0, 8)}  ${r.repoId}: ${r.outcome === "asked" ? `asked the running process to ${action}` : r.outcome}`);
        return;
      }
      // resume: one after the other, in the foreground
      const all = await state.listDownloads(root);
      const chosen = which === "all" ? all.filter((d) => d.status === "paused" || d.status === "error") : which.map((id) => state.findDownload(all, id, root));
      if (chosen.length === 0) return common.json ? printJson({ resumed: [] }) : out("no paused download to resume");
      const { downloadModel } = await import("../../hub/download-model.js");
      // One id: its result, as `mlib download --json` prints it; --all or several ids: one document listing them.
      const many = which === "all" || chosen.length > 1;
      const resumed: unknown[] = [];
      await withLibrary(common, async (lib) => {
        for (const d of chosen) {
          await runInForeground(
            common.json,
            (signal, onProgress) => downloadModel(lib, { repoId: d.repo_id, downloadId: d.download_id, allowPickle: flags.allowPickle }, { signal, onProgress }),
            many ? (r) => resumed.push(r) : undefined,
          );
          if (process.exitCode === 130) break;
        }
      });
      if (common.json && many) printJson({ resumed });
    });
  withCommonOptions(cmd);
}
