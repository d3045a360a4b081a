// `import --mode move` removes the source once the model is committed. When it cannot (a read-only or immutable
// folder), the model is still imported, and the result says the source is still there: a user who asked for a
// move is not left believing the files were moved. The folder is made immutable with chattr +i (works as root).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { withTempLibrary } from "../../helpers/operations.js";

/** Whether `chattr +i` works on a folder here (the filesystem supports it, and we may set it). */
function canMakeImmutable(dir: string): boolean {
  mkdirSync(dir, { recursive: true });
  const ok = spawnSync("chattr", ["+i", dir]).status === 0;
  if (ok) spawnSync("chattr", ["-i", dir]);
  return ok;
}

describe("import --mode move, the source cannot be removed", () => {
  test.after(() => closeHashWorkers());

  test("the model is imported, and a warning names the source left in place", (tc) =>
    withTempLibrary(async (lib, src) => {
      if (!canMakeImmutable(src)) return tc.skip("chattr +i is not available here");
      const file = writeGgufModel(join(src, "kept.gguf"), "Kept", 2);
      spawnSync("chattr", ["+i", src]);
      try {
        const { results } = await importModels(lib, { paths: [file], mode: "move" });
        assert.equal(results[0].status, "imported", JSON.stringify(results[0]));
        assert.ok(existsSync(file), "the source is still there");
        const warnings = results[0].warnings ?? [];
        assert.ok(
          warnings.some((w) => w.includes(file) && /: cannot remove \(EPERM.*\): the model is stored in the library all the same, and this source file is still there$/.test(w)),
          JSON.stringify(warnings),
        );
      } finally {
        spawnSync("chattr", ["-i", src]);
      }
    }));
});
