// The original writes no `format` in metadata.json: the index takes it from the listed files' extensions when
// they all say GGUF (or ONNX), so `list --format gguf` and the GGUF apps' rules (llama.cpp, LM Studio) find the
// original's GGUF models; a diffusers folder (.safetensors listed by bare name) stays unknown.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { listModels } from "../../../src/operations/list-models.js";
import { previewMapping } from "../../../src/mapper/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { makeOriginalLibrary } from "../../helpers/original-library.js";

test.after(() => closeHashWorkers());

test("an original's GGUF lists as gguf and maps into LM Studio; its diffusers folder gets no format", async () => {
  const t = tempDir("mlib-original-format-");
  try {
    const orig = await makeOriginalLibrary(join(t.dir, "lib"), { appsDir: join(t.dir, "apps") });
    const lib = await ModelLibrary.open(orig.root);
    try {
      const { gguf, onnx, diffusers } = orig.models;
      const ggufs = await listModels(lib, { formats: ["gguf"] });
      assert.deepEqual(ggufs.models.map((m) => m.id), [gguf.id]);
      const onnxs = await listModels(lib, { formats: ["onnx"] });
      assert.deepEqual(onnxs.models.map((m) => m.id), [onnx.id]);
      const all = await listModels(lib, {});
      assert.equal(all.models.find((m) => m.id === diffusers.id)?.format ?? null, null);
      const root = join(t.dir, "lmstudio", "models");
      fs.mkdirSync(root, { recursive: true });
      const p = await previewMapping(lib, { app: "lmstudio", root, configDir: "/nonexistent-mlib-config" });
      assert.deepEqual(p.creates.map((c) => c.target.slice(root.length + 1)), ["example/Tiny-Llama-GGUF/tiny-llama.Q4_K_M.gguf"]);
    } finally {
      lib.close();
    }
  } finally {
    t.cleanup();
  }
});
