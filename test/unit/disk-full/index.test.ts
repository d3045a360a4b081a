// The index (SQLite) on a full disk: a reindex fails with E_IO "disk full" naming the index file (never a bare
// SQLITE_FULL) and leaves the old index whole; an import whose index row cannot be written leaves no model the
// index contradicts (the index catches up from metadata.json); both work once space is freed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync, statfsSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ModelLibrary, importModels, reindexLibrary } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { isModelLibraryError } from "../../../src/core/errors.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { smallDisk } from "../../helpers/small-disk.js";
import { runCli } from "../../helpers/cli.js";

/** Checkpoints the WAL into the database and truncates it: the next write must grow the file again. */
function emptyWal(dbPath: string): void {
  const side = new Database(dbPath);
  side.pragma("wal_checkpoint(TRUNCATE)");
  side.close();
}

describe("the index on a full disk", () => {
  test.after(() => closeHashWorkers());

  test("reindex: E_IO 'disk full' naming index.db, the old index whole; done once space is freed", async (t) => {
    const disk = smallDisk(t, 4);
    if (!disk) return;
    const src = tempDir();
    try {
      const lib = await ModelLibrary.open(join(disk.dir, "lib"));
      try {
        const files = [1, 2, 3].map((i) => writeGgufModel(join(src.dir, `m${i}.gguf`), `Model ${i}`, i));
        const results = await importModels(lib, files);
        assert.deepEqual(results.map((r) => r.status), ["imported", "imported", "imported"]);
        emptyWal(lib.index.dbPath);
        const give = disk.fill();
        const e = await reindexLibrary(lib).then(() => null, (x: unknown) => x);
        assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
        assert.match(e.message, /disk full/);
        assert.ok(e.message.includes(lib.index.dbPath), e.message);
        assert.equal(lib.count(), 3, "the old index is whole");
        assert.equal(lib.search("model").models.length, 3);
        give();
        const done = await reindexLibrary(lib);
        assert.equal(done.models, 3);
      } finally {
        lib.close();
      }
    } finally {
      src.cleanup();
      disk.cleanup();
    }
  });

  test("import, the index full at the commit: the model is on disk and the index catches up; a second import is a duplicate", async (t) => {
    const disk = smallDisk(t, 4);
    if (!disk) return;
    const src = tempDir();
    try {
      const root = join(disk.dir, "lib");
      const lib = await ModelLibrary.open(root);
      let give = (): void => undefined;
      let id = "";
      try {
        const file = writeGgufModel(join(src.dir, "tiny.gguf"));
        emptyWal(lib.index.dbPath);
        const [r] = await importModels(lib, [file], {
          onProgress: (p) => {
            if (p.stage === "committing" && id === "") {
              id = "filled";
              give = disk.fill(3 * 4096);
            }
          },
        });
        assert.equal(r.status, "imported", JSON.stringify(r));
        assert.ok(r.warnings.some((w) => /index/.test(w) && /disk full|no space/i.test(w)), JSON.stringify(r.warnings));
        assert.ok(!r.warnings.some((w) => /SqliteError|^SQLITE_FULL/.test(w)), JSON.stringify(r.warnings));
        id = r.modelId!;
        // Still full: the next import says why it cannot check, and stores nothing.
        const [refused] = await importModels(lib, [file]);
        assert.equal(refused.status, "failed", JSON.stringify(refused));
        assert.match(refused.error!.message, /not yet in the index/);
        assert.match(refused.error!.message, /disk full/);
        give();
        // The same process, without reopening: the import that follows sees the model (no second copy).
        const [again] = await importModels(lib, [file]);
        assert.equal(again.status, "duplicate", JSON.stringify(again));
        assert.equal(lib.get(id)?.id, id);
      } finally {
        lib.close();
      }
    } finally {
      src.cleanup();
      disk.cleanup();
    }
  });

  test("a library on a full disk still opens (its WAL index kept in memory): list and search work, and a model folder removed to make room leaves the index at the next open", async (t) => {
    const disk = smallDisk(t, 4);
    if (!disk) return;
    const src = tempDir();
    try {
      const root = join(disk.dir, "lib");
      const lib = await ModelLibrary.open(root);
      let ids: string[] = [];
      try {
        const r = await importModels(lib, [writeGgufModel(join(src.dir, "a.gguf"), "Alpha", 1), writeGgufModel(join(src.dir, "b.gguf"), "Beta", 2)]);
        assert.deepEqual(r.map((x) => x.status), ["imported", "imported"]);
        ids = r.map((x) => x.modelId!);
      } finally {
        lib.close(); // the last connection: SQLite removes index.db-shm, which the next open must make again
      }
      const give = disk.fill();
      assert.equal(existsSync(join(root, ".model-library", "index.db-shm")), false, "the shared-memory file is gone, as after any last close");
      // Opening needs no room: without the fallback this was E_IO "cannot open the index: disk full".
      const full = await ModelLibrary.open(root);
      try {
        assert.equal(full.count(), 2);
        assert.equal(full.search("alpha").totalCount, 1);
      } finally {
        full.close();
      }
      // `mlib rm` needs a little room itself (its lock file): it says so, and what to do instead.
      const rm = await runCli(["rm", ids[0], "--yes", "--library", root]);
      assert.equal(rm.code, 1, rm.stdout + rm.stderr);
      const line = rm.stderr.split("\n").filter((l) => l.includes("The disk is full"));
      assert.equal(line.length, 1, rm.stderr);
      assert.match(line[0], /^mlib: .*no space left on device.*The disk is full: mlib needs a little room to delete safely/);
      assert.ok(line[0].includes(`rm -r ${join(root, ...ids[0].split("/"))}`), rm.stderr);
      // Removing the folder by hand, as it says; the next open drops its row.
      const freeBefore = statfsSync(disk.dir).bavail;
      rmSync(join(root, ...ids[0].split("/")), { recursive: true });
      assert.ok(statfsSync(disk.dir).bavail > freeBefore, "space freed");
      give(); // (a real model frees GBs; this one a few KiB, less than the index's next write)
      const after = await ModelLibrary.open(root);
      try {
        assert.deepEqual(after.list().models.map((m) => m.id), [ids[1]]);
      } finally {
        after.close();
      }
    } finally {
      src.cleanup();
      disk.cleanup();
    }
  });
});
