// SHA-256 and BLAKE3 of a file being written out of order by several connections, computed as its contiguous
// prefix grows — so the check at the end costs nothing more than the last bytes (no second pass over the file).
// Bytes that arrive exactly at the hashed prefix are hashed from memory as they are written; bytes that land
// ahead of it (other connections' parts) are read back from the page cache when the prefix reaches them.
import { createHash, type Hash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { createBlake3, type Blake3 } from "../hashing/blake3.js";

const READ_CHUNK = 4 * 1024 * 1024;

export class PrefixHasher {
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
    if (this.prefixEnd() > this.hashedBytes) this.catchUp();
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
}
