// An ONNX model saved with external data (torch.onnx.export of a >2 GB model, onnx.save(..., save_as_external_data))
// keeps its weights in a file beside the .onnx. Importing the .onnx alone stored a model that cannot load, and
// --mode move then deleted the .onnx and left the weights behind. The data file now travels with the model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../../src/identify/identify.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { modelFolders, withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

// Protobuf by hand: a tag, then a varint or a length-delimited body.
const varint = (n: number): Buffer => {
  const out: number[] = [];
  while (n >= 0x80) {
    out.push((n & 0x7f) | 0x80);
    n = Math.floor(n / 128);
  }
  out.push(n);
  return Buffer.from(out);
};
const vfield = (f: number, n: number) => Buffer.concat([varint(f * 8), varint(n)]);
const lfield = (f: number, body: Buffer | string) => {
  const b = typeof body === "string" ? Buffer.from(body) : body;
  return Buffer.concat([varint(f * 8 + 2), varint(b.length), b]);
};

/** A ModelProto: one Relu node and one 4-float initializer whose bytes are in `location`. */
function onnxWithExternalData(location: string): Buffer {
  const initializer = Buffer.concat([
    vfield(1, 4), // dims
    vfield(2, 1), // data_type FLOAT
    lfield(8, "w"),
    lfield(13, Buffer.concat([lfield(1, "location"), lfield(2, location)])),
    lfield(13, Buffer.concat([lfield(1, "length"), lfield(2, "16")])),
    vfield(14, 1), // data_location EXTERNAL
  ]);
  const node = Buffer.concat([lfield(1, "x"), lfield(2, "y"), lfield(4, "Relu")]);
  const graph = Buffer.concat([lfield(1, node), lfield(2, "g"), lfield(5, initializer), lfield(11, lfield(1, "x")), lfield(12, lfield(1, "y"))]);
  return Buffer.concat([vfield(1, 8), lfield(2, "test"), lfield(7, graph), lfield(8, vfield(2, 17))]);
}

test("identify lists an ONNX model's external data file", async () => {
  await withTempLibrary(async (_lib, src) => {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "model.onnx"), onnxWithExternalData("model.onnx_data"));
    const ident = await identify(join(src, "model.onnx"));
    assert.equal(ident.format, "onnx");
    assert.deepEqual(ident.onnx?.externalData, ["model.onnx_data"]);
  });
});

test("import stores the external data with the model, and --mode move moves both", async () => {
  await withTempLibrary(async (lib, src) => {
    mkdirSync(src, { recursive: true });
    writeFileSync(join(src, "model.onnx"), onnxWithExternalData("model.onnx_data"));
    writeFileSync(join(src, "model.onnx_data"), Buffer.alloc(16, 1));
    const summary = await importModels(lib, { paths: [join(src, "model.onnx")], mode: "move" });
    assert.equal(summary.imported, 1, JSON.stringify(summary.results));
    const stored = readdirSync(summary.results[0].path!).sort();
    assert.deepEqual(stored, ["metadata.json", "model.onnx", "model.onnx_data"]);
    assert.deepEqual(readdirSync(src), []);
  });
});

test("import refuses an ONNX model whose external data is missing or points outside its folder", async () => {
  await withTempLibrary(async (lib, src, root) => {
    mkdirSync(join(src, "a"), { recursive: true });
    mkdirSync(join(src, "b"), { recursive: true });
    writeFileSync(join(src, "a", "model.onnx"), onnxWithExternalData("model.onnx_data"));
    writeFileSync(join(src, "b", "model.onnx"), onnxWithExternalData("../secret.bin"));
    writeFileSync(join(src, "secret.bin"), Buffer.alloc(16));
    const summary = await importModels(lib, { paths: [join(src, "a", "model.onnx"), join(src, "b", "model.onnx")], mode: "move" });
    assert.deepEqual(summary.results.map((r) => r.error?.code), ["E_INCOMPLETE", "E_INVALID"]);
    assert.match(summary.results[0].error!.message, /external data.*model\.onnx_data/);
    assert.match(summary.results[1].error!.message, /"\.\.\/secret\.bin"/);
    assert.deepEqual(modelFolders(root), []);
    assert.ok(existsSync(join(src, "a", "model.onnx")) && existsSync(join(src, "b", "model.onnx")));
  });
});
