// Another process keeps the index's write lock past SQLite's busy timeout (a merge's writer, a long reindex, a
// stuck program): the command fails saying which index is locked, by whom in general terms, and what to do; it
// printed SQLite's bare "database is locked". MLIB_INDEX_BUSY_MS shortens the wait so the test is fast.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import Database from "better-sqlite3";
import { hasStackTrace, runCli } from "../../helpers/cli.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("the index locked by another process for longer than the wait: a clear error naming the index, no change", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-busy-");
  const root = join(dir, "lib");
  try {
    const imp = await runCli(["import", writeGgufModel(join(dir, "in", "m.gguf"), "Busy", 1), "--json", "--library", root]);
    assert.equal(imp.code, 0, imp.stderr);
    const id = JSON.parse(imp.stdout).results[0].modelId as string;
    const dbPath = join(root, ".model-library", "index.db");
    const other = new Database(dbPath);
    try {
      other.exec("BEGIN IMMEDIATE");
      for (const args of [["edit", id, "--name", "New name"], ["reindex"]]) {
        const r = await runCli([...args, "--library", root], { env: { MLIB_INDEX_BUSY_MS: "300" } });
        assert.equal(r.code, 1, `${args[0]}: ${r.stdout}${r.stderr}`);
        assert.ok(r.stderr.includes(dbPath), `${args[0]}: the index is not named: ${r.stderr}`);
        assert.match(r.stderr, /another process .*locked/, `${args[0]}: ${r.stderr}`);
        assert.ok(!hasStackTrace(r.stderr), r.stderr);
      }
    } finally {
      other.exec("ROLLBACK");
      other.close();
    }
    const show = await runCli(["show", id, "--json", "--library", root]);
    assert.equal(show.code, 0, show.stderr);
  } finally {
    cleanup();
  }
});
