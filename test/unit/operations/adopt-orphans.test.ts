// adoptOrphans through the operations layer: cancelled between folders and mid-hash, the folders adopted before
// keep their metadata.json, the others are left exactly as they were, the index matches the disk.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { adoptOrphans } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { abortWhen, assertCancelled, assertIndexConsistent, withTempLibrary } from "../../helpers/operations.js";

describe("adoptOrphans (operation)", () => {
  test.after(() => closeHashWorkers());

  test("aborted at the second folder: the first is adopted, the others untouched", () =>
    withTempLibrary(async (lib, _src, root) => {
      for (const n of ["a", "b", "c"]) writeGgufModel(join(root, "llm", "llama", n, `${n}.gguf`), n.toUpperCase(), n.charCodeAt(0));
      const run = abortWhen((e) => e.phase === "adopt" && e.done === 1);
      await assertCancelled(adoptOrphans(lib, {}, run));
      assert.deepEqual(lib.allIds(), ["llm/llama/a"]);
      for (const n of ["b", "c"]) assert.deepEqual(readdirSync(join(root, "llm", "llama", n)), [`${n}.gguf`], `${n} left as it was`);
      await assertIndexConsistent(lib);
      const rest = await adoptOrphans(lib, {}, {});
      assert.deepEqual(rest.adopted.sort(), ["llm/llama/b", "llm/llama/c"], "a later run adopts the rest");
    }));

  test("aborted at the second folder: the cancellation names the folder adopted before it (kept)", () =>
    withTempLibrary(async (lib, _src, root) => {
      for (const n of ["a", "b"]) writeGgufModel(join(root, "llm", "llama", n, `${n}.gguf`), n.toUpperCase(), n.charCodeAt(0));
      const run = abortWhen((e) => e.phase === "adopt" && e.done === 1);
      await assert.rejects(adoptOrphans(lib, {}, run), (e: Error & { code?: string; completed?: string[] }) => {
        assert.equal(e.code, "E_CANCELLED");
        assert.deepEqual(e.completed, ["adopted llm/llama/a"]);
        return true;
      });
    }));

  test("aborted while hashing a folder's file: no metadata.json is written for it", () =>
    withTempLibrary(async (lib, _src, root) => {
      const f = writeGgufModel(join(root, "llm", "llama", "big", "big.gguf"), "Big", 9);
      truncateSync(f, 16 * 1024 * 1024);
      const run = abortWhen((e) => e.phase === "hash" && e.done! > 0);
      await assertCancelled(adoptOrphans(lib, {}, run));
      const hashed = run.events.filter((e) => e.phase === "hash");
      assert.ok(hashed[hashed.length - 1].done! < hashed[hashed.length - 1].total!, "stopped inside the file");
      assert.ok(!existsSync(join(root, "llm", "llama", "big", "metadata.json")));
      await assertIndexConsistent(lib);
    }));
});
