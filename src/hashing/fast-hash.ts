// The original's "fast hash" (hashing.rs compute_fast_hash), byte for byte: SHA-256 over the first
// min(size, 8 MiB), then the last 8 MiB only when size > 16 MiB, then the size as a u64 little-endian.
// FastHasher computes it from the chunks of a full read pass; fastHashFile reads only head and tail.
import { createHash, type Hash } from "node:crypto";
import { ModelLibraryError, ioError, throwIfAborted } from "../core/errors.js";
import { openForReading } from "../core/open-for-reading.js";

export const FAST_HASH_SPAN = 8 * 1024 * 1024;

/** Byte ranges [start, end) of a file of `size` bytes that the fast hash covers, in feeding order. */
export function fastHashRanges(size: number): Array<[number, number]> {
  const ranges: Array<[number, number]> = [[0, Math.min(size, FAST_HASH_SPAN)]];
  if (size > 2 * FAST_HASH_SPAN) ranges.push([size - FAST_HASH_SPAN, size]);
  return ranges;
}

function sizeTrailer(size: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(BigInt(size));
  return b;
}

/** Feeds the fast hash from consecutive chunks of one sequential pass over a file of known size. */
export class FastHasher {
  private readonly hash: Hash = createHash("sha256");
  private readonly ranges: Array<[number, number]>;

  constructor(private readonly size: number) {
    this.ranges = fastHashRanges(size);
  }

  /** `chunk` holds the file's bytes starting at `offset`; chunks must arrive in file order. */
  update(chunk: Uint8Array, offset: number): void {
    const end = offset + chunk.length;
    for (const [a, b] of this.ranges) {
      const from = Math.max(a, offset);
      const to = Math.min(b, end);
      if (from < to) this.hash.update(chunk.subarray(from - offset, to - offset));
    }
  }

  digestHex(): string {
    this.hash.update(sizeTrailer(this.size));
    return this.hash.digest("hex");
  }
}

const FAST_HASH_READ = 1024 * 1024;

export interface FastHashFileOptions {
  /** checked before each 1 MiB read: aborting rejects with E_CANCELLED */
  signal?: AbortSignal;
}

/** The fast hash read straight from disk: at most 16 MiB read whatever the size (the cheap dedup pre-check). */
export async function fastHashFile(path: string, options: FastHashFileOptions = {}): Promise<string> {
  const { signal } = options;
  const what = `fast hash of ${path}`;
  throwIfAborted(signal, what);
  const fh = await openForReading(path);
  try {
    const size = (await fh.stat()).size;
    const hasher = new FastHasher(size);
    // A small buffer read into again and again: two fresh 8 MiB buffers cost ~60 ms of page faults on a VM
    // (most of a 1 GiB import's dedup check), the reads themselves ~10 ms.
    const buf = Buffer.allocUnsafe(Math.min(size, FAST_HASH_READ));
    for (const [start, end] of fastHashRanges(size)) {
      for (let pos = start; pos < end; ) {
        throwIfAborted(signal, what);
        const { bytesRead } = await fh.read(buf, 0, Math.min(buf.length, end - pos), pos);
        if (bytesRead === 0) {
          throw new ModelLibraryError("E_IO", `${path}: changed while hashing (ended at ${pos} of ${size} bytes)`, { path });
        }
        hasher.update(buf.subarray(0, bytesRead), pos);
        pos += bytesRead;
      }
    }
    return hasher.digestHex();
  } catch (e) {
    if (e instanceof ModelLibraryError) throw e;
    throw ioError(path, "read", e);
  } finally {
    await fh.close().catch(() => {});
  }
}
