// The foreground run of a download (mlib download, mlib downloads resume): Ctrl-C pauses it through the CLI's
// one signal path (signals.ts) and the same command resumes it; a progress line on a terminal; what landed printed.
import { ModelLibraryError } from "../core/errors.js";
import type { ProgressEvent } from "../operations/types.js";
import { err, formatBytes, out, printJson } from "./output.js";
import { cliSignal } from "./signals.js";
import { startDownloadProgress } from "./download-progress.js";

type DownloadModelResult = import("../hub/download-model.js").DownloadModelResult;

/**
 * Runs a download with Ctrl-C as "pause", a progress line on a terminal, and prints what landed. With --json the
 * result is printed as one document, or handed to `onJsonResult` by a caller that runs several downloads and
 * prints them together (several documents one after the other are not JSON).
 */
export async function runInForeground(
  json: boolean,
  run: (signal: AbortSignal, onProgress: (e: ProgressEvent) => void) => Promise<DownloadModelResult>,
  onJsonResult?: (r: DownloadModelResult) => void,
): Promise<void> {
  // Ctrl-C (the CLI's one signal path, signals.ts) pauses: the download's state stays resumable.
  const signal = cliSignal();
  const progress = startDownloadProgress(json);
  try {
    const r = await run(signal, (e) => progress.update(e));
    progress.stop();
    if (json) return onJsonResult ? onJsonResult(r) : printJson(r);
    for (const w of r.warnings) err(`warning: ${w}`);
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
  }
}
