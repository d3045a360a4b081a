// copyAndHash: the copy is byte-identical, the hashes are those of the source, an existing destination
// is never overwritten, and a failure (full disk, abort, source changing) leaves no partial file. Both ways
// of copying (copy_file_range through the addon, and the read/write fallback) are run.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeHashWorkers, copyAndHash, copyWhileHashing, hashFile } from "../../../src/hashing/index.js";
import { isModelLibraryError } from "../../../src/core/errors.js";

const MiB = 1024 * 1024;
let dir: string;
let random: Buffer;

function source(name: string, size: number): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, random.subarray(0, size));
  return p;
}

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
  random = randomFillSync(Buffer.allocUnsafe(20 * MiB + 3));
});
after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await closeHashWorkers();
});

const BACKENDS = ["auto", "read-write"] as const;

describe("copyAndHash", () => {
  test("copies byte for byte and returns the source's hashes (inline and worker sizes, both copy backends)", async () => {
    for (const size of [0, 1, 8 * MiB + 1, 12 * MiB + 5, 20 * MiB]) {
      const src = source(`src-${size}.bin`, size);
      const sha256 = createHash("sha256").update(fs.readFileSync(src)).digest("hex");
      for (const blake3Thread of ["inline", "worker"] as const) {
        for (const copyVia of BACKENDS) {
          const dst = path.join(dir, `dst-${size}-${blake3Thread}-${copyVia}.bin`);
          const hashes = await copyAndHash(src, dst, { blake3Thread, copyVia });
          assert.ok(fs.readFileSync(dst).equals(fs.readFileSync(src)), `copy of ${size} bytes differs (${copyVia})`);
          assert.equal(hashes.sha256, sha256);
          assert.deepEqual(hashes, await hashFile(src));
          fs.rmSync(dst);
        }
      }
    }
  });

  test("the copy keeps the source's permission bits, as cp and fs.copyFile do", async () => {
    const src = source("mode.bin", 1000);
    fs.chmodSync(src, 0o640);
    const dst = path.join(dir, "mode-copy.bin");
    await copyAndHash(src, dst);
    assert.equal(fs.statSync(dst).mode & 0o777, 0o640);
  });

  test("copyWhileHashing is kept as an alias of copyAndHash", () => {
    assert.equal(copyWhileHashing, copyAndHash);
  });

  test("reports progress up to the size", async () => {
    const src = source("progress.bin", 20 * MiB + 3);
    const seen: number[] = [];
    await copyAndHash(src, path.join(dir, "progress-copy.bin"), { onProgress: (n) => seen.push(n) });
    assert.ok(seen.length >= 3);
    assert.equal(seen[seen.length - 1], 20 * MiB + 3);
  });

  test("refuses to overwrite an existing destination and leaves it untouched", async () => {
    const src = source("ow-src.bin", 1000);
    const dst = path.join(dir, "ow-dst.bin");
    fs.writeFileSync(dst, "precious");
    await assert.rejects(copyAndHash(src, dst), (e: unknown) => isModelLibraryError(e) && e.code === "E_EXISTS" && e.message.includes(dst));
    assert.equal(fs.readFileSync(dst, "utf8"), "precious");
    // nor through a symlink pointing at an existing file
    const link = path.join(dir, "ow-link.bin");
    fs.symlinkSync(dst, link);
    await assert.rejects(copyAndHash(src, link), (e: unknown) => isModelLibraryError(e) && e.code === "E_EXISTS");
    assert.equal(fs.readFileSync(dst, "utf8"), "precious");
  });

  test("a missing source, or a directory, is an E_IO naming it, and no destination is created", async () => {
    const src = path.join(dir, "missing.bin");
    const dst = path.join(dir, "missing-copy.bin");
    await assert.rejects(copyAndHash(src, dst), (e: unknown) => isModelLibraryError(e) && e.code === "E_IO" && e.message.includes(src));
    assert.equal(fs.existsSync(dst), false);
    // a directory opens for reading on Linux, but is no file to copy
    await assert.rejects(copyAndHash(dir, dst), (e: unknown) => isModelLibraryError(e) && e.code === "E_IO" && e.message.includes(dir) && /not a regular file/.test(e.message));
    assert.equal(fs.existsSync(dst), false);
  });

  test("an abort mid-copy removes the partial destination and throws E_CANCELLED", async () => {
    const src = source("abort.bin", 12 * MiB);
    for (const copyVia of BACKENDS) {
      const dst = path.join(dir, "abort-copy.bin");
      const ac = new AbortController();
      await assert.rejects(
        copyAndHash(src, dst, { signal: ac.signal, onProgress: () => ac.abort(), copyVia, copyChunkSize: MiB }),
        (e: unknown) => isModelLibraryError(e) && e.code === "E_CANCELLED",
      );
      assert.equal(fs.existsSync(dst), false);
    }
    // already aborted: nothing is created
    await assert.rejects(copyAndHash(src, path.join(dir, "never.bin"), { signal: AbortSignal.abort() }), (e: unknown) => isModelLibraryError(e) && e.code === "E_CANCELLED");
    assert.equal(fs.existsSync(path.join(dir, "never.bin")), false);
  });

  test("a source that changes mid-copy fails and removes the partial destination", async () => {
    for (const blake3Thread of ["inline", "worker"] as const) {
      const src = source("changing.bin", 12 * MiB);
      const dst = path.join(dir, "changing-copy.bin");
      let once = false;
      const onProgress = () => {
        if (!once) fs.appendFileSync(src, "x");
        once = true;
      };
      await assert.rejects(copyAndHash(src, dst, { onProgress, blake3Thread }), (e: unknown) => isModelLibraryError(e) && /changed while (hashing|being copied)/.test(e.message));
      assert.equal(fs.existsSync(dst), false);
    }
  });

  test("a full disk (4 MiB tmpfs) gives a clear ENOSPC error naming the copy and no partial file, both copy backends", async (t) => {
    const mnt = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const mount = spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt], { encoding: "utf8" });
      if (mount.status !== 0) {
        const why = `cannot mount a tmpfs here (${(mount.stderr || mount.error?.message || "").trim()}): SKIPPING the full-disk test`;
        console.log(`# ${why}`);
        t.skip(why);
        return;
      }
      try {
        const src = source("enospc.bin", 8 * MiB);
        const dst = path.join(mnt, "copy.bin");
        for (const copyVia of BACKENDS) {
          await assert.rejects(
            copyAndHash(src, dst, { copyVia }),
            (e: unknown) => isModelLibraryError(e) && e.code === "E_IO" && e.message.includes(dst) && e.message.includes("ENOSPC") && /no space left/.test(e.message),
          );
          assert.deepEqual(fs.readdirSync(mnt), [], `the partial copy was left behind (${copyVia})`);
        }
      } finally {
        spawnSync("umount", [mnt]);
      }
    } finally {
      fs.rmSync(mnt, { recursive: true, force: true });
    }
  });
});
