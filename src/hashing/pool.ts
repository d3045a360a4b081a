// hashFiles: many files hashed on every core. Each worker thread hashes whole files (SHA-256 and
// BLAKE3 in the same thread, one file at a time), so N workers keep N cores busy; a single file (or
// concurrency 1) goes through hashFile instead, whose SHA-256/BLAKE3 split across two threads is the
// fastest way to hash one file.
import { availableParallelism } from "node:os";
import { stat } from "node:fs/promises";
import { cancelledError, ioError, throwIfAborted } from "../core/errors.js";
import { CHUNK_SIZE, type FileHashes } from "./types.js";
import { hashFile } from "./hash-file.js";
import { fromWire, hashWorkers, newJobId, type HashWorker } from "./worker-host.js";

export interface HashFilesProgress {
  bytesDone: number;
  totalBytes: number;
  filesDone: number;
  totalFiles: number;
}

export interface HashFilesOptions {
  /** files hashed at once; default: the number of cores */
  concurrency?: number;
  onProgress?: (progress: HashFilesProgress) => void;
  /** aborting stops every worker at its next chunk (2 MiB); rejects with E_CANCELLED once the running ones have stopped */
  signal?: AbortSignal;
}

/** Hashes of `paths`, in the same order. The first file that fails rejects the whole call, naming it. */
export async function hashFiles(paths: readonly string[], options: HashFilesOptions = {}): Promise<FileHashes[]> {
  const what = `hash of ${paths.length} file${paths.length === 1 ? "" : "s"}`;
  throwIfAborted(options.signal, what);
  const concurrency = Math.max(1, Math.floor(options.concurrency ?? availableParallelism()));
  const sizes = await Promise.all(
    paths.map((p) =>
      stat(p).then(
        (s) => s.size,
        (e) => Promise.reject(ioError(p, "stat", e)),
      ),
    ),
  );
  throwIfAborted(options.signal, what);
  const progress: HashFilesProgress = {
    bytesDone: 0,
    totalBytes: sizes.reduce((a, b) => a + b, 0),
    filesDone: 0,
    totalFiles: paths.length,
  };
  if (paths.length === 0) return [];
  if (concurrency === 1 || paths.length === 1) return hashOneByOne(paths, progress, options);
  return hashInWorkers(paths, hashWorkers(Math.min(concurrency, paths.length)), progress, options, what);
}

async function hashOneByOne(paths: readonly string[], progress: HashFilesProgress, options: HashFilesOptions): Promise<FileHashes[]> {
  const results: FileHashes[] = [];
  for (const path of paths) {
    const base = progress.bytesDone;
    const hashes = await hashFile(path, {
      signal: options.signal,
      onProgress: (done) => {
        progress.bytesDone = base + done;
        options.onProgress?.({ ...progress });
      },
    });
    progress.bytesDone = base + hashes.size;
    progress.filesDone++;
    options.onProgress?.({ ...progress });
    results.push(hashes);
  }
  return results;
}

function hashInWorkers(
  paths: readonly string[],
  workers: HashWorker[],
  progress: HashFilesProgress,
  options: HashFilesOptions,
  what: string,
): Promise<FileHashes[]> {
  const { onProgress, signal } = options;
  const results = new Array<FileHashes>(paths.length);
  // one flag for the whole call: workers poll it between chunks, so an error or abort stops them all
  const cancel = new Int32Array(new SharedArrayBuffer(4));
  let next = 0;
  let running = 0;
  let failure: unknown = null;
  // jobs handed out and not answered yet, with their worker
  const active = new Map<number, HashWorker>();

  return new Promise((resolve, reject) => {
    const settle = () => {
      if (running > 0) return;
      signal?.removeEventListener("abort", onAbort);
      if (failure !== null) reject(failure);
      else resolve(results);
    };
    const stop = (e: unknown) => {
      failure ??= e;
      Atomics.store(cancel, 0, 1);
    };
    // runs inside worker-message handlers, where a throw would be uncaught: it stops the call instead
    const report = () => {
      try {
        onProgress?.({ ...progress });
      } catch (e) {
        stop(e);
      }
    };
    // The call settles once every running worker has answered (each stops within a chunk), so none is left
    // busy. A worker still starting has not begun its job: it is released at once, and sees the flag set
    // before its first read when it comes up (a start can take a few hundred ms on a loaded machine).
    const onAbort = () => {
      stop(cancelledError(what));
      for (const [job, worker] of active) {
        if (worker.ready) continue;
        worker.end(job);
        active.delete(job);
        running--;
      }
      settle();
    };
    signal?.addEventListener("abort", onAbort, { once: true });

    const startNext = (worker: HashWorker) => {
      if (failure !== null || next >= paths.length) return settle();
      const index = next++;
      const job = newJobId();
      running++;
      active.set(job, worker);
      worker.begin(job, (msg) => {
        if (msg.type === "progress") {
          progress.bytesDone += msg.bytes;
          report();
          return;
        }
        if (msg.type !== "file-result" && msg.type !== "error") return;
        worker.end(job);
        active.delete(job);
        running--;
        if (msg.type === "error") stop(fromWire(msg.error));
        else if (msg.hashes) {
          results[index] = msg.hashes;
          progress.filesDone++;
          report();
        }
        startNext(worker);
      });
      worker.post({ type: "file", job, path: paths[index], chunkSize: CHUNK_SIZE, cancel });
    };
    for (const w of workers) startNext(w);
  });
}
