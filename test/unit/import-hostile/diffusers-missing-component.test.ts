// A diffusers pipeline copied without one of the component folders its model_index.json names (text_encoder/ left
// behind) cannot load. It was called complete as long as any component had weights, and stored as a whole model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../../src/identify/identify.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeDiffusersFolder } from "../../helpers/library-fixtures.js";
import { modelFolders, withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

test("a diffusers folder missing a component is incomplete: identify says so, import refuses it", async () => {
  await withTempLibrary(async (lib, src, root) => {
    const dir = writeDiffusersFolder(join(src, "sd15"));
    rmSync(join(dir, "text_encoder"), { recursive: true });
    const ident = await identify(dir);
    assert.equal(ident.folder?.complete, false);
    assert.deepEqual(ident.folder?.missingFiles, ["text_encoder/"]);
    assert.ok(ident.warnings.some((w) => w.includes("text_encoder/")), ident.warnings.join("\n"));

    const summary = await importModels(lib, { paths: [dir] });
    assert.equal(summary.results[0].error?.code, "E_INCOMPLETE");
    assert.match(summary.results[0].error!.message, /incomplete diffusers pipeline: missing 1 component folder\(s\): text_encoder\//);
    assert.deepEqual(modelFolders(root), []);
    assert.ok(existsSync(join(dir, "unet", "diffusion_pytorch_model.safetensors")));

    const forced = await importModels(lib, { paths: [dir], allowIncomplete: true });
    assert.equal(forced.imported, 1, JSON.stringify(forced.results));
  });
});

test("a whole diffusers folder (safety_checker null) is still complete", async () => {
  await withTempLibrary(async (_lib, src) => {
    const ident = await identify(writeDiffusersFolder(join(src, "sd15")));
    assert.equal(ident.folder?.complete, true);
    assert.deepEqual(ident.folder?.missingFiles, []);
  });
});
