// Issue 9 item 1: a library the original wrote opens as it is. Our index lives in <root>/.model-library/;
// the original's models.db is never opened or written; a models.db of ours (an earlier version) is moved.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { isOurIndexFile } from "../../../src/store/index-location.js";
import { cacheIndexDir } from "../../../src/store/layout.js";
import { makeOriginalLibrary } from "../../helpers/original-library.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { runCli, runCliJson } from "../../helpers/cli.js";

describe("index location (.model-library/index.db)", () => {
  test.after(() => closeHashWorkers());

  test("the original's models.db is left byte-identical after open, list, import and reindex; both .tmp_import_* are kept", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      const orig = await makeOriginalLibrary(root, { appsDir: join(t.dir, "apps") });
      const before = readFileSync(orig.modelsDb);
      assert.equal(isOurIndexFile(orig.modelsDb), false);

      const lib = await ModelLibrary.open(root);
      try {
        assert.equal(lib.index.dbPath, join(root, ".model-library", "index.db"));
        assert.deepEqual(lib.allIds(), Object.values(orig.models).map((m) => m.id).sort());
        assert.equal(lib.search("tiny llama").models[0]?.id, orig.models.gguf.id);
        const [r] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "new.gguf"), "New One", 5)]);
        assert.equal(r.status, "imported", JSON.stringify(r));
        await lib.reindex();
        assert.equal(lib.list().totalCount, 5);
        // Reported, never deleted; only the hour-old one is worth a notice.
        assert.deepEqual(lib.staging!.original.map((o) => o.path).sort(), [orig.tmpImports.fresh, orig.tmpImports.old].sort());
        assert.deepEqual(lib.notices.filter((n) => n.kind === "original-staging").map((n) => n.path), [orig.tmpImports.old]);
      } finally {
        lib.close();
      }
      assert.ok(readFileSync(orig.modelsDb).equals(before), "models.db byte-identical");
      assert.equal(existsSync(`${orig.modelsDb}-wal`), false, "no -wal made beside the original's database");
      assert.equal(existsSync(`${orig.modelsDb}-shm`), false, "no -shm made beside the original's database");
      assert.ok(existsSync(orig.tmpImports.fresh) && existsSync(orig.tmpImports.old));

      // The CLI the same way (today: "table models already exists", shown as an operating-system error).
      const list = await runCliJson<{ totalCount: number }>(["list", "--json", "--library", root]);
      assert.equal(list.code, 0, list.stderr);
      assert.equal(list.json.totalCount, 5);
      assert.ok(readFileSync(orig.modelsDb).equals(before));
    } finally {
      t.cleanup();
    }
  });

  test("a models.db of ours (an earlier version's layout) is moved to .model-library/index.db on first open", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      let lib = await ModelLibrary.open(root);
      await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"), "Alpha", 1)]);
      lib.close();
      // What an earlier version left: its index in <root>/models.db, no .model-library/.
      renameSync(join(root, ".model-library", "index.db"), join(root, "models.db"));
      rmSync(join(root, ".model-library"), { recursive: true });
      assert.equal(isOurIndexFile(join(root, "models.db")), true);
      const inode = statSync(join(root, "models.db")).ino;

      lib = await ModelLibrary.open(root);
      try {
        assert.equal(existsSync(join(root, "models.db")), false);
        assert.equal(statSync(lib.index.dbPath).ino, inode, "moved, not rebuilt");
        assert.equal(lib.list().totalCount, 1);
        assert.ok(lib.notices.some((n) => n.kind === "index-moved"), JSON.stringify(lib.notices));
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("an index that cannot be opened is an error in words, never a bare SQLite code", async () => {
    const t = tempDir();
    try {
      mkdirSync(join(t.dir, ".model-library", "index.db"), { recursive: true }); // a folder where the file goes
      const r = await runCli(["list", "--library", t.dir]);
      assert.equal(r.code, 1);
      assert.match(r.stderr, /index\.db: cannot open the index.*\(unable to open database file/);
      assert.doesNotMatch(r.stderr, /operating-system error/);
    } finally {
      t.cleanup();
    }
  });

  test("read commands never create a library: a mistyped --library is E_NOT_FOUND and nothing is made", async () => {
    const t = tempDir();
    try {
      const missing = join(t.dir, "no-such-library");
      for (const args of [["list"], ["search", "x"], ["show", "a/b/c"], ["stats"], ["verify"], ["edit", "a/b/c", "--notes", "x"]]) {
        const r = await runCli([...args, "--library", missing]);
        assert.equal(r.code, 1, `${args[0]}: ${r.stderr}`);
        assert.match(r.stderr, /no library at .*no-such-library \(create one with mlib init or mlib import\)/);
        assert.equal(existsSync(missing), false, args[0]);
      }
      // An existing folder that holds no library is not made into one either.
      const r = await runCli(["list", "--library", t.dir]);
      assert.equal(r.code, 1);
      assert.equal(existsSync(join(t.dir, ".model-library")), false);
      await assert.rejects(ModelLibrary.open(missing, { create: false }), (e: Error & { code?: string }) => e.code === "E_NOT_FOUND");
      // A library copied without its dot-folders (model folders, no index) is a library.
      const copied = join(t.dir, "copied");
      mkdirSync(join(copied, "llm", "x", "m"), { recursive: true });
      writeFileSync(join(copied, "llm", "x", "m", "metadata.json"), JSON.stringify({ official_name: "M" }));
      const lib = await ModelLibrary.open(copied, { create: false });
      assert.equal(lib.list().totalCount, 1);
      lib.close();
      // init creates it.
      assert.equal((await runCli(["init", "--library", missing])).code, 0);
      assert.equal((await runCli(["list", "--library", missing])).code, 0);
    } finally {
      t.cleanup();
    }
  });

  test("the cache folder of a read-only library is $XDG_CACHE_HOME/model-library/<hash of the root>/", () => {
    const dir = cacheIndexDir("/srv/models", { XDG_CACHE_HOME: "/c" });
    assert.match(dir, /^\/c\/model-library\/[0-9a-f]{16}$/);
    assert.notEqual(dir, cacheIndexDir("/srv/models2", { XDG_CACHE_HOME: "/c" }));
    assert.match(cacheIndexDir("/srv/models", { HOME: "/h" }), /\/\.cache\/model-library\//);
  });
});
