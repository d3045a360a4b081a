// Merging a library the original wrote: its in-place imports list files of sub-folders by their bare name
// (`model.onnx` for `onnx/model.onnx`, a diffusers folder's files); those models were left behind as "listed in
// metadata.json but missing". They move now, sub-folders kept, and verify says OK in the destination.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { verifyModels } from "../../../src/operations/verify-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { makeOriginalLibrary } from "../../helpers/original-library.js";

test.after(() => closeHashWorkers());

test("merge of an original's library moves the models that list nested files by bare name", async () => {
  const t = tempDir("mlib-merge-original-");
  try {
    const orig = await makeOriginalLibrary(join(t.dir, "orig"), { appsDir: join(t.dir, "apps") });
    // (its import folders: the original may still be writing them, so the merge leaves such a library alone)
    fs.rmSync(orig.tmpImports.fresh, { recursive: true });
    fs.rmSync(orig.tmpImports.old, { recursive: true });
    const lib = await ModelLibrary.open(join(t.dir, "ours"));
    try {
      const r = await mergeLibrary(lib, { source: orig.root });
      const left = r.results.filter((x) => x.destId === null);
      assert.deepEqual(left, []);
      const { diffusers, onnx } = orig.models;
      assert.ok(fs.existsSync(join(lib.modelDir(onnx.id), "onnx", "model.onnx")));
      assert.ok(fs.existsSync(join(lib.modelDir(diffusers.id), "unet", "diffusion_pytorch_model.safetensors")));
      const v = await verifyModels(lib, {});
      assert.deepEqual(v.results.filter((x) => !x.ok), []);
      assert.equal(v.results.length, 4);
    } finally {
      lib.close();
    }
  } finally {
    t.cleanup();
  }
});
