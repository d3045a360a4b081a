// Issue 9 item 10 on real files: a vocab-only GGUF holds no weights (no quantization, flagged); integer-only
// safetensors have no quantization; a sharded HF folder's parameter count comes from its index's total_size
// and config dtype; ONNX image classifiers are typed "vision".
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { identify } from "../../src/identify/identify.js";

const root = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));
const skip = fs.existsSync(root) ? false : "../shared/fixtures not found";

test("vocab-only GGUF (0 tensors): no quantization, flagged as holding no weights", { skip }, async () => {
  for (const f of ["gguf/vocab/ggml-vocab-llama-spm.gguf", "gguf/vocab/ggml-vocab-phi-3.gguf", "gguf/historical/ggml-vocab-falcon.gguf-v2.gguf"]) {
    const id = await identify(root + f);
    assert.equal(id.tensorCount, 0, f);
    assert.equal(id.quantization, null, `${f}: ${id.quantization}`);
    assert.ok(id.warnings.some((w) => /no weights/.test(w)), `${f}: ${JSON.stringify(id.warnings)}`);
  }
});

test("a GGUF with tensors keeps its quantization and is not flagged", { skip }, async () => {
  const id = await identify(root + "gguf/tiny-weights/llama-2-tiny-random.gguf");
  assert.ok(id.quantization !== null);
  assert.ok(!id.warnings.some((w) => /no weights/.test(w)));
});

test("safetensors of I64 codes / U8 masks: no quantization; F32 weights keep theirs", { skip }, async () => {
  assert.equal((await identify(root + "safetensors/misc/jfk-codes.safetensors")).quantization, null);
  assert.equal((await identify(root + "safetensors/misc/voices.safetensors")).quantization, null);
  assert.equal((await identify(root + "safetensors/misc/ollama-minicpm3-4b-testdata.model.safetensors")).quantization, "F32");
});

test("sharded HF folders: parameter count from total_size and the config's dtype", { skip }, async () => {
  const wiz = await identify(root + "sharded/wizardlm-2-8x22b");
  assert.equal(wiz.parameterCount, 281241268224 / 2); // bfloat16
  assert.equal(wiz.quantization, "BF16");
  const granite = await identify(root + "sharded/granite-3.1-1b-a400m-instruct/sharded-at-0a854d48");
  assert.equal(granite.parameterCount, 5338513408 / 4); // float32
  assert.equal(granite.quantization, "F32");
  const devstral = await identify(root + "sharded/devstral-small-2507-copy");
  assert.ok(devstral.parameterCount !== null && devstral.parameterCount > 20e9, String(devstral.parameterCount));
});

test("ONNX image classifiers get a type; a single-op test graph does not", { skip }, async () => {
  for (const f of ["onnx/light_resnet50.onnx", "onnx/light_squeezenet.onnx"]) {
    const id = await identify(root + f);
    assert.equal(id.modelType, "vision", f);
  }
  assert.equal((await identify(root + "onnx/candle-test-relu.onnx")).modelType, "unknown");
  assert.equal((await identify(root + "onnx/pytorch-converted-BatchNorm2d_eval.onnx")).modelType, "unknown");
});
