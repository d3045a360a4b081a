// map on a library the original wrote: its in-place import lists a file of a sub-folder by its bare name
// (`juggernaut.safetensors` for `weights/juggernaut.safetensors`). Linked as listed, that was a dangling link.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, previewMapping } from "../../../src/mapper/index.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { makeOriginalLibrary } from "../../helpers/original-library.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

test.after(() => closeHashWorkers());

test("map: a bare name of a nested file links that file; a bare name several sub-folders hold is left out, never a dangling link", async () => {
  const t = tempDir("mlib-map-original-");
  try {
    const orig = await makeOriginalLibrary(join(t.dir, "lib"), { appsDir: join(t.dir, "apps") });
    // A checkpoint imported in place from a folder that kept it in weights/: listed by its bare name.
    const dir = join(orig.root, "diffusion", "sdxl", "juggernaut");
    fs.mkdirSync(join(dir, "weights"), { recursive: true });
    fs.writeFileSync(join(dir, "weights", "juggernaut.safetensors"), Buffer.alloc(64, 1));
    fs.writeFileSync(join(dir, "metadata.json"), JSON.stringify({
      model_id: "diffusion/sdxl/juggernaut", family: "sdxl", model_type: "diffusion", subtype: "checkpoints",
      official_name: "Juggernaut", cleaned_name: "juggernaut", tags: [], hashes: null, size_bytes: 64,
      files: [{ name: "juggernaut.safetensors", original_name: null, size: 64, sha256: null, blake3: null }],
      match_source: "orphan_recovery", pending_online_lookup: true,
    }, null, 2));
    const lib = await ModelLibrary.open(orig.root);
    const root = join(t.dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    try {
      const p = await previewMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
      assert.ok(p.excluded.some((e) => e.modelId === orig.models.diffusers.id && /several sub-folders/.test(e.reason)), JSON.stringify(p.excluded));
      const r = await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
      assert.deepEqual(r.errors, []);
      const made = join(root, "checkpoints", "juggernaut.safetensors");
      assert.equal(fs.readlinkSync(made), join(dir, "weights", "juggernaut.safetensors"));
      // Nothing made points nowhere.
      for (const name of fs.readdirSync(join(root, "checkpoints"))) {
        assert.ok(fs.existsSync(join(root, "checkpoints", name)), `${name} is a dangling link`);
      }
    } finally {
      lib.close();
    }
  } finally {
    t.cleanup();
  }
});
