// SHA-256 and BLAKE3 of a file being written out of order by several connections, computed as its contiguous
// prefix grows — so the check at the end costs nothing more than the last bytes (no second pass over the file).
// Bytes that arrive exactly at the hashed prefix are hashed from memory as they are written; bytes that land
// ahead of it (other connections' parts) are read back from the page cache when the prefix reaches them.
import { createHash, type Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { Worker } from "node:worker_threads";
import { createBlake3, nativeBlake3Path, type Blake3 } from "../hashing/blake3.js";
import { PREFIX_HASH_WORKER_SOURCE } from "./prefix-hash-worker-source.js";

/** What the download engine needs of a hasher that follows the written prefix. */
export interface PrefixHashing {
  readonly hashed: number;
  written(pos: number, buf: Uint8Array): void;
  catchUp(): Promise<void>;
  digest(): Promise<{ sha256: string; blake3: string }>;
  close(): void;
}

const READ_CHUNK = 4 * 1024 * 1024;
const POST_EVERY = 8 * 1024 * 1024;

export class PrefixHasher implements PrefixHashing {
  private readonly sha: Hash = createHash("sha256");
  private hashedBytes = 0;
  private catchingUp: Promise<void> | null = null;
  private readBuf: Buffer | null = null;

  private constructor(
    private readonly blake3: Blake3,
    private readonly fh: FileHandle,
    /** The end of the contiguous written prefix, asked each time (the parts' progress lives with the caller). */
    private readonly prefixEnd: () => number,
  ) {}

  static async create(fh: FileHandle, prefixEnd: () => number): Promise<PrefixHasher> {
    return new PrefixHasher(await createBlake3(), fh, prefixEnd);
  }

  get hashed(): number {
    return this.hashedBytes;
  }

  /** Call after `buf` has been written at `pos`: hashes it from memory when it continues the prefix, else schedules a read-back. */
  written(pos: number, buf: Uint8Array): void {
    const end = pos + buf.length;
    if (!this.catchingUp && pos <= this.hashedBytes && end > this.hashedBytes) {
      this.update(buf.subarray(this.hashedBytes - pos));
    }
    // Not awaited here: a read-back that fails (the download ended on a write error, a full disk, and closed the
    // file under it) must not surface as an unhandled rejection; digest() reads again and reports what fails.
    if (this.prefixEnd() > this.hashedBytes) this.catchUp().catch(() => undefined);
  }

  /** Reads and hashes whatever of the prefix is written but not hashed yet; resolves when caught up. */
  catchUp(): Promise<void> {
    if (!this.catchingUp) {
      this.catchingUp = this.readBack().finally(() => {
        this.catchingUp = null;
      });
    }
    return this.catchingUp;
  }

  private async readBack(): Promise<void> {
    this.readBuf ??= Buffer.allocUnsafe(READ_CHUNK);
    for (;;) {
      const target = this.prefixEnd();
      if (target <= this.hashedBytes) return;
      const len = Math.min(READ_CHUNK, target - this.hashedBytes);
      const { bytesRead } = await this.fh.read(this.readBuf, 0, len, this.hashedBytes);
      if (bytesRead <= 0) throw new Error(`short read at ${this.hashedBytes} while hashing the download`);
      this.update(this.readBuf.subarray(0, bytesRead));
    }
  }

  private update(bytes: Uint8Array): void {
    this.sha.update(bytes);
    this.blake3.update(bytes);
    this.hashedBytes += bytes.length;
  }

  /** Both digests; call once the whole file is hashed. */
  async digest(): Promise<{ sha256: string; blake3: string }> {
    await this.catchUp();
    return { sha256: this.sha.digest("hex"), blake3: this.blake3.digestHex() };
  }

  close(): void {}
}

/**
 * The same in a worker thread, which reads the prefix back from the page cache: the thread receiving the bytes
 * then only copies and writes them. SHA-256 costs ~0.65 s of core time per GiB here: on the receiving thread it
 * held a download to a fraction of curl's speed; in a worker it runs beside it.
 */
export class WorkerPrefixHasher implements PrefixHashing {
  private posted = 0;
  private result: { sha256: string; blake3: string; hashed: number } | null = null;
  private failure: Error | null = null;
  private waiter: ((v: void) => void) | null = null;

  private constructor(
    private readonly worker: Worker,
    private readonly prefixEnd: () => number,
  ) {
    worker.on("message", (m: { type: string; sha256?: string; blake3?: string; hashed?: number; message?: string }) => {
      if (m.type === "done") this.result = { sha256: m.sha256!, blake3: m.blake3!, hashed: m.hashed! };
      else if (m.type === "error") this.failure = new Error(m.message);
      else return;
      this.waiter?.();
    });
    worker.on("error", (e) => {
      this.failure = e;
      this.waiter?.();
    });
  }

  static create(path: string, prefixEnd: () => number): WorkerPrefixHasher {
    const h = new WorkerPrefixHasher(startWorker(), prefixEnd);
    h.worker.postMessage({ type: "open", path });
    h.post();
    return h;
  }

  get hashed(): number {
    return this.result?.hashed ?? 0;
  }

  private post(): void {
    const end = this.prefixEnd();
    if (end > this.posted) {
      this.posted = end;
      this.worker.postMessage({ type: "prefix", end });
    }
  }

  written(): void {
    // One message per few MiB of progress, not per 64 KiB chunk (postMessage cost ~0.25 s a GiB per chunk).
    if (this.prefixEnd() - this.posted >= POST_EVERY) this.post();
  }

  async catchUp(): Promise<void> {
    this.post();
  }

  async digest(): Promise<{ sha256: string; blake3: string }> {
    this.post();
    const done = new Promise<void>((resolve) => (this.waiter = resolve));
    this.worker.postMessage({ type: "finish" });
    if (!this.result && !this.failure) await done;
    if (this.failure) throw this.failure;
    return { sha256: this.result!.sha256, blake3: this.result!.blake3 };
  }

  close(): void {
    void this.worker.terminate();
  }
}

/** The hashing worker: plain JS (prefix-hash-worker-source.ts), with the BLAKE3 backend this thread would use. */
function startWorker(): Worker {
  const native = nativeBlake3Path();
  return new Worker(PREFIX_HASH_WORKER_SOURCE, {
    eval: true,
    execArgv: [],
    workerData: { native, wasm: native ? null : import.meta.resolve("hash-wasm") },
  });
}
