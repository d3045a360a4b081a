// A source model that duplicates a library model is removed from the source only once the library's copy re-hashes
// to what its metadata.json records — checked as `mlib verify` checks it (one function for both): the two never
// disagree about a library model, e.g. the original's in-place listing, which names a nested file by its bare name.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { execFileSync } from "node:child_process";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { verifyModels } from "../../../src/operations/verify-models.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

async function importAs(lib: ModelLibrary, file: string, name: string): Promise<string> {
  const [r] = await importModels(lib, [file], { name, allowDuplicate: true });
  assert.equal(r.status, "imported", r.error?.message);
  return r.modelId!;
}

test("a duplicate of a library model whose file metadata.json names by its bare name (kept in a sub-folder) is found as verify finds it", async () => {
  const { dir, cleanup } = tempDir("mlib-merge-dupverify-");
  const dest = await ModelLibrary.open(path.join(dir, "dest"));
  try {
    const file = writeGgufModel(path.join(dir, "in", "same.gguf"), "Same", 5);
    const id = await importAs(dest, file, "same");
    const modelDir = dest.modelDir(id);
    const [weight] = (await dest.getMetadata(id)).files!.map((f) => f.name);
    // As the original's in-place import leaves it: the file in a sub-folder, listed by its bare name.
    fs.mkdirSync(path.join(modelDir, "gguf"));
    fs.renameSync(path.join(modelDir, weight), path.join(modelDir, "gguf", weight));
    assert.equal((await verifyModels(dest, { ids: [id] })).ok, 1, "verify finds it and it is intact");

    const srcRoot = path.join(dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const copy = await importAs(src, file, "same copy");
    src.close();
    const r = await mergeLibrary(dest, { source: srcRoot });
    assert.deepEqual(r.plan.map((p) => [p.source, p.action, p.destId]), [[copy, "duplicate", id]]);
    assert.deepEqual(r.results.map((x) => [x.outcome, x.reason]), [["duplicate-removed", null]]);
    assert.equal(fs.existsSync(path.join(srcRoot, ...copy.split("/"))), false, "the verified duplicate left the source");
    assert.ok(fs.statSync(path.join(modelDir, "gguf", weight)).isFile(), "the library's copy stays");
  } finally {
    dest.close();
    cleanup();
  }
});

test("a duplicate whose folder also holds a file its metadata.json does not list is kept in the source (that file has no copy in the library)", async () => {
  const { dir, cleanup } = tempDir("mlib-merge-dupverify-");
  const dest = await ModelLibrary.open(path.join(dir, "dest"));
  try {
    const file = writeGgufModel(path.join(dir, "in", "same.gguf"), "Same", 6);
    const id = await importAs(dest, file, "same");
    const srcRoot = path.join(dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const copy = await importAs(src, file, "same copy");
    const twin = await importAs(src, writeGgufModel(path.join(dir, "in", "twin.gguf"), "Twin", 7), "twin");
    src.close();
    const copyDir = path.join(srcRoot, ...copy.split("/"));
    fs.writeFileSync(path.join(copyDir, "my-notes.txt"), "the prompt settings that work");
    fs.mkdirSync(path.join(copyDir, "previews"));
    fs.writeFileSync(path.join(copyDir, "previews", "sample.png"), "png");
    const r = await mergeLibrary(dest, { source: srcRoot });
    assert.deepEqual(r.plan.map((p) => [p.source, p.action]), [[copy, "duplicate"], [twin, "move"]]);
    const left = r.results.find((x) => x.source === copy)!;
    assert.equal(left.outcome, "left");
    assert.match(left.reason!, /my-notes\.txt.*sample\.png.*not part of/);
    assert.equal(fs.readFileSync(path.join(copyDir, "my-notes.txt"), "utf8"), "the prompt settings that work");
    assert.ok(fs.existsSync(path.join(copyDir, "previews", "sample.png")));
    assert.ok(dest.get(id) && dest.get(twin), "the library model stays; the rest is merged");
  } finally {
    dest.close();
    cleanup();
  }
});

test("a duplicate whose listed file is now a named pipe is left (never opened: that waits for a writer for ever)", { timeout: 30_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-merge-dupverify-");
  const dest = await ModelLibrary.open(path.join(dir, "dest"));
  try {
    const file = writeGgufModel(path.join(dir, "in", "same.gguf"), "Same", 8);
    await importAs(dest, file, "same");
    const srcRoot = path.join(dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const copy = await importAs(src, file, "same copy");
    const [weight] = (await src.getMetadata(copy)).files!.map((f) => f.name);
    src.close();
    const pipe = path.join(srcRoot, ...copy.split("/"), weight);
    fs.rmSync(pipe);
    execFileSync("mkfifo", [pipe]);
    const r = await mergeLibrary(dest, { source: srcRoot });
    assert.deepEqual(r.results.map((x) => x.outcome), ["left"]);
    assert.match(r.results[0].reason!, /not a regular file/);
    assert.ok(fs.statSync(pipe).isFIFO());
  } finally {
    dest.close();
    cleanup();
  }
});
