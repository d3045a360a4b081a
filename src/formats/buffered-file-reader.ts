// A forward reader over a FileHandle through one reused window: header parsers (GGUF) read millions of
// small fields, so each field must be a plain buffer read, with I/O only when the window runs out,
// and spans the parser does not need are skipped by moving the position, without reading them.
import type { FileHandle } from "node:fs/promises";
import { ModelLibraryError, ioError } from "../core/errors.js";

export const DEFAULT_WINDOW_BYTES = 1024 * 1024;

export class BufferedFileReader {
  /** Absolute offset of the next byte to read. */
  pos = 0;
  private readonly window: Buffer;
  private windowStart = 0; // file offset of window[0]
  private windowLength = 0; // valid bytes in the window

  constructor(
    private readonly fh: FileHandle,
    readonly path: string,
    readonly size: number,
    windowBytes: number = DEFAULT_WINDOW_BYTES,
  ) {
    // A small file never needs more than its own size.
    this.window = Buffer.allocUnsafe(Math.max(16, Math.min(windowBytes, size)));
  }

  /** Bytes between the position and the end of the file. */
  get remaining(): number {
    return this.size - this.pos;
  }

  /** True when `n` bytes at the position are already in the window (no I/O needed). */
  has(n: number): boolean {
    return this.pos >= this.windowStart && this.pos + n <= this.windowStart + this.windowLength;
  }

  /**
   * Makes `n` bytes at the position readable with the sync getters. `n` must not exceed the window;
   * throws E_TRUNCATED naming `what` when the file ends first.
   */
  async need(n: number, what: string): Promise<void> {
    if (this.has(n)) return;
    if (this.pos + n > this.size) throw this.truncated(what, n);
    if (n > this.window.length) throw new Error(`BufferedFileReader: ${n} bytes do not fit a ${this.window.length}-byte window`);
    const want = Math.min(this.window.length, this.size - this.pos);
    let got = 0;
    try {
      while (got < want) {
        const { bytesRead } = await this.fh.read(this.window, got, want - got, this.pos + got);
        if (bytesRead === 0) break; // the file shrank under us
        got += bytesRead;
      }
    } catch (e) {
      throw ioError(this.path, "read", e);
    }
    this.windowStart = this.pos;
    this.windowLength = got;
    if (got < n) throw this.truncated(what, n);
  }

  /** Moves the position forward by `n` bytes without reading them; E_TRUNCATED past the end. */
  skip(n: number, what: string): void {
    if (this.pos + n > this.size) throw this.truncated(what, n);
    this.pos += n;
  }

  /** Reads `n` bytes (which the caller has bounded by `remaining`); the result is a copy only when it must be. */
  async bytes(n: number, what: string): Promise<Buffer> {
    if (n <= this.window.length) {
      await this.need(n, what);
      const at = this.pos - this.windowStart;
      this.pos += n;
      return this.window.subarray(at, at + n);
    }
    if (this.pos + n > this.size) throw this.truncated(what, n);
    const out = Buffer.allocUnsafe(n);
    let got = 0;
    try {
      while (got < n) {
        const { bytesRead } = await this.fh.read(out, got, n - got, this.pos + got);
        if (bytesRead === 0) throw this.truncated(what, n);
        got += bytesRead;
      }
    } catch (e) {
      if (e instanceof ModelLibraryError) throw e;
      throw ioError(this.path, "read", e);
    }
    this.pos += n;
    return out;
  }

  // Sync getters: valid only after need()/has() said the bytes are in the window.
  u8(): number {
    const v = this.window[this.pos - this.windowStart];
    this.pos += 1;
    return v;
  }
  i8(): number {
    const v = this.window.readInt8(this.pos - this.windowStart);
    this.pos += 1;
    return v;
  }
  u16(): number {
    const v = this.window.readUInt16LE(this.pos - this.windowStart);
    this.pos += 2;
    return v;
  }
  i16(): number {
    const v = this.window.readInt16LE(this.pos - this.windowStart);
    this.pos += 2;
    return v;
  }
  u32(): number {
    const v = this.window.readUInt32LE(this.pos - this.windowStart);
    this.pos += 4;
    return v;
  }
  i32(): number {
    const v = this.window.readInt32LE(this.pos - this.windowStart);
    this.pos += 4;
    return v;
  }
  f32(): number {
    const v = this.window.readFloatLE(this.pos - this.windowStart);
    this.pos += 4;
    return v;
  }
  f64(): number {
    const v = this.window.readDoubleLE(this.pos - this.windowStart);
    this.pos += 8;
    return v;
  }
  /** A u64 as a number: exact up to 2^53, approximate beyond (enough to reject absurd counts). */
  u64Approx(): number {
    const at = this.pos - this.windowStart;
    const v = this.window.readUInt32LE(at + 4) * 0x1_0000_0000 + this.window.readUInt32LE(at);
    this.pos += 8;
    return v;
  }
  u64(): bigint {
    const v = this.window.readBigUInt64LE(this.pos - this.windowStart);
    this.pos += 8;
    return v;
  }
  i64(): bigint {
    const v = this.window.readBigInt64LE(this.pos - this.windowStart);
    this.pos += 8;
    return v;
  }

  truncated(what: string, n: number): ModelLibraryError {
    const left = Math.max(0, this.size - this.pos);
    return new ModelLibraryError(
      "E_TRUNCATED",
      `${this.path}: truncated: ${what} needs ${n} bytes at offset ${this.pos}, but the file ends after ${left}`,
      { path: this.path },
    );
  }
}
