// Bounded reads from a file: every reader in formats/ reads headers through these, so no declared
// length can make us allocate or read more than the file holds.
import type { FileHandle } from "node:fs/promises";
import { ModelLibraryError } from "../core/errors.js";
import { openForReading } from "../core/open-for-reading.js";

/** Reads up to `n` bytes from the start of the file; returns fewer when the file is shorter. */
export async function readHead(path: string, n: number): Promise<{ bytes: Buffer; size: number }> {
  const fh = await openForReading(path);
  try {
    const size = (await fh.stat()).size;
    const want = Math.min(n, size);
    const bytes = Buffer.alloc(want);
    const { bytesRead } = await fh.read(bytes, 0, want, 0);
    return { bytes: bytes.subarray(0, bytesRead), size };
  } finally {
    await fh.close();
  }
}

/**
 * Reads exactly `length` bytes at `position`, or throws E_TRUNCATED naming `what` (e.g. "safetensors header").
 * The caller must have checked `length` against the file size and its own cap before calling.
 */
export async function readExactly(
  fh: FileHandle,
  path: string,
  position: number,
  length: number,
  what: string,
): Promise<Buffer> {
  const buf = Buffer.alloc(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await fh.read(buf, done, length - done, position + done);
    if (bytesRead === 0) {
      throw new ModelLibraryError(
        "E_TRUNCATED",
        `${path}: truncated: ${what} needs ${length} bytes at offset ${position}, the file ends after ${done}`,
        { path },
      );
    }
    done += bytesRead;
  }
  return buf;
}
