// Conversion of Hub answers (as the original converted them): real model-info bodies recorded from the Hub (../shared/fixtures/hub-api)
// when present, and the download options with every shard's size summed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { compatibleEngines, downloadOptions, kindFromConfig, modelTypeOfKind, pipelineTagOfKind, quantsInName, toHubModel, type ApiModelItem } from "../../../src/hub/convert-model.js";
import { fileURLToPath } from "node:url";

const fixtureDir = fileURLToPath(new URL("../../../../shared/fixtures/hub-api/extracted/", import.meta.url));
const recorded = (name: string): ApiModelItem | null => {
  const f = join(fixtureDir, name);
  return existsSync(f) ? ((JSON.parse(readFileSync(f, "utf8")) as { body_json: ApiModelItem }).body_json) : null;
};

test("recorded model info bodies convert: kind, formats, engines (skips without ../shared/fixtures)", (t) => {
  const bert = recorded("200__google-bert_bert-base-uncased.json");
  const sd = recorded("200__stabilityai_stable-diffusion-2-1.json");
  const t5 = recorded("200__google-t5_t5-small.json");
  if (!bert || !sd || !t5) return t.skip("../shared/fixtures/hub-api not present");
  const b = toHubModel(bert, "https://huggingface.co");
  assert.equal(b.repoId, "google-bert/bert-base-uncased");
  assert.equal(b.developer, "google-bert");
  assert.equal(b.name, "bert-base-uncased");
  assert.equal(b.kind, "fill-mask");
  assert.ok(b.formats.includes("safetensors"));
  assert.ok(b.compatibleEngines.includes("transformers"));
  assert.equal(b.url, "https://huggingface.co/google-bert/bert-base-uncased");
  const s = toHubModel(sd, "https://huggingface.co");
  assert.equal(s.kind, "text-to-image");
  assert.equal(modelTypeOfKind(s.kind), "diffusion");
  assert.equal(toHubModel({ ...t5, pipeline_tag: undefined }, "x").kind, "text2text-generation");
});

test("kind from config: architecture suffix first, then model_type; the --kind words", () => {
  assert.equal(kindFromConfig({ architectures: ["LlamaForCausalLM"] }), "text-generation");
  assert.equal(kindFromConfig({ architectures: ["Foo"], model_type: "whisper" }), "automatic-speech-recognition");
  assert.equal(kindFromConfig({ model_type: "nothing" }), null);
  assert.equal(pipelineTagOfKind("llm"), "text-generation");
  assert.equal(pipelineTagOfKind("diffusion"), "text-to-image");
  assert.equal(pipelineTagOfKind("audio"), "automatic-speech-recognition");
  assert.equal(pipelineTagOfKind("summarization"), "summarization");
});

test("quants from tags, else from file names; engines sorted and unique", () => {
  const m = toHubModel({ id: "a/b-GGUF", tags: ["gguf"], siblings: [{ rfilename: "b-Q4_K_M.gguf" }, { rfilename: "b-IQ4_XS.gguf" }, { rfilename: "b-Q8_0-00001-of-00002.gguf" }, { rfilename: "README.md" }] }, "e");
  assert.deepEqual(m.quants, ["IQ4_XS", "Q4_K_M", "Q8_0"]);
  assert.deepEqual(quantsInName("model.fp16.safetensors"), ["fp16"]);
  assert.deepEqual(compatibleEngines(["safetensors", "gguf", "pytorch"]), ["candle", "diffusers", "llama.cpp", "ollama", "transformers"]);
});

test("download options: a split quant's shards are summed (the original reported the first shard only)", () => {
  const opts = downloadOptions(
    [
      { path: "m-Q8_0-00001-of-00002.gguf", size: 100, sha256: "a", lfs: true },
      { path: "m-Q8_0-00002-of-00002.gguf", size: 50, sha256: "b", lfs: true },
      { path: "m-Q4_K_M.gguf", size: 70, sha256: "c", lfs: true },
      { path: "README.md", size: 5, sha256: null, lfs: false },
    ],
    [],
  );
  assert.deepEqual(opts, [
    { quant: "Q4_K_M", sizeBytes: 70, files: ["m-Q4_K_M.gguf"] },
    { quant: "Q8_0", sizeBytes: 150, files: ["m-Q8_0-00001-of-00002.gguf", "m-Q8_0-00002-of-00002.gguf"] },
  ]);
});
