// A merge reads the source models' metadata.json file lists: a name that leaves the model folder ("../x",
// absolute, NUL, an empty part) must leave that model in the source, reported with the name, while the rest is
// merged; nothing outside the source is read, moved or removed.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test.after(() => closeHashWorkers());

test("a source model whose metadata.json names a file outside its folder is left and reported by that name", async () => {
  const t = tempDir("mlib-trav-merge-");
  const dest = await ModelLibrary.open(path.join(t.dir, "dest"));
  try {
    const srcRoot = path.join(t.dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const outside = path.join(t.dir, "outside.gguf");
    fs.writeFileSync(outside, "a file of the user's, outside the source");
    const hostile = ["../../../../outside.gguf", outside, "a\u0000b.gguf", "sub//m.gguf", "./m.gguf"];
    const ids: string[] = [];
    for (const [k, n] of ["kept", ...hostile.map((_, i) => `h${i}`)].entries()) {
      const [r] = await importModels(src, [writeGgufModel(path.join(t.dir, "f", `${n}.gguf`), n, 100 + k)], { name: n });
      ids.push(r.modelId!);
    }
    src.close();
    for (const [k, name] of hostile.entries()) {
      const file = path.join(srcRoot, ...ids[k + 1].split("/"), "metadata.json");
      const meta = JSON.parse(fs.readFileSync(file, "utf8")) as { files: Record<string, unknown>[] };
      meta.files.push({ name, size: 10, sha256: null });
      fs.writeFileSync(file, JSON.stringify(meta));
    }
    const r = await mergeLibrary(dest, { source: srcRoot });
    const by = new Map(r.results.map((x) => [x.source, x]));
    assert.equal(by.get(ids[0])!.outcome, "moved");
    for (const [k, name] of hostile.entries()) {
      const res = by.get(ids[k + 1])!;
      assert.equal(res.outcome, "left", `${JSON.stringify(name)}: ${res.reason}`);
      assert.ok(res.reason!.includes(JSON.stringify(name)), `the reason names ${JSON.stringify(name)}: ${res.reason}`);
      assert.match(res.reason!, /not a name inside the model folder/);
      assert.ok(fs.existsSync(path.join(srcRoot, ...ids[k + 1].split("/"), "metadata.json")));
    }
    assert.equal(fs.readFileSync(outside, "utf8"), "a file of the user's, outside the source");
    assert.deepEqual(dest.allIds(), [ids[0]]);
  } finally {
    dest.close();
    t.cleanup();
  }
});
