// Imports that cross filesystems or need one that can clone: real mounts (tmpfs, an XFS image with reflink),
// made and unmounted by the test; skipped with a message where this machine does not allow mounting.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary, importModels, verifyModels } from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { tempDir, writeGgufModel } from "../helpers/library-fixtures.js";

const sha256 = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

function mount(args: string[]): string | null {
  const r = spawnSync("mount", args);
  return r.status === 0 ? null : String(r.stderr).trim() || `mount exited ${r.status}`;
}

describe("imports across filesystems", () => {
  test.after(() => closeHashWorkers());

  test("move and hardlink from another filesystem: copied, verified, the moved source deleted only then", async (t) => {
    const tmp = tempDir();
    const other = join(tmp.dir, "other-fs");
    mkdirSync(other);
    const why = mount(["-t", "tmpfs", "-o", "size=16m", "tmpfs", other]);
    if (why) {
      tmp.cleanup();
      t.skip(`cannot mount tmpfs here (${why})`);
      return;
    }
    try {
      const lib = await ModelLibrary.open(join(tmp.dir, "lib"));
      try {
        const moved = writeGgufModel(join(other, "moved.gguf"), "Moved", 1);
        const linked = writeGgufModel(join(other, "linked.gguf"), "Linked", 2);
        const movedHash = sha256(moved);
        const [m] = await importModels(lib, [moved], { mode: "move" });
        assert.equal(m.status, "imported", m.error?.message);
        assert.equal(existsSync(moved), false, "source removed after the verified copy was committed");
        assert.equal(sha256(join(m.path!, "moved.gguf")), movedHash);
        const [h] = await importModels(lib, [linked], { mode: "hardlink" });
        assert.equal(h.status, "imported", h.error?.message);
        assert.ok(existsSync(linked), "hardlink mode never removes the source");
        assert.ok(h.warnings.some((w) => /another filesystem/.test(w)), h.warnings.join("; "));
        assert.ok((await verifyModels(lib)).every((r) => r.ok));
      } finally {
        lib.close();
      }
    } finally {
      spawnSync("umount", [other]);
      tmp.cleanup();
    }
  });

  test("reflink on XFS clones without copying; on ext4/tmpfs it falls back to a copy with a warning", async (t) => {
    if (spawnSync("sh", ["-c", "command -v mkfs.xfs"]).status !== 0) {
      t.skip("mkfs.xfs not installed (apt-get install xfsprogs)");
      return;
    }
    const tmp = tempDir();
    const img = join(tmp.dir, "xfs.img");
    const mnt = join(tmp.dir, "xfs");
    mkdirSync(mnt);
    writeFileSync(img, "");
    spawnSync("truncate", ["-s", "320M", img]);
    const mkfs = spawnSync("mkfs.xfs", ["-q", "-f", "-m", "reflink=1", img]);
    const why = mkfs.status === 0 ? mount(["-o", "loop", img, mnt]) : String(mkfs.stderr);
    if (why) {
      tmp.cleanup();
      t.skip(`cannot make or mount an XFS image here (${why})`);
      return;
    }
    try {
      const lib = await ModelLibrary.open(join(mnt, "lib"));
      try {
        const src = writeGgufModel(join(mnt, "src", "cloned.gguf"), "Cloned", 3);
        const dfBefore = spawnSync("df", ["--output=used", "-B1", mnt]).stdout.toString();
        const [r] = await importModels(lib, [src], { mode: "reflink" });
        assert.equal(r.status, "imported", r.error?.message);
        assert.equal(r.warnings.some((w) => /reflink/.test(w)), false, "a real clone: no fallback warning");
        assert.equal(sha256(join(r.path!, "cloned.gguf")), sha256(src));
        // A clone shares the source's blocks: writing to one does not change the other.
        writeFileSync(src, "changed");
        assert.ok((await verifyModels(lib)).every((v) => v.ok), "the stored clone is intact after the source changed");
        t.diagnostic(`df used before/after import: ${dfBefore.trim().split("\n").pop()} / ${spawnSync("df", ["--output=used", "-B1", mnt]).stdout.toString().trim().split("\n").pop()}`);
      } finally {
        lib.close();
      }
      // ext4 (the temp dir) has no reflink: a copy, said so.
      const lib2 = await ModelLibrary.open(join(tmp.dir, "lib-ext4"));
      try {
        const [c] = await importModels(lib2, [writeGgufModel(join(tmp.dir, "src", "plain.gguf"), "Plain", 4)], { mode: "reflink" });
        assert.equal(c.status, "imported");
        assert.ok(c.warnings.some((w) => /reflink/.test(w)), c.warnings.join("; "));
      } finally {
        lib2.close();
      }
    } finally {
      spawnSync("umount", [mnt]);
      tmp.cleanup();
    }
  });
});
