// Issue 9 item 5: dedup compares the whole model. A multi-file model is a duplicate only when one stored model
// holds every one of its files (same SHA-256): two pipelines sharing the unet but not the VAE are two models; a
// shard set whose first shard equals a stored model is not that model.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { cpSync, existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { buildSafetensors } from "../../src/demo/safetensors-writer.js";
import { bytes, llamaTensors, withLibrary, writeDiffusersFolder, writeSafetensorsModel } from "../helpers/library-fixtures.js";

describe("dedup of multi-file models", () => {
  test.after(() => closeHashWorkers());

  test("two pipelines sharing the unet but not the VAE: both stored; the same pipeline again is a duplicate", () =>
    withLibrary(async (lib, src) => {
      const a = writeDiffusersFolder(join(src, "pipe_a"));
      const b = join(src, "pipe_b");
      cpSync(a, b, { recursive: true });
      writeFileSync(join(b, "vae", "diffusion_pytorch_model.safetensors"), buildSafetensors([
        { name: "encoder.down_blocks.0.resnets.0.conv1.weight", dtype: "F16", shape: [8, 8, 3, 3], data: bytes(8 * 8 * 9 * 2, 77) },
        { name: "decoder.up_blocks.0.resnets.0.conv1.weight", dtype: "F16", shape: [8, 8, 3, 3] },
      ]));
      const [ra] = await importModels(lib, [a]);
      assert.equal(ra.status, "imported", ra.error?.message);
      const [rb] = await importModels(lib, [b]);
      assert.equal(rb.status, "imported", `the second pipeline is not a duplicate: ${JSON.stringify(rb)}`);
      assert.ok(existsSync(join(rb.path!, "vae", "diffusion_pytorch_model.safetensors")), "its VAE is stored");
      const c = join(src, "pipe_c");
      cpSync(a, c, { recursive: true });
      const [rc] = await importModels(lib, [c]);
      assert.equal(rc.status, "duplicate");
      assert.equal(rc.duplicateOf, ra.modelId);
    }));

  test("a shard set whose first shard equals a stored model is not a duplicate of it", () =>
    withLibrary(async (lib, src) => {
      const single = writeSafetensorsModel(join(src, "single", "tiny.safetensors"), llamaTensors(4, 32, 5));
      const [r1] = await importModels(lib, [single]);
      assert.equal(r1.status, "imported", r1.error?.message);
      const set = join(src, "set");
      cpSync(single, join(set, "model-00001-of-00002.safetensors"));
      writeSafetensorsModel(join(set, "model-00002-of-00002.safetensors"), llamaTensors(1, 16, 9));
      const [r2] = await importModels(lib, [join(set, "model-00001-of-00002.safetensors")]);
      assert.equal(r2.status, "imported", JSON.stringify(r2));
      assert.equal(r2.files, 2);
    }));
});
