import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { closeHashWorkers, copyWhileHashing, hashFile } from "../../src/hashing/index.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import { tempDir } from "../helpers/library-fixtures.js";

describe("copyWhileHashing", () => {
  test.after(() => closeHashWorkers());

  test("the copy is byte-identical and the hashes are the source's", async () => {
    const t = tempDir();
    try {
      for (const size of [0, 1, 8 * 1024 * 1024 + 1, 20 * 1024 * 1024]) {
        const src = join(t.dir, `src-${size}`);
        writeFileSync(src, randomFillSync(Buffer.alloc(size)));
        const dst = join(t.dir, `dst-${size}`);
        const h = await copyWhileHashing(src, dst);
        assert.ok(readFileSync(dst).equals(readFileSync(src)), `size ${size}`);
        assert.equal(h.sha256, createHash("sha256").update(readFileSync(src)).digest("hex"));
        assert.deepEqual(h, await hashFile(src));
      }
    } finally {
      t.cleanup();
    }
  });

  test("never overwrites; a missing source leaves nothing", async () => {
    const t = tempDir();
    try {
      const src = join(t.dir, "src");
      writeFileSync(src, "model bytes");
      const dst = join(t.dir, "dst");
      writeFileSync(dst, "precious");
      await assert.rejects(copyWhileHashing(src, dst), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_EXISTS");
      assert.equal(readFileSync(dst, "utf8"), "precious");
      await assert.rejects(copyWhileHashing(join(t.dir, "nope"), join(t.dir, "out")), /nope/);
      assert.equal(existsSync(join(t.dir, "out")), false);
    } finally {
      t.cleanup();
    }
  });

  test("a full disk: a clean ENOSPC error naming the copy, no partial file", async (tc) => {
    const t = tempDir();
    const mnt = join(t.dir, "small");
    mkdirSync(mnt);
    if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]).status !== 0) {
      t.cleanup();
      tc.skip("cannot mount a tmpfs here");
      return;
    }
    try {
      const src = join(t.dir, "big");
      writeFileSync(src, randomFillSync(Buffer.alloc(8 * 1024 * 1024)));
      const dst = join(mnt, "copy");
      await assert.rejects(copyWhileHashing(src, dst), (e: unknown) => e instanceof ModelLibraryError && /ENOSPC/.test(e.message) && e.message.includes(dst));
      assert.deepEqual(readdirSync(mnt), []);
    } finally {
      spawnSync("umount", [mnt]);
      t.cleanup();
    }
  });
});
