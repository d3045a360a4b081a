// verifyModels through the operations layer: the summary, and a verify cancelled mid-hash (it stops inside the
// file and changes nothing: verify only reads).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { importModels, verifyModels } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { abortWhen, assertCancelled, assertIndexConsistent, withTempLibrary } from "../../helpers/operations.js";

describe("verifyModels (operation)", () => {
  test.after(() => closeHashWorkers());

  test("a summary of every model; cancelled mid-hash: E_CANCELLED before the end of the file, nothing changed", () =>
    withTempLibrary(async (lib, src) => {
      const big = writeGgufModel(join(src, "big.gguf"), "Big", 1);
      truncateSync(big, 24 * 1024 * 1024);
      await importModels(lib, { paths: [big, writeGgufModel(join(src, "small.gguf"), "Small", 2)], mode: "hardlink" });
      const summary = await verifyModels(lib, {}, {});
      assert.deepEqual([summary.ok, summary.failed, summary.results.length], [2, 0, 2]);

      const metadataBefore = lib.allIds().map((id) => readFileSync(join(lib.modelDir(id), "metadata.json"), "utf8"));
      const run = abortWhen((e) => e.phase === "hash" && e.done! > 0);
      await assertCancelled(verifyModels(lib, {}, run));
      const last = run.events[run.events.length - 1];
      assert.equal(last.op, "verify");
      assert.ok(last.done! < last.total!, "stopped before every byte was read");
      assert.deepEqual(lib.allIds().map((id) => readFileSync(join(lib.modelDir(id), "metadata.json"), "utf8")), metadataBefore);
      await assertIndexConsistent(lib);
      assert.equal((await verifyModels(lib)).length, 2, "the old call shape still answers an array");
    }));
});
