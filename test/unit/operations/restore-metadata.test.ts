// restoreMetadata through the operations layer: cancelled, the corrupt metadata.json is left for a later restore;
// run, the backup is back and indexed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels, restoreMetadata } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { abortedSignal, assertCancelled, withTempLibrary } from "../../helpers/operations.js";

describe("restoreMetadata (operation)", () => {
  test.after(() => closeHashWorkers());

  test("cancelled: nothing written; run: metadata.json from its backup", () =>
    withTempLibrary(async (lib, src) => {
      const { results } = await importModels(lib, { paths: [writeGgufModel(join(src, "a.gguf"))] });
      const id = results[0].modelId!;
      await lib.updateMetadata(id, (m) => void (m.notes = "kept")); // writes metadata.json.bak
      const file = join(lib.modelDir(id), "metadata.json");
      writeFileSync(file, "{ corrupt");
      await assertCancelled(restoreMetadata(lib, { id: `${id}/` }, { signal: abortedSignal() }));
      assert.equal(readFileSync(file, "utf8"), "{ corrupt");
      // (store9: the replaced file is kept, and the result says where)
      const restored = await restoreMetadata(lib, { id: `${id}/` });
      assert.deepEqual({ ...restored, keptAs: null }, { id, restored: true, keptAs: null });
      assert.match(restored.keptAs ?? "", /metadata\.json\.replaced-/);
      assert.equal(readFileSync(restored.keptAs!, "utf8"), "{ corrupt");
      assert.equal(JSON.parse(readFileSync(file, "utf8")).model_id, id);
      assert.equal(lib.get(id)?.id, id);
      // A metadata.json that parses is replaced only with force.
      await assert.rejects(restoreMetadata(lib, { id }), (e: Error & { code?: string }) => e.code === "E_EXISTS");
      assert.match((await restoreMetadata(lib, { id, force: true })).keptAs ?? "", /metadata\.json\.replaced-/);
    }));
});
