// redetectModels through the operations layer: cancelled between models, each model is either redetected whole
// or untouched, and the index agrees with metadata.json.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { importModels, redetectModels } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { abortWhen, assertCancelled, assertIndexConsistent, withTempLibrary } from "../../helpers/operations.js";

describe("redetectModels (operation)", () => {
  test.after(() => closeHashWorkers());

  test("cancelled at the second model: the first was done, the rest untouched; then a full run", () =>
    withTempLibrary(async (lib, src) => {
      const paths = ["a", "b", "c"].map((n, i) => writeGgufModel(join(src, `${n}.gguf`), n, i + 1));
      const { results } = await importModels(lib, { paths });
      // Make every model look wrongly identified, so a redetect changes each one it reaches.
      for (const r of results) await lib.updateMetadata(r.modelId!, (m) => void (m.format = "safetensors"));
      const run = abortWhen((e) => e.phase === "identify" && e.done === 1);
      await assertCancelled(redetectModels(lib, {}, run));
      const formats = await Promise.all(lib.allIds().map(async (id) => (await lib.getMetadata(id)).format));
      assert.deepEqual(formats, ["gguf", "safetensors", "safetensors"]);
      await assertIndexConsistent(lib);
      const summary = await redetectModels(lib, {}, {});
      assert.deepEqual([summary.changed, summary.errors], [2, 0]);
    }));

  test("cancelled at the second model: the cancellation names the model changed before it", () =>
    withTempLibrary(async (lib, src) => {
      const paths = ["a", "b"].map((n, i) => writeGgufModel(join(src, `${n}.gguf`), n, i + 1));
      const { results } = await importModels(lib, { paths });
      for (const r of results) await lib.updateMetadata(r.modelId!, (m) => void (m.format = "safetensors"));
      const first = lib.allIds()[0];
      const run = abortWhen((e) => e.phase === "identify" && e.done === 1);
      await assert.rejects(redetectModels(lib, {}, run), (e: Error & { code?: string; completed?: string[] }) => {
        assert.equal(e.code, "E_CANCELLED");
        assert.deepEqual(e.completed, [`re-detected ${first}: format safetensors → gguf`]);
        return true;
      });
    }));
});
