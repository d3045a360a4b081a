// The index (SQLite) on a full disk: a reindex fails with E_IO "disk full" naming the index file (never a bare
// SQLITE_FULL) and leaves the old index whole; an import whose index row cannot be written leaves no model the
// index contradicts (the index catches up from metadata.json); both work once space is freed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ModelLibrary, importModels, reindexLibrary } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { isModelLibraryError } from "../../../src/core/errors.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { smallDisk } from "../../helpers/small-disk.js";

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
});
