// IndexWriter: index rows written in a thread of their own; what it cannot write comes back to the caller.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import Database from "better-sqlite3";
import { ModelIndex } from "../../src/index/model-index.js";
import { IndexWriter } from "../../src/index/index-writer.js";
import type { IndexRecord } from "../../src/index/index-types.js";
import { fakeHash, makeRecord } from "../helpers/index-records.js";
import { tempDir } from "../helpers/library-fixtures.js";

const batch = (from: number, n: number): IndexRecord[] =>
  Array.from({ length: n }, (_, k) => makeRecord({ id: `llm/fam/m${from + k}`, officialName: `Writer model ${from + k}`, sha256: fakeHash(`w${from + k}`) }));

describe("IndexWriter", () => {
  test("batches are written in the thread, in order, and seen by another connection once drained", async () => {
    const t = tempDir("mlib-writer-");
    const dbPath = path.join(t.dir, "index.db");
    const index = ModelIndex.open(dbPath);
    try {
      const writer = new IndexWriter(dbPath);
      writer.write(batch(0, 300));
      writer.write([]);
      writer.write(batch(300, 300));
      // The same id again in a later batch: the later row wins, as with upserts in a row.
      writer.write([makeRecord({ id: "llm/fam/m5", officialName: "Renamed five" })]);
      assert.deepEqual(await writer.drain(), []);
      assert.equal(index.count(), 600);
      assert.equal(index.get("llm/fam/m5")?.officialName, "Renamed five");
      assert.equal(index.findByHash(fakeHash("w599"))?.id, "llm/fam/m599");
      assert.equal(index.search("writer").totalCount, 599);
    } finally {
      index.close();
      t.cleanup();
    }
  });

  test("a batch the thread cannot write comes back from drain, the others are written", async () => {
    const t = tempDir("mlib-writer-");
    const dbPath = path.join(t.dir, "index.db");
    const index = ModelIndex.open(dbPath);
    try {
      const writer = new IndexWriter(dbPath);
      const bad = [...batch(100, 2), { ...makeRecord({ id: "llm/fam/bad" }), sizeBytes: "large" as unknown as number }];
      writer.write(batch(0, 10));
      writer.write(bad);
      writer.write(batch(200, 10));
      const failed = await writer.drain();
      assert.deepEqual(failed.map((b) => b.map((r) => r.id)), [bad.map((r) => r.id)]);
      assert.equal(index.count(), 20, "the good batches are written; nothing of the bad one");
      assert.equal(index.get("llm/fam/m100"), null);
    } finally {
      index.close();
      t.cleanup();
    }
  });

  test("SQLite failing mid-transaction: every batch of the open transaction comes back, later ones are written", async () => {
    const t = tempDir("mlib-writer-");
    const dbPath = path.join(t.dir, "index.db");
    const index = ModelIndex.open(dbPath);
    try {
      // A trigger makes SQLite itself refuse one row (as a full disk would), after the batch's first rows went in.
      const sql = new Database(dbPath);
      sql.exec("CREATE TRIGGER boom BEFORE INSERT ON models WHEN NEW.id = 'llm/fam/boom' BEGIN SELECT RAISE(ABORT, 'boom'); END;");
      sql.close();
      const writer = new IndexWriter(dbPath);
      const boom = [...batch(100, 3), makeRecord({ id: "llm/fam/boom" })];
      writer.write(batch(0, 10));
      writer.write(boom);
      writer.write(batch(200, 10));
      const failed = await writer.drain();
      assert.deepEqual(
        failed.map((b) => b.length),
        [10, 4],
        "the batch written before it in the same transaction is rolled back with it and handed back too",
      );
      assert.equal(index.count(), 10, "only the batch after the failure is in the index");
      assert.equal(index.get("llm/fam/m0"), null);
      assert.equal(index.get("llm/fam/m100"), null);
      assert.notEqual(index.get("llm/fam/m200"), null);
    } finally {
      index.close();
      t.cleanup();
    }
  });

  test("an index the thread cannot open: every batch comes back, in the order sent", async () => {
    const t = tempDir("mlib-writer-");
    const notADb = path.join(t.dir, "a-folder");
    fs.mkdirSync(notADb);
    try {
      const writer = new IndexWriter(notADb);
      writer.write(batch(0, 3));
      writer.write(batch(3, 3));
      const failed = await writer.drain();
      assert.deepEqual(failed.map((b) => b.length), [3, 3]);
      assert.equal(failed[1][0].id, "llm/fam/m3");
    } finally {
      t.cleanup();
    }
  });
});
