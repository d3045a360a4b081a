// reindexLibrary through the operations layer: a cancelled reindex leaves the index as it was; a run rebuilds it.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { importModels, reindexLibrary } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { abortedSignal, assertCancelled, assertIndexConsistent, withTempLibrary } from "../../helpers/operations.js";

describe("reindexLibrary (operation)", () => {
  test.after(() => closeHashWorkers());

  test("cancelled: the index untouched; run: every model back, with progress", () =>
    withTempLibrary(async (lib, src) => {
      await importModels(lib, { paths: [writeGgufModel(join(src, "a.gguf"), "A", 1), writeGgufModel(join(src, "b.gguf"), "B", 2)] });
      await assertCancelled(reindexLibrary(lib, {}, { signal: abortedSignal() }));
      assert.equal(lib.allIds().length, 2);
      const phases: string[] = [];
      const report = await reindexLibrary(lib, {}, { onProgress: (e) => phases.push(e.phase) });
      assert.equal(report.models, 2);
      assert.equal(report.mode, "rebuild");
      assert.deepEqual(phases, ["read", "done"]);
      await assertIndexConsistent(lib);
    }));

  test("cancelled while the reader runs: the rebuild is rolled back (the old index kept) and the reader stopped", () =>
    withTempLibrary(async (lib, src) => {
      const { results } = await importModels(lib, { paths: [writeGgufModel(join(src, "a.gguf"), "A", 1), writeGgufModel(join(src, "b.gguf"), "B", 2)] });
      const dropped = results[0].modelId!;
      lib.index.delete(dropped); // what a committed rebuild would put back
      const controller = new AbortController();
      // The reader worker takes longer than one turn of the event loop to start: this lands mid-rebuild.
      setTimeout(() => controller.abort(), 0);
      await assertCancelled(reindexLibrary(lib, {}, { signal: controller.signal }));
      assert.deepEqual(lib.allIds(), [results[1].modelId!], "rolled back: the dropped row is still missing");
      assert.equal((await reindexLibrary(lib)).models, 2);
      await assertIndexConsistent(lib);
    }));
});
