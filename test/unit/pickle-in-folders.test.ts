// Issue 9 item 4: pickles inside model folders. A folder's tier is its worst file's; without --allow-pickle no
// pickle file is stored: a pickle beside safe weights in its own folder is left out (and the result says so),
// a pickle that is the only weights of its folder refuses the model. The same at import and at adopt.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../src/index.js";
import { identify } from "../../src/identify/identify.js";
import { adoptOrphans } from "../../src/operations/adopt-orphans.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { withLibrary, writeDiffusersFolder, writeSafetensorsModel, writeZipPickle } from "../helpers/library-fixtures.js";

function pickleUnetPipeline(dir: string): string {
  writeDiffusersFolder(dir);
  rmSync(join(dir, "unet", "diffusion_pytorch_model.safetensors"));
  writeZipPickle(join(dir, "unet", "diffusion_pytorch_model.bin"));
  return dir;
}

function snapshotWithBoth(dir: string): string {
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "llama", architectures: ["LlamaForCausalLM"] }));
  writeSafetensorsModel(join(dir, "model.safetensors"));
  writeZipPickle(join(dir, "pytorch_model.bin"));
  return dir;
}

describe("pickles inside model folders", () => {
  test.after(() => closeHashWorkers());

  test("identify: a diffusers folder with a pickle unet, and a snapshot with pytorch_model.bin, are tier pickle", () =>
    withLibrary(async (_lib, src) => {
      const pipe = await identify(pickleUnetPipeline(join(src, "pipe")));
      assert.equal(pipe.securityTier, "pickle");
      assert.deepEqual(pipe.folder?.pickleFiles, ["unet/diffusion_pytorch_model.bin"]);
      const snap = await identify(snapshotWithBoth(join(src, "snap")));
      assert.equal(snap.securityTier, "pickle");
      assert.deepEqual(snap.folder?.pickleFiles, ["pytorch_model.bin"]);
    }));

  test("import: the pipeline whose unet is only a pickle is refused without --allow-pickle, stored with it", () =>
    withLibrary(async (lib, src) => {
      const dir = pickleUnetPipeline(join(src, "pipe"));
      const [refused] = await importModels(lib, [dir]);
      assert.equal(refused.status, "failed");
      assert.equal(refused.error?.code, "E_PICKLE");
      assert.match(refused.error!.message, /unet\/diffusion_pytorch_model\.bin/);
      assert.equal(lib.list().totalCount, 0);
      const [ok] = await importModels(lib, [dir], { securityAcknowledged: true });
      assert.equal(ok.status, "imported", ok.error?.message);
      assert.equal(ok.securityTier, "pickle");
      assert.ok(existsSync(join(ok.path!, "unet", "diffusion_pytorch_model.bin")));
      assert.equal((await lib.getMetadata(ok.modelId!)).security_tier, "pickle");
    }));

  test("import: a snapshot's pytorch_model.bin beside model.safetensors is left out, and the result says so", () =>
    withLibrary(async (lib, src) => {
      const [r] = await importModels(lib, [snapshotWithBoth(join(src, "snap"))]);
      assert.equal(r.status, "imported", r.error?.message);
      assert.ok(!existsSync(join(r.path!, "pytorch_model.bin")), "no pickle stored");
      assert.ok(existsSync(join(r.path!, "model.safetensors")));
      assert.ok(r.warnings.some((w) => w.includes("pytorch_model.bin") && /pickle/.test(w)), JSON.stringify(r.warnings));
      const m = await lib.getMetadata(r.modelId!);
      assert.equal(m.security_tier, "safe");
      assert.ok(!m.files!.some((f) => f.name === "pytorch_model.bin"));
    }));

  test("adopt: a folder holding a pickle is not adopted without allowPickle (and nothing is deleted), adopted with it", () =>
    withLibrary(async (lib) => {
      const dir = join(lib.root, "diffusion", "sd1", "old_ckpt");
      writeZipPickle(join(dir, "model.ckpt"));
      const r = await adoptOrphans(lib);
      assert.deepEqual(r.adopted, []);
      assert.equal(r.errors.length, 1);
      assert.match(r.errors[0].error, /pickle/);
      assert.ok(existsSync(join(dir, "model.ckpt")));
      assert.ok(!existsSync(join(dir, "metadata.json")));
      const r2 = await adoptOrphans(lib, { allowPickle: true });
      assert.deepEqual(r2.adopted, ["diffusion/sd1/old_ckpt"]);
    }));
});
