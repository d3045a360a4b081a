// Searches the way people type them, over a library of real-world model names (real SQLite + FTS5).
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ModelIndex } from "../../src/index/model-index.js";
import { makeRecord } from "../helpers/index-records.js";

const NAMES: [string, string, Record<string, unknown>][] = [
  ["Meta-Llama-3.1-8B-Instruct-Q4_K_M", "llm", { family: "llama", quantization: "Q4_K_M", format: "gguf" }],
  ["llama3-8b-instruct", "llm", { family: "llama", format: "gguf" }],
  ["Llama-2-13b-chat.ggmlv3.q4_0", "llm", { family: "llama", quantization: "Q4_0", format: "ggml" }],
  ["qwen2.5-coder-7b-instruct-q8_0", "llm", { family: "qwen", quantization: "Q8_0", format: "gguf" }],
  ["Qwen 2 VL 7B", "llm", { family: "qwen", format: "safetensors" }],
  ["flux1-dev-fp8", "checkpoint", { family: "flux", quantization: "fp8", format: "safetensors" }],
  ["4x-UltraSharp", "upscaler", { format: "pth" }],
  ["Ultra Realistic LoRA", "lora", { family: "sd1", format: "safetensors" }],
  ["control_v11p_sd15_canny", "controlnet", { family: "sd1", format: "pth" }],
  ["mistral-7b-instruct-v0.3.Q5_K_S", "llm", { family: "mistral", quantization: "Q5_K_S", format: "gguf" }],
];

describe("search as typed: words glued to numbers and to each other", () => {
  let dir = "";
  let index: ModelIndex;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-typed-"));
    index = ModelIndex.open(path.join(dir, "index.db"));
    for (const [name, type, over] of NAMES) index.upsert(makeRecord({ id: `${type}/${name}`, officialName: name, modelType: type, ...over }));
  });
  after(() => {
    index.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });
  const names = (q: string): string[] => index.search(q).models.map((m) => m.officialName);

  test("llama3 finds Meta-Llama-3.1 as well as llama3-8b (the exact spelling first)", () => {
    assert.deepEqual(names("llama3"), ["llama3-8b-instruct", "Meta-Llama-3.1-8B-Instruct-Q4_K_M"]);
  });
  test("llama 3 finds llama3-8b as well as Meta-Llama-3.1", () => {
    assert.deepEqual(new Set(names("llama 3")), new Set(["llama3-8b-instruct", "Meta-Llama-3.1-8B-Instruct-Q4_K_M"]));
  });
  test("llama3.1, qwen 2.5, flux 1, ultra sharp, sd 15 find the model written the other way", () => {
    assert.deepEqual(names("llama3.1"), ["Meta-Llama-3.1-8B-Instruct-Q4_K_M"]);
    assert.deepEqual(names("qwen 2.5"), ["qwen2.5-coder-7b-instruct-q8_0"]);
    assert.deepEqual(names("qwen2 vl"), ["Qwen 2 VL 7B"]);
    assert.deepEqual(names("flux 1 dev"), ["flux1-dev-fp8"]);
    assert.deepEqual(names("ultra sharp"), ["4x-UltraSharp"]);
    assert.deepEqual(names("sd 15"), ["control_v11p_sd15_canny"]);
  });
  test("a version typed without its v, or with one the name does not write", () => {
    assert.deepEqual(names("0.3"), ["mistral-7b-instruct-v0.3.Q5_K_S"]);
    assert.deepEqual(names("mistral 0.3"), ["mistral-7b-instruct-v0.3.Q5_K_S"]);
    assert.deepEqual(names("llama v3.1"), ["Meta-Llama-3.1-8B-Instruct-Q4_K_M"]);
  });
  test("a pasted file name, extension and all, finds its model", () => {
    assert.deepEqual(names("Meta-Llama-3.1-8B-Instruct-Q4_K_M.gguf"), ["Meta-Llama-3.1-8B-Instruct-Q4_K_M"]);
    assert.deepEqual(names("4x-UltraSharp.pth"), ["4x-UltraSharp"]);
    assert.deepEqual(names("Llama-2-13b-chat.ggmlv3.q4_0.bin"), ["Llama-2-13b-chat.ggmlv3.q4_0"]);
  });
  test("an Ollama-style name:tag finds the model whose name holds both", () => {
    index.upsert(makeRecord({ id: "llm/qwen/deepseek-r1-distill-qwen-7b", officialName: "DeepSeek-R1-Distill-Qwen-7B", family: "qwen" }));
    try {
      assert.deepEqual(names("deepseek-r1:7b"), ["DeepSeek-R1-Distill-Qwen-7B"]);
    } finally {
      index.delete("llm/qwen/deepseek-r1-distill-qwen-7b");
    }
  });
  test("nothing unrelated crowds in; what already matched still does", () => {
    assert.deepEqual(new Set(names("ultra")), new Set(["Ultra Realistic LoRA", "4x-UltraSharp"]));
    assert.deepEqual(names("llama 3.1 8b"), ["Meta-Llama-3.1-8B-Instruct-Q4_K_M"]);
    assert.deepEqual(names("v0.3"), ["mistral-7b-instruct-v0.3.Q5_K_S"]);
    assert.deepEqual(names("q4_0"), ["Llama-2-13b-chat.ggmlv3.q4_0"]);
    assert.deepEqual(names("qwen coder"), ["qwen2.5-coder-7b-instruct-q8_0"]);
  });
  test("with a filter and under the in-memory filters, the same hits", () => {
    for (const memory of [false, true]) {
      index.useMemoryFilters(memory);
      const r = index.search("llama 3", { families: ["llama"], sort: "name" });
      assert.deepEqual(r.models.map((m) => m.officialName), ["llama3-8b-instruct", "Meta-Llama-3.1-8B-Instruct-Q4_K_M"]);
      assert.equal(r.totalCount, 2);
    }
    index.useMemoryFilters(false);
  });
});
