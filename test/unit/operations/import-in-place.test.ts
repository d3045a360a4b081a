// importInPlace through the operations layer: a folder already inside the library, cancelled while its files are
// hashed: no metadata.json, no index row, the files as they were.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { importInPlace } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { abortWhen, assertCancelled, assertIndexConsistent, withTempLibrary } from "../../helpers/operations.js";

describe("importInPlace (operation)", () => {
  test.after(() => closeHashWorkers());

  test("cancelled mid-hash: nothing written; run again, it is indexed", () =>
    withTempLibrary(async (lib, _src, root) => {
      const dir = join(root, "llm", "llama", "dl");
      truncateSync(writeGgufModel(join(dir, "dl.gguf"), "DL", 3), 16 * 1024 * 1024);
      const run = abortWhen((e) => e.phase === "hash" && e.done! > 0);
      await assertCancelled(importInPlace(lib, { modelDir: dir, officialName: "DL" }, run));
      assert.deepEqual(readdirSync(dir), ["dl.gguf"]);
      await assertIndexConsistent(lib);
      const r = await importInPlace(lib, { modelDir: dir, officialName: "DL" });
      assert.equal(r.created, true);
      assert.ok(existsSync(join(dir, "metadata.json")));
      assert.deepEqual(lib.allIds(), ["llm/llama/dl"]);
    }));
});
