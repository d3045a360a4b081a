// Issue 9 item 8 (index side): a damaged index file makes nothing fail. It is moved aside
// (index.db.damaged-<date>), rebuilt from the metadata.json files, and the user is told.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { closeSync, existsSync, mkdirSync, openSync, readdirSync, statSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { runCli } from "../../helpers/cli.js";

const PAGE = 16384;

/** A library of `n` models written as metadata.json files only (no weights needed for the index). */
function writeMetadataLibrary(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const dir = join(root, "llm", `fam${i % 7}`, `model_${i}`);
    mkdirSync(dir, { recursive: true });
    writeFileSync(
      join(dir, "metadata.json"),
      JSON.stringify({ official_name: `Model ${i}`, family: `fam${i % 7}`, model_type: "llm", tags: [`tag${i % 5}`, "common"], files: [] }),
    );
  }
}

/** Overwrites the start of every page but the first (header and schema stay readable: open succeeds). */
function corruptPages(file: string): void {
  const size = statSync(file).size;
  const fd = openSync(file, "r+");
  try {
    for (let off = PAGE; off < size; off += PAGE) writeSync(fd, Buffer.alloc(64, 0xa5), 0, 64, off);
  } finally {
    closeSync(fd);
  }
}

function asideFiles(root: string): string[] {
  return readdirSync(join(root, ".model-library")).filter((n) => /^index\.db\.damaged-/.test(n) && !n.endsWith("-wal"));
}

describe("a damaged index", () => {
  test("damaged pages: the search that meets them rebuilds the index and answers; the damaged file is kept aside", async () => {
    const t = tempDir();
    try {
      writeMetadataLibrary(t.dir, 400);
      let lib = await ModelLibrary.open(t.dir);
      const dbPath = lib.index.dbPath;
      lib.index.checkpoint();
      lib.close();
      corruptPages(dbPath);
      const notices: string[] = [];
      lib = await ModelLibrary.open(t.dir, { reconcile: "none", onNotice: (n) => notices.push(n.message) });
      try {
        assert.deepEqual(notices, [], "opening read only the header and schema: the damage is met by the query");
        const r = lib.search("model 12");
        assert.ok(r.models.some((m) => m.id === "llm/fam5/model_12"), JSON.stringify(r.models.map((m) => m.id)));
        assert.equal(lib.list().totalCount, 400);
        assert.equal(notices.length, 1, notices.join("\n"));
        assert.match(notices[0], /index\.db was damaged \(.*\): moved it to .*index\.db\.damaged-.* and rebuilt it from the metadata\.json files: 400 models/);
      } finally {
        lib.close();
      }
      assert.equal(asideFiles(t.dir).length, 1);
    } finally {
      t.cleanup();
    }
  });

  test("a file that is not a database at all: rebuilt on open", async () => {
    const t = tempDir();
    try {
      writeMetadataLibrary(t.dir, 20);
      mkdirSync(join(t.dir, ".model-library"));
      writeFileSync(join(t.dir, ".model-library", "index.db"), Buffer.alloc(40_000, 0x42));
      const lib = await ModelLibrary.open(t.dir);
      try {
        assert.equal(lib.list().totalCount, 20);
        assert.ok(lib.notices.some((n) => n.kind === "index-rebuilt" && /file is not a database/.test(n.message)), JSON.stringify(lib.notices));
      } finally {
        lib.close();
      }
      assert.equal(asideFiles(t.dir).length, 1);
    } finally {
      t.cleanup();
    }
  });

  test("two processes opening a damaged index at once: both answer, one file is moved aside", async () => {
    const t = tempDir();
    try {
      writeMetadataLibrary(t.dir, 60);
      mkdirSync(join(t.dir, ".model-library"));
      writeFileSync(join(t.dir, ".model-library", "index.db"), Buffer.alloc(40_000, 0x42));
      const [a, b] = await Promise.all([runCli(["list", "--json", "--library", t.dir]), runCli(["list", "--json", "--library", t.dir])]);
      for (const r of [a, b]) {
        assert.equal(r.code, 0, r.stderr);
        assert.equal((JSON.parse(r.stdout) as { totalCount: number }).totalCount, 60);
      }
      assert.equal(asideFiles(t.dir).length, 1);
      assert.equal(`${a.stderr}${b.stderr}`.match(/was damaged/g)?.length, 1, a.stderr + b.stderr);
    } finally {
      t.cleanup();
    }
  });

  test("search, list, verify, import, rm and reindex each work on a damaged index and say so on stderr", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      writeMetadataLibrary(root, 150);
      const src = writeGgufModel(join(t.dir, "src", "a.gguf"), "Alpha", 1);
      assert.equal((await runCli(["import", src, "--library", root])).code, 0);
      const dbPath = join(root, ".model-library", "index.db");
      const commands = [
        ["search", "model"],
        ["list"],
        ["verify", "llm/fam3/model_3"],
        ["import", writeGgufModel(join(t.dir, "src", "b.gguf"), "Beta", 2)],
        ["rm", "llm/fam4/model_4", "--yes"],
        ["reindex"],
      ];
      for (const args of commands) {
        // Checkpointed first so the damage is in the file itself, not only in a WAL the open would replay.
        const lib = await ModelLibrary.open(root, { reconcile: "none" });
        lib.index.checkpoint();
        lib.close();
        corruptPages(dbPath);
        const r = await runCli([...args, "--library", root]);
        assert.equal(r.code, 0, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /was damaged .*rebuilt it from the metadata\.json files/, `${args[0]}: ${r.stderr}`);
      }
      const lib = await ModelLibrary.open(root);
      try {
        assert.equal(lib.list().totalCount, 151); // 150 + Alpha + Beta - model_4
        assert.equal(lib.get("llm/fam4/model_4"), null);
      } finally {
        lib.close();
      }
      assert.equal(existsSync(dbPath), true);
    } finally {
      t.cleanup();
    }
  });
});
