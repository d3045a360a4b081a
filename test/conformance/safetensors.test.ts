// Every real safetensors file in ../shared/fixtures (see its SOURCES.md) reads, and each gives
// the answer its provenance says: cloneofsimo SD1 LoRAs, an MLX Llama-3 LoRA with
// `"__metadata__": null`, a tiny MiniCPM3 checkpoint, candle's data files, safetensors' samples.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { looksLikeSafetensors, readSafetensorsHeader, summarizeSafetensors } from "../../src/formats/safetensors.js";
import { readHfConfig } from "../../src/formats/hf-config.js";
import { ModelLibraryError } from "../../src/core/errors.js";

const FIXTURES = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));
const ROOT = path.join(FIXTURES, "safetensors");
const skip = fs.existsSync(ROOT) ? false : "../shared/fixtures not found";

function listSafetensors(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const p = path.join(dir, e.name);
    return e.isDirectory() ? listSafetensors(p) : e.name.endsWith(".safetensors") ? [p] : [];
  });
}

async function summary(rel: string) {
  const p = path.join(ROOT, rel);
  const header = await readSafetensorsHeader(p);
  return { header, s: summarizeSafetensors(header, { config: await readHfConfig(path.dirname(p)) }) };
}

describe("safetensors fixtures", () => {
  test("every file reads: sniffed, offsets inside the data, tensors tile the data area", { skip }, async () => {
    const files = listSafetensors(ROOT);
    assert.ok(files.length >= 12, `found ${files.length} files`);
    for (const p of files) {
      const size = fs.statSync(p).size;
      const head = Buffer.alloc(64);
      const fd = fs.openSync(p, "r");
      fs.readSync(fd, head, 0, 64, 0);
      fs.closeSync(fd);
      assert.equal(looksLikeSafetensors(head, size), true, p);
      const h = await readSafetensorsHeader(p);
      assert.equal(8 + h.headerLength + h.dataSize, size, p);
      assert.ok(h.tensors.length > 0, p);
      assert.deepEqual(h.warnings, [], p);
      const covered = h.tensors.reduce((n, t) => n + t.dataOffsets[1] - t.dataOffsets[0], 0);
      assert.equal(covered, h.dataSize, `${p}: the tensors cover the whole data area`);
      const s = summarizeSafetensors(h);
      assert.equal(s.format, "safetensors");
      assert.equal(s.tensorCount, h.tensors.length);
    }
  });

  test("lora_disney: SD1 LoRA (cloneofsimo) with its rich __metadata__", { skip }, async () => {
    const { header, s } = await summary("lora/lora_disney.safetensors");
    assert.equal(header.tensors.length, 386);
    assert.equal(Object.keys(header.metadata!).length, 196);
    assert.equal(header.metadata!["<s1>"], "<embed>");
    assert.equal(header.metadata!["text_encoder"], '["CLIPAttention"]');
    assert.deepEqual(header.tensors[0], { name: "<s1>", dtype: "F32", shape: [768], dataOffsets: [0, 3072] });
    assert.equal(s.modelType, "diffusion");
    assert.equal(s.subtype, "loras");
    assert.equal(s.family, "sd1");
    assert.deepEqual(s.dtypes, ["F32"]);
    assert.equal(s.quantization, "F32");
    assert.equal(s.parameterCount, (1582501 - 8 - header.headerLength) / 4);
  });

  test("lora_disney_inpainting: same format, F32 embeddings + F16 LoRA weights", { skip }, async () => {
    const { s } = await summary("lora/lora_disney_inpainting.safetensors");
    assert.equal(s.modelType, "diffusion");
    assert.equal(s.subtype, "loras");
    assert.equal(s.family, "sd1");
    assert.deepEqual(s.dtypes, ["F16", "F32"]);
    assert.equal(s.quantization, "F16");
  });

  test('mlx-lora-adapters: "__metadata__": null, offsets out of key order, an LLM LoRA', { skip }, async () => {
    const { header, s } = await summary("lora/mlx-lora-adapters.metadata-null.safetensors");
    assert.equal(header.metadata, null);
    assert.equal(header.tensors.length, 8);
    assert.deepEqual(header.tensors.find((t) => t.name === "model.layers.31.self_attn.q_proj.lora_b")?.dataOffsets, [0, 131072]);
    assert.equal(s.modelType, "llm");
    assert.equal(s.subtype, "loras");
    assert.equal(s.loraFormat, "mlx");
    assert.equal(s.metadata, null);
    assert.equal(s.parameterCount, 851968 / 4);
  });

  test("ollama-minicpm3 testdata: an LLM checkpoint (lm_head, model.layers.0.*), family not guessed", { skip }, async () => {
    const { s } = await summary("misc/ollama-minicpm3-4b-testdata.model.safetensors");
    assert.equal(s.modelType, "llm");
    assert.equal(s.subtype, null);
    assert.equal(s.family, null);
    assert.equal(s.tensorCount, 15);
    assert.equal(s.blockCount, 1);
    assert.equal(s.metadata, null);
  });

  test("candle data files (codes, mel filters, voices) are not models", { skip }, async () => {
    const jfk = await summary("misc/jfk-codes.safetensors");
    assert.deepEqual(jfk.header.tensors, [{ name: "codes", dtype: "I64", shape: [1, 2, 828], dataOffsets: [0, 13248] }]);
    assert.equal(jfk.s.modelType, "unknown");
    const mel = await summary("misc/mel_filters.safetensors");
    assert.deepEqual(mel.header.tensors[0].shape, [80, 201]);
    assert.equal(mel.s.modelType, "unknown");
    const voices = await summary("misc/voices.safetensors");
    assert.deepEqual(voices.s.dtypes, ["I64", "U8"]);
    assert.equal(voices.s.modelType, "unknown");
  });

  test("safetensors samples: one dtype each, metadata {test: a}, space-padded headers", { skip }, async () => {
    for (const [letter, dtype] of [["B", "U8"], ["d", "F64"], ["e", "F16"], ["f", "F32"]]) {
      const { header, s } = await summary(`samples/safetensors-sample-${letter}.safetensors`);
      assert.deepEqual(header.metadata, { test: "a" });
      assert.deepEqual(header.tensors.map((t) => [t.name, t.dtype, t.shape]), [[letter, dtype, [6]]]);
      // An integer tensor that is not named as a weight is data: it has no quantization (issue 9 item 10).
      assert.equal(s.quantization, dtype === "U8" ? null : dtype);
      assert.equal(s.modelType, "unknown");
    }
    const { header, s } = await summary("samples/safetensors-sample-overall.safetensors");
    assert.equal(header.tensors.length, 9);
    assert.deepEqual(s.dtypes, ["F16", "F32", "F64", "I16", "I32", "I8", "U16", "U32", "U8"]);
  });

  test("a real file cut short (copied into a temp dir) is E_TRUNCATED", { skip }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const whole = fs.readFileSync(path.join(ROOT, "lora/lora_disney.safetensors"));
      for (const n of [4, 1000, 34981, whole.length - 1]) {
        const p = path.join(dir, `cut-${n}.safetensors`);
        fs.writeFileSync(p, whole.subarray(0, n));
        await assert.rejects(readSafetensorsHeader(p), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_TRUNCATED" && e.message.includes(p));
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
