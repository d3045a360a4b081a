// An app folder that leads back into the library (a user's `models/checkpoints` symlinked to a library folder,
// or --root given inside the library): links are never made inside the library, and no library file is
// ever taken for a user's file and moved aside.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, previewMapping } from "../../../src/mapper/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary, type TinyModel } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";
// Two checkpoints whose file has the same generic name (common for downloads from a repo).
const MODELS: TinyModel[] = [
  { id: "diffusion/sdxl/alpha", model_type: "diffusion", subtype: "vae", family: "sdxl", format: "safetensors", files: { "model.safetensors": "alpha-bytes" } },
  { id: "diffusion/sdxl/beta", model_type: "diffusion", subtype: "checkpoints", family: "sdxl", format: "safetensors", files: { "model.safetensors": "beta-bytes" } },
  { id: "diffusion/sdxl/gamma", model_type: "diffusion", subtype: "checkpoints", family: "sdxl", format: "safetensors", files: { "gamma.safetensors": "gamma-bytes" } },
];

function listTree(dir: string): string[] {
  return (fs.readdirSync(dir, { recursive: true }) as string[]).filter((p) => !p.startsWith(".model-library")).sort();
}

test("a target folder symlinked into the library: overwrite never moves a library file aside, nothing is made in the library", async () => {
  const { dir, cleanup } = tempDir("mlib-intolib-");
  const lib = await tinyLibrary(join(dir, "lib"), MODELS);
  try {
    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    // The user once pointed ComfyUI's checkpoints at a folder in the library (that of the VAE alpha, whose file
    // has the same name as the checkpoint beta's): beta's link would have taken the place of alpha's file.
    fs.symlinkSync(lib.modelDir("diffusion/sdxl/alpha"), join(root, "checkpoints"));
    const before = listTree(lib.root);
    const p = await previewMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    const viaLibrary = [...p.creates, ...p.conflicts, ...p.replaces].filter((x) => x.targetDir === "checkpoints");
    assert.deepEqual(viaLibrary, [], "nothing planned through the folder that leads into the library");
    assert.ok(p.excluded.some((x) => /inside the library/.test(x.reason)), JSON.stringify(p.excluded));
    const r = await applyMapping(lib, { app: "comfyui", root, onConflict: "overwrite", configDir: NO_USER_CONFIGS });
    assert.deepEqual(r.made.map((m) => m.target), [join(root, "vae", "model.safetensors")], "only alpha's own VAE link");
    assert.deepEqual(r.conflicts, []);
    assert.equal(fs.readFileSync(join(lib.modelDir("diffusion/sdxl/alpha"), "model.safetensors"), "utf8"), "alpha-bytes", "the library's file is where it was");
    assert.ok(fs.lstatSync(join(lib.modelDir("diffusion/sdxl/alpha"), "model.safetensors")).isFile());
    assert.deepEqual(listTree(lib.root).filter((p) => p !== "link_registry.json"), before.filter((p) => p !== "link_registry.json"), "nothing new inside the library");
    assert.ok(fs.lstatSync(join(root, "checkpoints")).isSymbolicLink(), "the user's folder link stays");
  } finally {
    lib.close();
    cleanup();
  }
});

test("--root inside the library (or the library itself): no link is made there", async () => {
  const { dir, cleanup } = tempDir("mlib-intolib-");
  const lib = await tinyLibrary(join(dir, "lib"), MODELS);
  try {
    const before = listTree(lib.root);
    for (const root of [lib.root, join(lib.root, "diffusion", "models")]) {
      const r = await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
      assert.deepEqual(r.made, [], root);
      assert.ok(r.excluded.some((x) => /inside the library/.test(x.reason)), JSON.stringify(r.excluded));
    }
    assert.deepEqual(listTree(lib.root).filter((p) => p !== "link_registry.json"), before.filter((p) => p !== "link_registry.json"));
  } finally {
    lib.close();
    cleanup();
  }
});

test("a sub-folder under a rule's folder symlinked into the library (LM Studio's publisher folder): that unit fails, nothing made there", async () => {
  const { dir, cleanup } = tempDir("mlib-intolib-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "lmstudio", "models");
    fs.mkdirSync(root, { recursive: true });
    fs.symlinkSync(join(lib.root, "llm"), join(root, "TheBloke"));
    const before = listTree(lib.root);
    const r = await applyMapping(lib, { app: "lmstudio", root, configDir: NO_USER_CONFIGS });
    assert.ok(r.errors.some((e) => e.modelId === "llm/llama/tiny_llama" && /inside the library/.test(e.message)), JSON.stringify(r.errors));
    assert.ok(r.made.some((m) => m.target.startsWith(join(root, "local"))), "the other models are linked");
    assert.deepEqual(listTree(lib.root).filter((p) => p !== "link_registry.json"), before.filter((p) => p !== "link_registry.json"));
  } finally {
    lib.close();
    cleanup();
  }
});
