// A diffusers repo cloned without git-lfs: every component's weights are 130-byte LFS pointers. The folder was
// called a complete, safe diffusers model and imported as one; it is now "lfs-pointer" and refused, by name.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../../src/identify/identify.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeDiffusersFolder } from "../../helpers/library-fixtures.js";
import { modelFolders, withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

const POINTER = "version https://git-lfs.github.com/spec/v1\noid sha256:" + "ab".repeat(32) + "\nsize 3438167536\n";

test("a diffusers folder whose weights are LFS pointers is not downloaded: identify says so, import refuses", async () => {
  await withTempLibrary(async (lib, src, root) => {
    const dir = writeDiffusersFolder(join(src, "sd15"));
    writeFileSync(join(dir, "unet", "diffusion_pytorch_model.safetensors"), POINTER);
    const ident = await identify(dir);
    assert.equal(ident.format, "lfs-pointer");
    assert.equal(ident.folder?.complete, false);
    assert.ok(ident.warnings.some((w) => /1 of 3 weight files are Git LFS pointers.*unet\/diffusion_pytorch_model\.safetensors/.test(w)), ident.warnings.join("\n"));

    const summary = await importModels(lib, { paths: [dir] });
    assert.equal(summary.results[0].error?.code, "E_LFS_POINTER");
    assert.match(summary.results[0].error!.message, /git lfs pull/);
    assert.deepEqual(modelFolders(root), []);
    assert.ok(existsSync(join(dir, "unet", "diffusion_pytorch_model.safetensors")));
  });
});
