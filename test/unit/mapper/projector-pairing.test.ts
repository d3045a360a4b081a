// The names a projector (mmproj GGUF) and its LLM share, as the files on the Hub are named (ggml-org, bartowski,
// unsloth, second-state), and the generic ones that name no model.
import { test } from "node:test";
import assert from "node:assert/strict";
import { pairingKey, pairingKeys } from "../../../src/mapper/projector-pairing.js";

test("pairingKey: the model's name without mmproj, precision, quantization and shard words", () => {
  assert.equal(pairingKey("mmproj-Qwen2.5-VL-7B-Instruct-f16.gguf"), "qwen2-5-vl-7b-instruct");
  assert.equal(pairingKey("Qwen2.5-VL-7B-Instruct-Q4_K_M.gguf"), "qwen2-5-vl-7b-instruct");
  assert.equal(pairingKey("Q4/Qwen2.5-VL-7B-Instruct-IQ2_XS-00001-of-00002.gguf"), "qwen2-5-vl-7b-instruct");
  assert.equal(pairingKey("gemma-3-4b-it-mmproj-BF16.gguf"), "gemma-3-4b-it");
  assert.equal(pairingKey("Gemma 3 4b It"), "gemma-3-4b-it");
  assert.equal(pairingKey("llava-v1.6-mistral-7b.Q8_0.gguf"), "llava-v1-6-mistral-7b");
  // Words that only look like quantizations inside a name stay.
  assert.equal(pairingKey("qwen2-vl-7b-instruct-q4_k_m"), "qwen2-vl-7b-instruct");
  assert.equal(pairingKey("Qwen3-4B"), "qwen3-4b");
  // Generic names pair with nothing.
  assert.equal(pairingKey("mmproj-model-f16.gguf"), null);
  assert.equal(pairingKey("mmproj-F16.gguf"), null);
  assert.equal(pairingKey("model-Q4_K_M.gguf"), null);
  assert.deepEqual([...pairingKeys(["mmproj-F16.gguf", "notes.txt"], ["mmproj-F16", "Gemma 3 4b It", null])], ["gemma-3-4b-it"]);
});
