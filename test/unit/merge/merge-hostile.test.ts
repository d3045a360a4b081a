// Merges from odd or hostile sources: the library itself reached another way, and the like. Each case checks
// that nothing of the library (or outside the source) is removed or read, and that the user is told why.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { runCli } from "../../helpers/cli.js";

async function importAs(lib: ModelLibrary, file: string, name: string): Promise<string> {
  const [r] = await importModels(lib, [file], { name });
  assert.equal(r.status, "imported", r.error?.message);
  return r.modelId!;
}

test("a symlink to the library, or into it, is refused as the library itself: none of its models is removed", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const destRoot = path.join(t.dir, "dest");
  const dest = await ModelLibrary.open(destRoot);
  try {
    const id = await importAs(dest, writeGgufModel(path.join(t.dir, "f", "a.gguf"), "Alpha", 1), "alpha");
    const weight = path.join(dest.modelDir(id), "a.gguf");
    fs.symlinkSync(destRoot, path.join(t.dir, "to-dest"));
    fs.symlinkSync(path.join(destRoot, "llm"), path.join(t.dir, "to-llm"));
    for (const source of [path.join(t.dir, "to-dest"), path.join(t.dir, "to-llm"), path.join(t.dir, "to-dest", "llm")]) {
      await assert.rejects(mergeLibrary(dest, { source }), (e: Error & { code?: string }) => e.code === "E_USAGE" && /into itself/.test(e.message), source);
      assert.ok(fs.existsSync(weight), `merging ${source} removed the library's own model`);
    }
    // The library opened through a symlink, the source given by its real path.
    const viaLink = await ModelLibrary.open(path.join(t.dir, "to-dest"));
    try {
      await assert.rejects(mergeLibrary(viaLink, { source: destRoot }), /into itself/);
    } finally {
      viaLink.close();
    }
    const cli = await runCli(["merge", path.join(t.dir, "to-dest"), "--library", destRoot]);
    assert.notEqual(cli.code, 0, cli.stdout);
    assert.match(cli.stderr, /into itself/);
    assert.ok(fs.existsSync(weight));
    assert.deepEqual(dest.allIds(), [id]);
  } finally {
    dest.close();
    t.cleanup();
  }
});
