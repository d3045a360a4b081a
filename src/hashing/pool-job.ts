// What a hashFiles worker runs for one file (pool.ts): the whole file hashed inside the calling thread with
// synchronous reads into one reused buffer, SHA-256, BLAKE3 and the fast hash from the same bytes. N workers
// running this keep N cores busy without any per-chunk hand-off.
import { createHash } from "node:crypto";
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { createBlake3 } from "./blake3.js";
import { FastHasher } from "./fast-hash.js";
import { autoV2Of, type FileHashes } from "./types.js";
import { changedWhileHashing } from "./changed-error.js";

/**
 * `cancelled()` is polled between chunks (2 MiB, ~2 ms); when it turns true the hash stops with `null`.
 * `onChunk(bytes)` reports each chunk as it is hashed.
 */
export async function hashWholeFileSync(
  path: string,
  buf: Uint8Array,
  cancelled: () => boolean,
  onChunk: (bytes: number) => void,
): Promise<FileHashes | null> {
  if (cancelled()) return null; // e.g. the call was aborted while this worker was starting
  const blake3 = await createBlake3();
  let fd: number;
  try {
    fd = openSync(path, "r");
  } catch (e) {
    throw ioError(path, "open", e);
  }
  try {
    const before = fstatSync(fd);
    const size = before.size;
    const sha = createHash("sha256");
    const fast = new FastHasher(size);
    let offset = 0;
    while (true) {
      if (cancelled()) return null;
      const n = readSync(fd, buf, 0, buf.length, offset);
      if (n === 0) break;
      const chunk = buf.subarray(0, n);
      sha.update(chunk);
      blake3.update(chunk);
      fast.update(chunk, offset);
      offset += n;
      if (offset > size) break; // grew: reported below, no need to read the rest
      onChunk(n);
    }
    const after = fstatSync(fd);
    if (offset !== size || after.size !== size || after.mtimeMs !== before.mtimeMs) {
      throw changedWhileHashing(path, size, offset, after.size);
    }
    const sha256 = sha.digest("hex");
    return { size, sha256, blake3: blake3.digestHex(), fastHash: fast.digestHex(), autoV2: autoV2Of(sha256) };
  } catch (e) {
    if (e instanceof ModelLibraryError) throw e;
    throw ioError(path, "read", e);
  } finally {
    closeSync(fd);
  }
}
