// copyInChunks: the exact bytes (sha256 equal) for sizes around the chunk edges, through copy_file_range (the
// native addon) and through the read/write fallback, forced or taken when the kernel refuses; an abort between
// chunks; OS errors passed on. And the addon itself: built by the install script, loadable, rejecting bad input.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import fs from "node:fs";
import { open } from "node:fs/promises";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { copyBackend, copyInChunks, type CopyInChunksOptions } from "../../../src/hashing/copy-range.js";
import { isModelLibraryError } from "../../../src/core/errors.js";

const KiB = 1024;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const addonFile = path.join(repoRoot, "build/Release/copy_range.node");
let dir: string;
let random: Buffer;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
  random = randomFillSync(Buffer.allocUnsafe(5 * 64 * KiB + 7));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

const sha256 = (p: string) => createHash("sha256").update(fs.readFileSync(p)).digest("hex");

/** Copies `src` into a new `dst` with copyInChunks; the copied length and the backend that copied it. */
async function copy(src: string, dst: string, options: CopyInChunksOptions, length = fs.statSync(src).size) {
  const input = await open(src, "r");
  const output = await open(dst, "wx");
  try {
    return await copyInChunks(input, output, length, options);
  } finally {
    await input.close();
    await output.close();
  }
}

describe("copyInChunks", () => {
  test("the native addon is built and loads (the install script builds it with node-gyp)", (t) => {
    if (!fs.existsSync(addonFile)) {
      const why = `${addonFile} is not built (no compiler at install?): SKIPPING; copies use the read/write fallback`;
      console.log(`# ${why}`);
      t.skip(why);
      return;
    }
    assert.equal(copyBackend(), "copy_file_range");
  });

  test("the exact bytes for sizes around the chunk edges, both backends", async () => {
    const chunk = 64 * KiB;
    const backends = copyBackend() === "copy_file_range" ? (["auto", "read-write"] as const) : (["read-write"] as const);
    for (const size of [0, 1, chunk - 1, chunk, chunk + 1, 2 * chunk, 3 * chunk - 1, 5 * chunk + 7]) {
      const src = path.join(dir, `src-${size}.bin`);
      fs.writeFileSync(src, random.subarray(0, size));
      for (const backend of backends) {
        const dst = path.join(dir, `dst-${size}-${backend}.bin`);
        const reports: number[] = [];
        const res = await copy(src, dst, { chunkSize: chunk, via: backend, onCopied: (n) => reports.push(n) });
        assert.equal(res.bytes, size);
        assert.equal(res.via, backend === "auto" ? "copy_file_range" : "read-write");
        assert.equal(sha256(dst), sha256(src), `size ${size}, ${backend}`);
        assert.equal(reports.length, Math.ceil(size / chunk), `one report per chunk (size ${size}, ${backend})`);
        fs.rmSync(dst);
      }
    }
  });

  test("a source shorter than asked: the bytes it has, and the short count", async () => {
    const src = path.join(dir, "short.bin");
    fs.writeFileSync(src, random.subarray(0, 100 * KiB));
    for (const backend of ["auto", "read-write"] as const) {
      const dst = path.join(dir, `short-${backend}.bin`);
      const res = await copy(src, dst, { chunkSize: 64 * KiB, via: backend }, 300 * KiB);
      assert.equal(res.bytes, 100 * KiB);
      assert.equal(sha256(dst), sha256(src));
    }
  });

  test("where the kernel refuses copy_file_range (not a regular file: EINVAL) it falls back to read/write", async (t) => {
    if (copyBackend() !== "copy_file_range") return t.skip("the addon is not built: every copy is read/write already");
    const dst = path.join(dir, "from-dev-zero.bin");
    const res = await copy("/dev/zero", dst, { chunkSize: 64 * KiB }, 200 * KiB + 3);
    assert.deepEqual(res, { bytes: 200 * KiB + 3, via: "read-write" });
    assert.ok(fs.readFileSync(dst).equals(Buffer.alloc(200 * KiB + 3)));
  });

  test("across filesystems (tmpfs /dev/shm to the temp dir): the same bytes, whichever way the kernel allows", async (t) => {
    const shm = "/dev/shm";
    if (!fs.existsSync(shm) || fs.statSync(shm).dev === fs.statSync(dir).dev) return t.skip("no second filesystem at /dev/shm");
    const shmDir = fs.mkdtempSync(path.join(shm, "mlib-"));
    try {
      const src = path.join(shmDir, "src.bin");
      fs.writeFileSync(src, random);
      const dst = path.join(dir, "cross-fs.bin");
      const res = await copy(src, dst, { chunkSize: 64 * KiB });
      assert.equal(res.bytes, random.length);
      assert.equal(sha256(dst), sha256(src));
    } finally {
      fs.rmSync(shmDir, { recursive: true, force: true });
    }
  });

  test("an abort between chunks stops the copy with E_CANCELLED, nothing copied after it", async () => {
    const src = path.join(dir, "abort.bin");
    fs.writeFileSync(src, random);
    for (const backend of ["auto", "read-write"] as const) {
      const dst = path.join(dir, `abort-${backend}.bin`);
      const ac = new AbortController();
      await assert.rejects(
        copy(src, dst, { chunkSize: 64 * KiB, via: backend, signal: ac.signal, onCopied: (n) => n >= 128 * KiB && ac.abort() }),
        (e: unknown) => isModelLibraryError(e) && e.code === "E_CANCELLED",
      );
      assert.equal(fs.statSync(dst).size, 128 * KiB, `${backend}: stopped after the chunk in flight`);
    }
  });

  test("an OS error is passed on with its code (EBADF: the destination is read-only)", async (t) => {
    if (copyBackend() !== "copy_file_range") return t.skip("the addon is not built");
    const src = path.join(dir, "ebadf.bin");
    fs.writeFileSync(src, random.subarray(0, 1000));
    const input = await open(src, "r");
    const output = await open(src, "r");
    try {
      await assert.rejects(copyInChunks(input, output, 1000), (e: unknown) => (e as NodeJS.ErrnoException).code === "EBADF" && /copy_file_range/.test((e as Error).message));
    } finally {
      await input.close();
      await output.close();
    }
  });

  test("the addon rejects bad arguments with a TypeError", (t) => {
    if (!fs.existsSync(addonFile)) return t.skip("the addon is not built");
    const { copyRange } = createRequire(import.meta.url)(addonFile) as { copyRange: (...args: unknown[]) => Promise<number> };
    assert.throws(() => copyRange(1, 2), TypeError);
    assert.throws(() => copyRange("a", 1, 0, 0, 1), TypeError);
    assert.throws(() => copyRange(0, 1, -1, 0, 1), TypeError);
  });
});
