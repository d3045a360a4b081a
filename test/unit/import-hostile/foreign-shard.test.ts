// A split GGUF whose shard 2 is from another model (another architecture) has every name right, so the set looks
// complete. identify warns, and import refuses the set (nothing stored, the sources untouched).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../../src/identify/identify.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { modelFolders, withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

function writeMixedSet(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const names = ["m-00001-of-00002.gguf", "m-00002-of-00002.gguf"];
  writeFileSync(join(dir, names[0]), buildTinyLlamaGguf({ name: "Mine" }));
  writeFileSync(join(dir, names[1]), buildTinyLlamaGguf({ name: "Theirs", architecture: "qwen2" }));
  return names.map((n) => join(dir, n));
}

test("identify warns about a shard of another model", async () => {
  await withTempLibrary(async (_lib, src) => {
    writeMixedSet(src);
    const ident = await identify(src);
    assert.deepEqual(ident.folder?.foreignShards?.map((f) => f.file), ["m-00002-of-00002.gguf"]);
    assert.ok(ident.warnings.some((w) => /another model/.test(w) && /qwen2/.test(w)), ident.warnings.join("\n"));
  });
});

test("import refuses a shard set holding a shard of another model, by folder or by file", async () => {
  await withTempLibrary(async (lib, src, root) => {
    const files = writeMixedSet(src);
    for (const path of [src, files[0]]) {
      const summary = await importModels(lib, { paths: [path] });
      assert.equal(summary.failed, 1, JSON.stringify(summary.results));
      const error = summary.results[0].error!;
      assert.equal(error.code, "E_INVALID");
      assert.match(error.message, /m-00002-of-00002\.gguf \(its architecture is qwen2/);
    }
    assert.deepEqual(modelFolders(root), []);
    assert.ok(files.every((f) => existsSync(f)));
  });
});
