// Issue 9 item 10 on files written by the test: a GGUF with no tensors, integer-only safetensors, and an ONNX
// graph with an image input through convolutions (the conformance suite checks the same on real files).
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../src/identify/identify.js";
import { buildGguf } from "../../src/demo/gguf-writer.js";
import { buildSafetensors } from "../../src/demo/safetensors-writer.js";
import { buildTinyOnnx, bytesField, varintField } from "../helpers/onnx-writer.js";
import { tempDir } from "../helpers/library-fixtures.js";

test("a GGUF with metadata and 0 tensors: no quantization, a warning that it holds no weights", async () => {
  const t = tempDir();
  try {
    const p = join(t.dir, "vocab.gguf");
    writeFileSync(p, buildGguf({ version: 3, kv: [
      { key: "general.architecture", type: "string", value: "llama" },
      { key: "general.file_type", type: "uint32", value: 1 },
    ], tensors: [] }));
    const id = await identify(p);
    assert.equal(id.quantization, null);
    assert.ok(id.warnings.some((w) => w.includes("no weights")), JSON.stringify(id.warnings));
  } finally {
    t.cleanup();
  }
});

test("safetensors holding only integer data tensors has no quantization; a U8 `.weight` (packed) keeps U8", async () => {
  const t = tempDir();
  try {
    const codes = join(t.dir, "codes.safetensors");
    writeFileSync(codes, buildSafetensors([{ name: "codes", dtype: "I64", shape: [4] }, { name: "mask", dtype: "U8", shape: [4] }]));
    assert.equal((await identify(codes)).quantization, null);
    const packed = join(t.dir, "packed.safetensors");
    writeFileSync(packed, buildSafetensors([{ name: "layer.weight", dtype: "U8", shape: [64] }, { name: "layer.scale", dtype: "F16", shape: [2] }]));
    assert.equal((await identify(packed)).quantization, "U8");
  } finally {
    t.cleanup();
  }
});

/** ValueInfoProto with a tensor shape. */
function valueInfo(name: string, dims: number[]): Buffer {
  const shape = Buffer.concat(dims.map((d) => bytesField(1, varintField(1, d))));
  const tensorType = Buffer.concat([varintField(1, 1), bytesField(2, shape)]);
  return Buffer.concat([bytesField(1, name), bytesField(2, bytesField(1, tensorType))]);
}
const node = (op: string) => Buffer.concat([bytesField(1, "x"), bytesField(2, "y"), bytesField(4, op)]);

test("ONNX: an image input through Conv is vision; an initializer listed as an input is not taken for the image", async () => {
  const t = tempDir();
  try {
    const graph = Buffer.concat([
      bytesField(1, node("Conv")),
      bytesField(1, node("Gemm")),
      bytesField(2, "mobilenet"),
      bytesField(5, Buffer.concat([varintField(1, 8), varintField(2, 1), bytesField(8, "w"), bytesField(9, Buffer.alloc(32))])),
      bytesField(11, valueInfo("w", [8, 3, 3, 3])),
      bytesField(11, valueInfo("pixels", [1, 3, 224, 224])),
      bytesField(12, valueInfo("probs", [1, 1000])),
    ]);
    const p = join(t.dir, "m.onnx");
    writeFileSync(p, buildTinyOnnx({ graph }).bytes);
    const id = await identify(p);
    assert.equal(id.modelType, "vision");
    assert.equal(id.architecture, "mobilenet");
    const plain = join(t.dir, "relu.onnx");
    writeFileSync(plain, buildTinyOnnx({ graph: Buffer.concat([bytesField(1, node("Relu")), bytesField(11, valueInfo("x", [1, 2]))]) }).bytes);
    assert.equal((await identify(plain)).modelType, "unknown");
  } finally {
    t.cleanup();
  }
});
