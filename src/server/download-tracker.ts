// Downloads the server runs (as operations) and the downloads.json entries they are: a download started
// here is paused by aborting its operation (downloadModel leaves it paused), resumed by a new operation with
// its download id, cancelled by pausing it and then removing its partial files. Entries another process runs
// are asked through downloads.json (the hub feature's pause/cancel).
import type { DownloadEntry } from "../hub/download-state.js";
import type { DownloadParams } from "./library-adapter.js";

interface Tracked {
  opId: string;
  key: string;
  downloadId: string | null;
}

/** The same key as the hub's own "same download" rule: repo, revision, the files or the quant. */
function requestKey(repoId: string, revision: string | null | undefined, files: string[] | null | undefined, quant: string | null | undefined): string {
  return JSON.stringify([repoId, revision ?? "main", files && files.length > 0 ? files : null, files && files.length > 0 ? null : (quant ?? null)]);
}

/** The missing shards of one stored model (`download --complete`): one such download at a time per model. */
export function keyOfCompletion(modelId: string): string {
  return JSON.stringify(["complete", modelId]);
}

export function keyOfParams(p: DownloadParams): string {
  return p.completeModelId ? keyOfCompletion(p.completeModelId) : requestKey(p.repoId, p.revision, p.files, p.quant);
}

export function keyOfEntry(d: DownloadEntry): string {
  const r = d.download_request;
  if (r.complete_model_id) return keyOfCompletion(r.complete_model_id);
  return requestKey(r.repo_id, r.revision, r.filenames ?? (r.filename ? [r.filename] : null), r.quant);
}

export class DownloadTracker {
  private readonly running = new Map<string, Tracked>();

  add(opId: string, key: string, downloadId: string | null): void {
    this.running.set(opId, { opId, key, downloadId });
  }

  remove(opId: string): void {
    this.running.delete(opId);
  }

  /** The operation running this request or this download id, if any. */
  opFor(key: string | null, downloadId: string | null): string | null {
    for (const t of this.running.values()) if ((key !== null && t.key === key) || (downloadId !== null && t.downloadId === downloadId)) return t.opId;
    return null;
  }

  /** Learns which entry each running operation is (entries this process runs, matched by request). */
  match(entries: DownloadEntry[]): Map<string, string> {
    const byDownload = new Map<string, string>();
    for (const t of this.running.values()) {
      if (t.downloadId === null) {
        const e = entries.find((d) => d.runner?.pid === process.pid && keyOfEntry(d) === t.key);
        if (e) t.downloadId = e.download_id;
      }
      if (t.downloadId !== null) byDownload.set(t.downloadId, t.opId);
    }
    return byDownload;
  }
}
