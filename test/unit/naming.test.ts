import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { extractBaseName, normalizeFilename, normalizeName, safeRelativePath } from "../../src/formats/naming.js";
import { ModelLibraryError } from "../../src/core/errors.js";

describe("normalizeName (the original's rules)", () => {
  const cases: [string, string][] = [
    ["Llama 2 7B", "llama_2_7b"],
    ["SDXL-1.0-Base", "sdxl-1_0-base"],
    ["stable_diffusion_v1.5", "stable_diffusion_v1_5"],
    ["model/test:file", "modeltestfile"],
    ["model<>test", "modeltest"],
    ["test|model", "testmodel"],
    ["test---model", "test_model"],
    ["test___model", "test_model"],
    ["test-_-model", "test_model"],
    ["--test--", "test"],
    ["__model__", "model"],
    ["CON", "con_model"],
    ["nul", "nul_model"],
    ["com1", "com1_model"],
    ["", "unnamed_model"],
    ["---", "unnamed_model"],
    ["Qwen2.5-7B-Instruct", "qwen2_5-7b-instruct"],
    ["TheBloke/Llama-2-7B-GGUF", "theblokellama-2-7b-gguf"],
    ["Café Model", "caf_model"],
    ["a - b", "a_b"],
    ["Meta-Llama-3.1-8B-Instruct-Q4_K_M", "meta-llama-3_1-8b-instruct-q4_k_m"],
  ];
  for (const [input, expected] of cases) {
    test(`${JSON.stringify(input)} → ${expected}`, () => {
      assert.equal(normalizeName(input), expected);
    });
  }

  test("a single hyphen is kept; only runs of separators collapse", () => {
    assert.equal(normalizeName("a-b"), "a-b");
    assert.equal(normalizeName("a--b"), "a_b");
  });

  test("every reserved device name gets _model, other names do not", () => {
    for (const n of ["PRN", "aux", "COM9", "lpt1", "LPT9"]) assert.equal(normalizeName(n), `${n.toLowerCase()}_model`);
    assert.equal(normalizeName("com10"), "com10");
    assert.equal(normalizeName("console"), "console");
  });

  test("200 × 'a' normalizes to at most 128 characters", () => {
    const out = normalizeName("a".repeat(200));
    assert.ok(out.length <= 128);
    assert.equal(out, "a".repeat(128));
  });

  test("a long name is cut at the last separator past index 64, then trimmed", () => {
    const words = Array.from({ length: 30 }, (_, i) => `word${i}`).join("-"); // > 128 chars
    const out = normalizeName(words);
    assert.ok(out.length <= 128);
    assert.ok(!/[-_]$/.test(out));
    assert.ok(words.startsWith(out));
    assert.match(out, /word\d+$/); // ends on a whole word
  });

  test("a separator at index ≤ 64 does not shorten the cut", () => {
    const s = `${"a".repeat(60)}-${"b".repeat(100)}`;
    assert.equal(normalizeName(s), `${"a".repeat(60)}-${"b".repeat(67)}`);
  });

  test("non-ASCII letters and emoji each become one separator", () => {
    assert.equal(normalizeName("naïve😀model"), "na_ve_model");
    assert.equal(normalizeName("ÉCOLE"), "cole");
  });
});

describe("normalizeFilename", () => {
  test("the original's examples", () => {
    assert.equal(normalizeFilename("My Model.safetensors"), "my_model.safetensors");
    assert.equal(normalizeFilename("TEST.GGUF"), "test.gguf");
    assert.equal(normalizeFilename("test/file.gguf"), "testfile.gguf");
  });
  test("no dot: the whole name is normalized", () => {
    assert.equal(normalizeFilename("Some Model"), "some_model");
  });
  test("splits at the last dot only", () => {
    assert.equal(normalizeFilename("model.Q4_K_M.GGUF"), "model_q4_k_m.gguf");
  });
  test("the extension cannot carry path characters (a fix over the original)", () => {
    assert.equal(normalizeFilename("a.b/../c"), "a_b.c");
    assert.equal(normalizeFilename("x.GG/UF"), "x.gguf");
    assert.equal(normalizeFilename("x.sa\\fe"), "x.safe");
    assert.equal(normalizeFilename("model."), "model");
  });
});

describe("extractBaseName", () => {
  test("the original's examples", () => {
    assert.equal(extractBaseName("llama-2-7b-Q4_K_M.gguf"), "llama-2-7b");
    assert.equal(extractBaseName("model-fp16.safetensors"), "model");
    assert.equal(extractBaseName("model-00001-of-00005.safetensors"), "model");
  });
  test("IQ quant suffixes are not stripped", () => {
    assert.equal(extractBaseName("llama-IQ4_XS.gguf"), "llama-IQ4_XS");
  });
  test("quant suffix is case-insensitive, format word and shard suffix go too", () => {
    assert.equal(extractBaseName("mistral_q8_0.gguf"), "mistral");
    assert.equal(extractBaseName("model-BF16.gguf"), "model");
    assert.equal(extractBaseName("Llama-2-7B-GGUF.gguf"), "Llama-2-7B");
    assert.equal(extractBaseName("phi-3-00002-of-00004.gguf"), "phi-3");
  });
  test("no extension: only suffixes are removed", () => {
    assert.equal(extractBaseName("model-f32"), "model");
  });
});

describe("safeRelativePath", () => {
  test("keeps ordinary relative paths", () => {
    assert.equal(safeRelativePath("model-00001-of-00002.safetensors"), "model-00001-of-00002.safetensors");
    assert.equal(safeRelativePath("unet/diffusion_pytorch_model.safetensors"), "unet/diffusion_pytorch_model.safetensors");
    assert.equal(safeRelativePath("..hidden/x..y"), "..hidden/x..y");
  });
  const bad: [string, RegExp][] = [
    ["", /empty/],
    ["/etc/passwd", /absolute/],
    ["../../etc/passwd", /'\.\.'/],
    ["a/../b", /'\.\.'/],
    ["a/..", /'\.\.'/],
    ["./a", /'\.'/],
    ["a//b", /empty segment/],
    ["a/", /empty segment/],
    ["a\0b", /NUL/],
    ["a\\..\\b", /backslash/],
    ["C:/Windows", /drive letter/],
  ];
  for (const [input, why] of bad) {
    test(`rejects ${JSON.stringify(input)}`, () => {
      assert.throws(
        () => safeRelativePath(input),
        (e: unknown) => e instanceof ModelLibraryError && e.code === "E_INVALID" && why.test(e.message),
      );
    });
  }
});
