// `mlib downloads pause|cancel`: asks the process running a download to stop (through downloads.json, which it
// polls), or — when no live process runs it — does it directly: pause marks it paused, cancel removes its
// partial files and its entry. Resume is downloadModel({ downloadId }) in the caller's process.
import { rm } from "node:fs/promises";
import { findDownload, isActive, listDownloads, runnerAlive, stagingDirOf, updateDownloads, type DownloadEntry } from "./download-state.js";

export interface ControlResult {
  downloadId: string;
  repoId: string;
  /** "asked" (a running process will stop shortly), or the state it is now in. */
  outcome: "asked" | "paused" | "cancelled" | "unchanged";
}

/** The entries named (all when `ids` is "all"); E_NOT_FOUND for an unknown id. */
async function select(root: string, ids: string[] | "all"): Promise<DownloadEntry[]> {
  const all = await listDownloads(root);
  if (ids === "all") return all;
  return ids.map((id) => findDownload(all, id, root));
}

export async function pauseDownloads(root: string, ids: string[] | "all"): Promise<ControlResult[]> {
  const chosen = await select(root, ids);
  return updateDownloads(root, (list) =>
    chosen.map((c) => {
      const d = list.find((x) => x.download_id === c.download_id);
      if (!d) return { downloadId: c.download_id, repoId: c.repo_id, outcome: "unchanged" as const };
      if (isActive(d.status) && runnerAlive(d)) {
        d.control = "pause";
        d.status = "pausing";
        return { downloadId: d.download_id, repoId: d.repo_id, outcome: "asked" as const };
      }
      if (d.status === "paused" || d.status === "error") return { downloadId: d.download_id, repoId: d.repo_id, outcome: "unchanged" as const };
      d.status = "paused";
      d.runner = null;
      d.control = null;
      return { downloadId: d.download_id, repoId: d.repo_id, outcome: "paused" as const };
    }),
  );
}

export async function cancelDownloads(root: string, ids: string[] | "all"): Promise<ControlResult[]> {
  const chosen = await select(root, ids);
  const results: ControlResult[] = [];
  const removeStaging: string[] = [];
  await updateDownloads(root, (list) => {
    for (const c of chosen) {
      const i = list.findIndex((x) => x.download_id === c.download_id);
      if (i < 0) continue;
      const d = list[i];
      if (isActive(d.status) && runnerAlive(d)) {
        d.control = "cancel";
        d.status = "cancelling";
        results.push({ downloadId: d.download_id, repoId: d.repo_id, outcome: "asked" });
      } else {
        list.splice(i, 1);
        removeStaging.push(stagingDirOf(root, d));
        results.push({ downloadId: d.download_id, repoId: d.repo_id, outcome: "cancelled" });
      }
    }
  });
  for (const dir of removeStaging) await rm(dir, { recursive: true, force: true });
  return results;
}
