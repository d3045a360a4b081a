// removeModel through the operations layer: a cancellation before the deletion keeps the model whole; once the
// deletion runs it completes (folder, index row, empty parents).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { importModels, removeModel } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { abortedSignal, assertCancelled, assertIndexConsistent, withTempLibrary } from "../../helpers/operations.js";

describe("removeModel (operation)", () => {
  test.after(() => closeHashWorkers());

  test("cancelled: the model stays; not cancelled: it goes, and an unknown id is E_NOT_FOUND", () =>
    withTempLibrary(async (lib, src) => {
      const { results } = await importModels(lib, { paths: [writeGgufModel(join(src, "a.gguf"))] });
      const id = results[0].modelId!;
      await assertCancelled(removeModel(lib, { id }, { signal: abortedSignal() }));
      assert.ok(existsSync(join(lib.modelDir(id), "metadata.json")));
      await assertIndexConsistent(lib);
      const events: string[] = [];
      const removed = await removeModel(lib, { id }, { onProgress: (e) => events.push(`${e.op}:${e.phase}`) });
      assert.equal(removed.id, id);
      assert.ok(removed.freedBytes > 0);
      assert.deepEqual(events, ["remove:delete"]);
      assert.ok(!existsSync(lib.modelDir(id)));
      await assertIndexConsistent(lib);
      await assert.rejects(removeModel(lib, { id }), (e: Error & { code?: string }) => e.code === "E_NOT_FOUND");
    }));
});
