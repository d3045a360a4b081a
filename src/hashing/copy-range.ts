// copyInChunks: copies the first `length` bytes of one open file into another in bounded chunks, checking an
// AbortSignal between chunks, so an abort never waits for a whole 20 GB file (fs.copyFile is one call that
// cannot be interrupted). Each chunk is one call of the native addon (native/copy_range.c, built at install
// into build/Release/copy_range.node): the kernel's copy_file_range on libuv's thread pool, as `cp` copies,
// the data never passing through JS. Where the addon is absent or the kernel refuses the copy (EXDEV across
// filesystems on older kernels, ENOSYS, EINVAL, EOPNOTSUPP), the bytes go through a reused buffer instead.
import type { FileHandle } from "node:fs/promises";
import { createRequire } from "node:module";
import { fileURLToPath } from "node:url";
import { getSystemErrorName } from "node:util";
import { throwIfAborted } from "../core/errors.js";

const MiB = 1024 * 1024;
/**
 * Bytes per kernel copy call: what an abort may have to wait for. 64 MiB takes ~20 ms from the page cache
 * and ~0.4 s from a 150 MB/s disk; the per-call cost (a thread-pool round trip) is negligible at this size.
 */
export const COPY_CHUNK_SIZE = 64 * MiB;
/** The fallback's buffer: reads and writes of this size, the signal checked between them. */
const FALLBACK_BUFFER = 4 * MiB;

export type CopyBackend = "copy_file_range" | "read-write";

export interface CopyInChunksOptions {
  signal?: AbortSignal;
  /** bytes per kernel copy call (default COPY_CHUNK_SIZE); tests use small ones to cross chunk edges */
  chunkSize?: number;
  /** "read-write" forces the fallback (tests); "auto" (default) uses copy_file_range where it works */
  via?: "auto" | "read-write";
  /** bytes copied so far, after each chunk */
  onCopied?: (bytes: number) => void;
  /** names the copy in the E_CANCELLED message */
  what?: string;
}

interface Addon {
  copyRange(fdIn: number, fdOut: number, offIn: number, offOut: number, length: number): Promise<number>;
}

let addon: Addon | null | undefined;

/** The compiled addon, two folders up from this file (src/hashing or dist/hashing) in build/Release. */
function loadAddon(): Addon | null {
  if (addon !== undefined) return addon;
  addon = null;
  try {
    const file = fileURLToPath(new URL("../../build/Release/copy_range.node", import.meta.url));
    const mod = createRequire(import.meta.url)(file) as Partial<Addon>;
    if (typeof mod.copyRange === "function") addon = mod as Addon;
  } catch {
    // not built (no compiler at install) or not loadable here: the read/write fallback
  }
  return addon;
}

/** Which way copyInChunks copies by default in this process ("read-write" when the addon is not built). */
export function copyBackend(): CopyBackend {
  return loadAddon() ? "copy_file_range" : "read-write";
}

/** The addon rejects with a bare errno; this gives it the code and message an fs error has. */
function errnoError(e: unknown): NodeJS.ErrnoException {
  const errno = (e as { errno?: unknown }).errno;
  if (typeof errno !== "number") return e as NodeJS.ErrnoException;
  const code = getSystemErrorName(errno);
  return Object.assign(new Error(`${code}: ${(e as Error).message}, copy_file_range`), { errno, code, syscall: "copy_file_range" });
}

/** The kernel cannot copy between these two files this way; the same bytes can still be read and written. */
function kernelRefused(e: NodeJS.ErrnoException): boolean {
  return e.code === "EXDEV" || e.code === "ENOSYS" || e.code === "EINVAL" || e.code === "EOPNOTSUPP" || e.code === "ENOTSUP";
}

// One spare fallback buffer kept between copies (a fresh 4 MiB costs page faults); a copy running beside
// another takes a new one.
let spareBuffer: Uint8Array | null = null;

async function readWriteRange(input: FileHandle, output: FileHandle, from: number, length: number, signal: AbortSignal | undefined, what: string): Promise<number> {
  const buf = spareBuffer ?? new Uint8Array(FALLBACK_BUFFER);
  spareBuffer = null;
  try {
    let done = 0;
    while (done < length) {
      throwIfAborted(signal, what);
      const { bytesRead } = await input.read(buf, 0, Math.min(buf.length, length - done), from + done);
      if (bytesRead === 0) break; // the source ended early: the caller sees the short count
      for (let written = 0; written < bytesRead; ) {
        const { bytesWritten } = await output.write(buf, written, bytesRead - written, from + done + written);
        written += bytesWritten;
      }
      done += bytesRead;
    }
    return done;
  } finally {
    spareBuffer = buf;
  }
}

export interface CopyResult {
  /** bytes copied: fewer than asked only when the source ended early */
  bytes: number;
  /** how the last chunk was copied ("read-write" once the kernel refused, or when forced) */
  via: CopyBackend;
}

/**
 * Copies bytes [0, length) of `input` to the same offsets of `output`. Throws the OS error of a failed read
 * or write (ENOSPC...), or E_CANCELLED when `signal` fires: a chunk already handed to the kernel finishes
 * first, nothing starts after it.
 */
export async function copyInChunks(input: FileHandle, output: FileHandle, length: number, options: CopyInChunksOptions = {}): Promise<CopyResult> {
  const { signal, onCopied, what = "copy" } = options;
  const chunkSize = Math.max(1, Math.floor(options.chunkSize ?? COPY_CHUNK_SIZE));
  let kernel = options.via === "read-write" ? null : loadAddon();
  let done = 0;
  while (done < length) {
    throwIfAborted(signal, what);
    const want = Math.min(chunkSize, length - done);
    let n: number;
    if (kernel) {
      try {
        n = await kernel.copyRange(input.fd, output.fd, done, done, want);
      } catch (e) {
        const err = errnoError(e);
        if (!kernelRefused(err)) throw err;
        kernel = null; // this pair of files is copied through the buffer from here on
        continue;
      }
      // copy_file_range reports 0 both at a real end and, on some special filesystems, when it cannot
      // copy at all: a read settles which one it is
      if (n === 0) {
        kernel = null;
        continue;
      }
    } else {
      n = await readWriteRange(input, output, done, want, signal, what);
      if (n === 0) break;
    }
    done += n;
    onCopied?.(done);
  }
  return { bytes: done, via: kernel ? "copy_file_range" : "read-write" };
}
