// The GGUF and legacy GGML readers on the real files of ../shared/fixtures (see its SOURCES.md for what each
// one is and where it comes from). Skips, saying so, when that folder is absent.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { readGguf, summarizeGguf, ggufMetadataStrings, type GgufArray } from "../../src/formats/gguf.js";
import { sniffGgml, summarizeGgml } from "../../src/formats/ggml.js";
import { ModelLibraryError, type ErrorCode } from "../../src/core/errors.js";

const FIXTURES = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));
const present = fs.existsSync(`${FIXTURES}gguf`) && fs.existsSync(`${FIXTURES}legacy-ggml`);
const skip = present ? false : "../shared/fixtures not found";

// file → [GGUF version, general.architecture, tokenizer.ggml.model], as SOURCES.md describes them.
const READABLE: Record<string, [number, string, string]> = {
  "vocab/ggml-vocab-baichuan.gguf": [3, "baichuan", "llama"],
  "vocab/ggml-vocab-bert-bge.gguf": [3, "bert", "bert"],
  "vocab/ggml-vocab-deepseek-coder.gguf": [3, "llama", "gpt2"],
  "vocab/ggml-vocab-falcon.gguf": [3, "falcon", "gpt2"],
  "vocab/ggml-vocab-gpt-2.gguf": [3, "gpt2", "gpt2"],
  "vocab/ggml-vocab-gpt-neox.gguf": [3, "gptneox", "gpt2"],
  "vocab/ggml-vocab-llama-spm.gguf": [3, "llama", "llama"],
  "vocab/ggml-vocab-mpt.gguf": [3, "mpt", "gpt2"],
  "vocab/ggml-vocab-phi-3.gguf": [3, "phi3", "llama"],
  "vocab/ggml-vocab-refact.gguf": [3, "refact", "gpt2"],
  "vocab/ggml-vocab-starcoder.gguf": [3, "starcoder2", "gpt2"],
  "historical/ggml-vocab-dbrx.gguf": [3, "dbrx", "gpt2"],
  "historical/ggml-vocab-stablelm.gguf": [3, "stablelm", "gpt2"],
  "historical/ggml-vocab-falcon.gguf-v2.gguf": [2, "falcon", "gpt2"],
  "historical/ggml-vocab-llama.gguf-v1.gguf": [1, "llama", "llama"],
  "tiny-weights/llama-2-tiny-random.gguf": [3, "llama", "llama"],
};

async function expectCode(file: string, code: ErrorCode, pattern: RegExp): Promise<void> {
  const p = `${FIXTURES}gguf/${file}`;
  await assert.rejects(readGguf(p), (e: unknown) => {
    assert.ok(e instanceof ModelLibraryError, String(e));
    assert.equal(e.code, code, e.message);
    assert.ok(e.message.includes(p), e.message);
    assert.match(e.message, pattern);
    return true;
  });
}

describe("real GGUF files", () => {
  for (const [file, [version, architecture, tokenizer]] of Object.entries(READABLE)) {
    test(`${file}: v${version}, ${architecture}`, { skip }, async (t) => {
      const p = `${FIXTURES}gguf/${file}`;
      const t0 = performance.now();
      const gguf = await readGguf(p);
      const first = performance.now() - t0;
      const t1 = performance.now();
      await readGguf(p);
      t.diagnostic(`read ${fs.statSync(p).size} bytes in ${first.toFixed(2)} ms (again: ${(performance.now() - t1).toFixed(2)} ms)`);

      const s = summarizeGguf(gguf);
      assert.equal(gguf.version, version);
      assert.equal(s.architecture, architecture);
      assert.equal(s.family, architecture);
      assert.equal(s.tokenizerModel, tokenizer);
      assert.equal(ggufMetadataStrings(gguf)["general.architecture"], architecture);
      // The vocabulary is skipped, not decoded, and its length is still known.
      const tokens = gguf.metadata["tokenizer.ggml.tokens"] as GgufArray;
      assert.equal(tokens.type, "array");
      assert.equal(tokens.values, null);
      assert.ok(tokens.length > 1000, `${tokens.length} tokens`);
    });
  }

  test("vocab files with no tensors have no parameter count and no dtypes", { skip }, async () => {
    const s = summarizeGguf(await readGguf(`${FIXTURES}gguf/vocab/ggml-vocab-llama-spm.gguf`));
    assert.equal(s.tensorCount, 0);
    assert.equal(s.parameterCount, null);
    assert.deepEqual(s.dtypes, []);
  });

  test("llama-spm has the 32000-token vocabulary SOURCES.md gives", { skip }, async () => {
    const gguf = await readGguf(`${FIXTURES}gguf/vocab/ggml-vocab-llama-spm.gguf`);
    assert.equal((gguf.metadata["tokenizer.ggml.tokens"] as GgufArray).length, 32000);
  });

  test("dbrx: general.file_type twice, the file still reads, with a warning", { skip }, async () => {
    const gguf = await readGguf(`${FIXTURES}gguf/historical/ggml-vocab-dbrx.gguf`);
    assert.deepEqual(gguf.duplicateKeys, ["general.file_type"]);
    assert.equal(gguf.metadata["dbrx.expert_count"], 16);
    assert.equal(gguf.metadata["dbrx.expert_used_count"], 4);
    const s = summarizeGguf(gguf);
    assert.equal(s.hasChatTemplate, true);
    assert.ok(s.warnings?.some((w) => w.includes("general.file_type")));
  });

  test("bert-bge is an embedding model (bert, attention not causal)", { skip }, async () => {
    const gguf = await readGguf(`${FIXTURES}gguf/vocab/ggml-vocab-bert-bge.gguf`);
    assert.equal(gguf.metadata["bert.attention.causal"], false);
    assert.equal(summarizeGguf(gguf).modelType, "embedding");
  });

  test("phi-3 has a chat template; the others are llm", { skip }, async () => {
    const phi = summarizeGguf(await readGguf(`${FIXTURES}gguf/vocab/ggml-vocab-phi-3.gguf`));
    assert.equal(phi.hasChatTemplate, true);
    assert.equal(phi.modelType, "llm");
    const gpt2 = summarizeGguf(await readGguf(`${FIXTURES}gguf/vocab/ggml-vocab-gpt-2.gguf`));
    assert.equal(gpt2.hasChatTemplate, false);
    assert.equal(gpt2.modelType, "llm");
  });

  test("llama-2-tiny-random: 12 tensors, F16, its parameter count, data up to the file's end", { skip }, async () => {
    const p = `${FIXTURES}gguf/tiny-weights/llama-2-tiny-random.gguf`;
    const gguf = await readGguf(p);
    const s = summarizeGguf(gguf);
    assert.equal(s.tensorCount, 12);
    assert.equal(gguf.tensors.length, 12);
    assert.equal(gguf.metadata["general.file_type"], 1);
    assert.equal(s.quantization, "F16");
    assert.deepEqual(s.dtypes, ["F16", "F32"]);
    assert.equal(s.embeddingLength, 8);
    assert.equal(s.blockCount, 1);
    // The count from the architecture: embeddings and output (vocab × d), 4 attention matrices (d × d),
    // 3 feed-forward matrices (d × ff), 2 norms per block and the output norm (d each).
    const d = gguf.metadata["llama.embedding_length"] as number;
    const ff = gguf.metadata["llama.feed_forward_length"] as number;
    const vocab = (gguf.metadata["tokenizer.ggml.tokens"] as GgufArray).length;
    assert.equal(vocab, 32000);
    const expected = 2 * vocab * d + 4 * d * d + 3 * d * ff + 2 * d + d;
    assert.equal(s.parameterCount, expected);
    assert.equal(s.parameterCount, 513048);
    // SOURCES.md: the header ends at 724398; the data starts at the next multiple of 32.
    assert.equal(gguf.alignment, 32);
    assert.equal(gguf.dataOffset, 724416);
    assert.equal(gguf.tensorDataEnd, fs.statSync(p).size);
    for (const t of gguf.tensors) assert.equal(t.offset % 32, 0, t.name);
  });

  test('FUGG magic → E_BAD_MAGIC; 6 bytes → E_TRUNCATED; value type 13 → E_INVALID; an LFS pointer → E_BAD_MAGIC', { skip }, async () => {
    await expectCode("historical/example.prerelease-FUGG-magic.gguf", "E_BAD_MAGIC", /"FUGG"/);
    await expectCode("tiny-weights/truncated-6-bytes.test.gguf", "E_TRUNCATED", /truncated/);
    await expectCode("historical/test_writer.OBJ-type13-nonstandard.gguf", "E_INVALID", /key "dict1".*type 13/);
    await expectCode("historical/ggml-vocab-llama-spm.gguf.LFS-POINTER.txt", "E_BAD_MAGIC", /"vers"/);
  });
});

describe("legacy GGML files", () => {
  const head = (name: string) => fs.readFileSync(`${FIXTURES}legacy-ggml/${name}`).subarray(0, 64);

  test("ggjt v1 and ggmf v1: llama.cpp vocab files", { skip }, () => {
    for (const [name, variant] of [
      ["ggml-vocab.ggjt-v1.bin", "ggjt"],
      ["ggml-vocab.ggmf-v1.bin", "ggmf"],
    ] as const) {
      const sniff = sniffGgml(head(name));
      assert.deepEqual(sniff, { variant, version: 1 });
      const s = summarizeGgml(sniff!, head(name));
      assert.equal(s.format, "ggml");
      assert.equal(s.modelType, "llm");
      assert.equal(s.architecture, "llama");
      assert.equal(s.embeddingLength, 4096);
      assert.equal(s.blockCount, 32);
      assert.equal(s.quantization, "F16");
      assert.equal(s.warnings?.length, 1);
    }
  });

  test("the unversioned whisper file is audio", { skip }, () => {
    const bytes = head("whisper-for-tests-ggml-tiny.lmgg.bin");
    const sniff = sniffGgml(bytes);
    assert.deepEqual(sniff, { variant: "ggml", version: null });
    const s = summarizeGgml(sniff!, bytes);
    assert.equal(s.modelType, "audio");
    assert.equal(s.family, "whisper");
    assert.equal(s.contextLength, 448);
  });

  test("GGUF files are not legacy GGML", { skip }, () => {
    assert.equal(sniffGgml(fs.readFileSync(`${FIXTURES}gguf/vocab/ggml-vocab-gpt-2.gguf`).subarray(0, 64)), null);
  });
});
