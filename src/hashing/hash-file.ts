// hashFile: SHA-256, BLAKE3, the fast hash and AutoV2 of a file from one read pass (see one-pass.ts).
import type { FileHashes } from "./file-hashes.js";
import { hashOnePass } from "./one-pass.js";
import { openForReading } from "../core/open-for-reading.js";

export interface HashFileOptions {
  /** called after each chunk with the bytes hashed so far */
  onProgress?: (bytesDone: number) => void;
  signal?: AbortSignal;
  /**
   * Where BLAKE3 runs. "auto" (default): in a worker thread, beside SHA-256 on this one, for files
   * big enough to pay for starting it; "inline": on this thread; "worker": always in the worker.
   */
  blake3Thread?: "auto" | "worker" | "inline";
}

export async function hashFile(path: string, options: HashFileOptions = {}): Promise<FileHashes> {
  options.signal?.throwIfAborted();
  const fh = await openForReading(path);
  try {
    return await hashOnePass(path, fh, options);
  } finally {
    await fh.close().catch(() => {});
  }
}
