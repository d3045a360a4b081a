// A hostile metadata.json (2 GB, a FIFO, a device) is never read whole, nor waited on: every path of the store
// that reads one (the full reindex, the walk of reconcile, getMetadata, indexModel as the watcher calls it,
// restore) refuses it from its fstat, reports the model as broken with why, and leaves the file as it is.
// The big file is sparse (fs.truncateSync): 100 MB on paper, nothing on disk, so the test is fast.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, statSync, symlinkSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { verifyModels } from "../../../src/operations/verify-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

const BIG = 100 * 1024 * 1024;
const HUGE_ID = "llm/llama/huge";
const TOO_BIG = /metadata\.json: 104857600 bytes, too big to be a model's metadata\.json \(the limit is 32 MiB\)/;

/** A library with one good model; returns its root. */
async function libraryWithOneModel(dir: string): Promise<string> {
  const root = join(dir, "lib");
  const lib = await ModelLibrary.open(root);
  try {
    await importModels(lib, { paths: [writeGgufModel(join(dir, "src", "good.gguf"), "Good", 1)] });
  } finally {
    lib.close();
  }
  return root;
}

/** A model folder whose metadata.json is 100 MB (sparse: `{"files":[` then zeros). */
function hugeMetadata(root: string): string {
  const file = join(root, ...HUGE_ID.split("/"), "metadata.json");
  mkdirSync(join(file, ".."), { recursive: true });
  writeFileSync(file, '{"files":[');
  truncateSync(file, BIG);
  return file;
}

describe("metadata.json over the size limit", () => {
  test.after(() => closeHashWorkers());

  for (const mode of ["rebuild", "full", "quick"] as const) {
    test(`reconcile (${mode}): the model is reported broken as too big, the others indexed, the file left`, async () => {
      const t = tempDir();
      try {
        const root = await libraryWithOneModel(t.dir);
        const file = hugeMetadata(root);
        const lib = await ModelLibrary.open(root, { reconcile: mode });
        try {
          assert.equal(lib.list().totalCount, 1);
          const broken = lib.brokenModels();
          assert.equal(broken.length, 1, JSON.stringify(broken));
          assert.equal(broken[0].id, HUGE_ID);
          assert.match(broken[0].error, TOO_BIG);
        } finally {
          lib.close();
        }
        assert.equal(statSync(file).size, BIG);
      } finally {
        t.cleanup();
      }
    });
  }

  test("getMetadata, indexModel (the watcher's reload) and restore refuse it as E_CORRUPT, naming the file; verify reports it, rm removes it", async () => {
    const t = tempDir();
    try {
      const root = await libraryWithOneModel(t.dir);
      const lib = await ModelLibrary.open(root);
      try {
        const file = hugeMetadata(root);
        await assert.rejects(lib.getMetadata(HUGE_ID), (e: Error & { code?: string }) => e.code === "E_CORRUPT" && TOO_BIG.test(e.message));
        await assert.rejects(lib.indexModel(HUGE_ID), (e: Error & { code?: string }) => e.code === "E_CORRUPT" && TOO_BIG.test(e.message));
        // A backup just as big is not restored over it (nor read whole).
        writeFileSync(`${file}.bak`, "{");
        truncateSync(`${file}.bak`, BIG);
        await assert.rejects(lib.restoreMetadataBackup(HUGE_ID, { force: true }), (e: Error & { code?: string }) => e.code === "E_CORRUPT" && /\.bak: 104857600 bytes/.test(e.message));
        assert.equal(statSync(file).size, BIG);
        // A broken model is still verified (as failed, with why) and removable, like one whose JSON does not parse.
        const [v] = await verifyModels(lib, [HUGE_ID]);
        assert.equal(v.ok, false);
        await lib.remove(HUGE_ID);
        assert.equal(existsSync(file), false);
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("a metadata.json that is a FIFO or a device is reported broken, never waited on nor read", { timeout: 20_000 }, async (tc) => {
    const t = tempDir();
    try {
      const root = await libraryWithOneModel(t.dir);
      const fifoDir = join(root, "llm", "llama", "fifo");
      mkdirSync(fifoDir, { recursive: true });
      if (spawnSync("mkfifo", [join(fifoDir, "metadata.json")]).status !== 0) return tc.skip("mkfifo is not available");
      const zeroDir = join(root, "llm", "llama", "zero");
      mkdirSync(zeroDir, { recursive: true });
      symlinkSync("/dev/zero", join(zeroDir, "metadata.json"));
      for (const mode of ["rebuild", "full"] as const) {
        const lib = await ModelLibrary.open(root, { reconcile: mode });
        try {
          assert.equal(lib.list().totalCount, 1);
          const broken = Object.fromEntries(lib.brokenModels().map((b) => [b.id, b.error]));
          assert.match(broken["llm/llama/fifo"] ?? "", /metadata\.json: not a regular file \(a FIFO\)/, `${mode}: ${JSON.stringify(broken)}`);
          assert.match(broken["llm/llama/zero"] ?? "", /metadata\.json: not a regular file \(a device\)/, mode);
          await assert.rejects(lib.getMetadata("llm/llama/fifo"), /not a regular file/);
          await assert.rejects(lib.indexModel("llm/llama/zero"), /not a regular file/);
          if (mode === "full") {
            await lib.remove("llm/llama/zero");
            assert.equal(existsSync(zeroDir), false);
            assert.ok(existsSync("/dev/zero"));
          }
        } finally {
          lib.close();
        }
      }
    } finally {
      t.cleanup();
    }
  });
});
