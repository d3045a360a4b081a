// A PyTorch zip pickle named `.safetensors` (mislabelled, or disguised on purpose): it was refused as a pickle, but
// nothing said that its name lies, and with --allow-pickle it was stored under that name without a word.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../../src/identify/identify.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { buildStoredZip } from "../../../src/demo/zip-writer.js";
import { withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

const zipPickle = () => buildStoredZip([
  { name: "archive/data.pkl", data: Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]) },
  { name: "archive/version", data: Buffer.from("3\n") },
]);

test("a pickle named .safetensors: identify, the refusal and the stored result all say the name lies", async () => {
  await withTempLibrary(async (lib, src) => {
    mkdirSync(src, { recursive: true });
    const file = join(src, "model.safetensors");
    writeFileSync(file, zipPickle());
    const ident = await identify(file);
    assert.equal(ident.securityTier, "pickle");
    assert.match(ident.warnings[0], /named \.safetensors, but it is a pickle/);

    const refused = await importModels(lib, { paths: [file] });
    assert.equal(refused.results[0].error?.code, "E_PICKLE");
    assert.match(refused.results[0].error!.message, /named \.safetensors, but it is a pickle/);

    const stored = await importModels(lib, { paths: [file], securityAcknowledged: true });
    assert.equal(stored.imported, 1, JSON.stringify(stored.results));
    assert.ok(stored.results[0].warnings.some((w) => /named \.safetensors, but it is a pickle/.test(w)));
  });
});

test("a pickle named .ckpt carries no such warning", async () => {
  await withTempLibrary(async (_lib, src) => {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "model.ckpt"), zipPickle());
    const ident = await identify(join(src, "model.ckpt"));
    assert.ok(!ident.warnings.some((w) => w.includes("but it is a pickle")));
  });
});
