// hashFile: SHA-256, BLAKE3, the fast hash and AutoV2 of a file from one read pass (see split-pass.ts).
import { throwIfAborted } from "../core/errors.js";
import { openForReading } from "../core/open-for-reading.js";
import { hashSplitPass } from "./split-pass.js";
import type { FileHashes } from "./types.js";

export interface HashFileOptions {
  /** called after each chunk with the bytes hashed so far */
  onProgress?: (bytesDone: number) => void;
  /** aborting stops the hash within a chunk (2 MiB) and rejects with E_CANCELLED */
  signal?: AbortSignal;
  /**
   * Where BLAKE3 runs. "auto" (default): in a worker thread, beside SHA-256 on this one, for files
   * big enough to pay for starting it; "inline": on this thread; "worker": always in the worker.
   */
  blake3Thread?: "auto" | "worker" | "inline";
}

export async function hashFile(path: string, options: HashFileOptions = {}): Promise<FileHashes> {
  throwIfAborted(options.signal, `hash of ${path}`);
  const fh = await openForReading(path);
  try {
    return await hashSplitPass(path, fh, options);
  } finally {
    await fh.close().catch(() => {});
  }
}
