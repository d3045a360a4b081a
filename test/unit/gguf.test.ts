// The GGUF reader on files the tests write: every value type in v1/v2/v3, nested and skipped arrays,
// tensor infos and alignment, the llama.cpp tables, and what summarizeGguf makes of it all.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGguf, summarizeGguf, parameterCountOf, ggufMetadataStrings, GgufType, type GgufArray } from "../../src/formats/gguf.js";
import { fileTypeName, fileTypeNumber, ggmlTypeName, ggmlTypeNumber, ggmlTensorBytes } from "../../src/formats/gguf-file-types.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import { buildGguf, writeGguf, writeTinyLlamaGguf, type GgufKvSpec, type GgufSpec } from "../helpers/gguf-writer.js";

let dir: string;
let n = 0;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

async function roundTrip(spec: GgufSpec, options?: { maxArrayValues?: number }) {
  const p = path.join(dir, `f${n++}.gguf`);
  await writeGguf(p, spec);
  return readGguf(p, options);
}

const EVERY_TYPE: GgufKvSpec[] = [
  { key: "t.uint8", type: "uint8", value: 255 },
  { key: "t.int8", type: "int8", value: -128 },
  { key: "t.uint16", type: "uint16", value: 65535 },
  { key: "t.int16", type: "int16", value: -32768 },
  { key: "t.uint32", type: "uint32", value: 4294967295 },
  { key: "t.int32", type: "int32", value: -2147483648 },
  { key: "t.float32", type: "float32", value: 1.5 },
  { key: "t.bool.true", type: "bool", value: true },
  { key: "t.bool.false", type: "bool", value: false },
  { key: "t.string", type: "string", value: "héllo wörld ✓" },
  { key: "t.string.empty", type: "string", value: "" },
  { key: "t.uint64.small", type: "uint64", value: 123456789012 },
  { key: "t.uint64.big", type: "uint64", value: 2n ** 60n + 1n },
  { key: "t.int64.small", type: "int64", value: -9007199254740991 },
  { key: "t.int64.big", type: "int64", value: -(2n ** 62n) },
  { key: "t.float64", type: "float64", value: Math.PI },
  { key: "t.array.f32", type: "array", elementType: "float32", value: [0.5, -2, 3.25] },
  { key: "t.array.str", type: "array", elementType: "string", value: ["a", "", "ü"] },
  { key: "t.array.bool", type: "array", elementType: "bool", value: [true, false] },
  { key: "t.array.u64", type: "array", elementType: "uint64", value: [1, 2n ** 63n] },
  { key: "t.array.empty", type: "array", elementType: "int32", value: [] },
];

const EXPECTED: Record<string, unknown> = {
  "t.uint8": 255,
  "t.int8": -128,
  "t.uint16": 65535,
  "t.int16": -32768,
  "t.uint32": 4294967295,
  "t.int32": -2147483648,
  "t.float32": 1.5,
  "t.bool.true": true,
  "t.bool.false": false,
  "t.string": "héllo wörld ✓",
  "t.string.empty": "",
  "t.uint64.small": 123456789012,
  "t.uint64.big": 2n ** 60n + 1n,
  "t.int64.small": -9007199254740991,
  "t.int64.big": -(2n ** 62n),
  "t.float64": Math.PI,
  "t.array.f32": { type: "array", elementType: GgufType.FLOAT32, length: 3, values: [0.5, -2, 3.25] },
  "t.array.str": { type: "array", elementType: GgufType.STRING, length: 3, values: ["a", "", "ü"] },
  "t.array.bool": { type: "array", elementType: GgufType.BOOL, length: 2, values: [true, false] },
  "t.array.u64": { type: "array", elementType: GgufType.UINT64, length: 2, values: [1, 2n ** 63n] },
  "t.array.empty": { type: "array", elementType: GgufType.INT32, length: 0, values: [] },
};

describe("value types round-trip", () => {
  for (const version of [1, 2, 3] as const) {
    test(`every value type, GGUF v${version}`, async () => {
      const file = await roundTrip({ version, kv: EVERY_TYPE });
      assert.equal(file.version, version);
      assert.equal(file.kvCount, EVERY_TYPE.length);
      assert.equal(file.tensorCount, 0);
      assert.deepEqual({ ...file.metadata }, EXPECTED);
      assert.deepEqual(Object.keys(file.metadata), EVERY_TYPE.map((k) => k.key), "file order kept");
      assert.equal(file.valueTypes["t.int16"], GgufType.INT16);
      assert.equal(file.valueTypes["t.float64"], GgufType.FLOAT64);
      assert.equal(file.valueTypes["t.array.str"], GgufType.ARRAY);
      assert.deepEqual(file.duplicateKeys, []);
    });
  }

  test("u64 and i64 are numbers when exact, bigints beyond 2^53", async () => {
    const file = await roundTrip({
      kv: [
        { key: "max.safe", type: "uint64", value: Number.MAX_SAFE_INTEGER },
        { key: "past.safe", type: "uint64", value: 2n ** 53n },
        { key: "min.safe", type: "int64", value: Number.MIN_SAFE_INTEGER },
        { key: "past.min", type: "int64", value: -(2n ** 53n) },
      ],
    });
    assert.equal(file.metadata["max.safe"], Number.MAX_SAFE_INTEGER);
    assert.equal(file.metadata["past.safe"], 2n ** 53n);
    assert.equal(file.metadata["min.safe"], Number.MIN_SAFE_INTEGER);
    assert.equal(file.metadata["past.min"], -(2n ** 53n));
  });

  test("nested arrays (arrays of arrays of arrays) are decoded", async () => {
    for (const version of [1, 3] as const) {
      const file = await roundTrip({
        version,
        kv: [
          {
            key: "nested",
            type: "array",
            elementType: "array",
            value: [
              { elementType: "int8", value: [1, -2] },
              { elementType: "string", value: ["x"] },
              { elementType: "array", value: [{ elementType: "uint16", value: [7] }] },
            ],
          },
          { key: "after", type: "string", value: "still aligned" },
        ],
      });
      assert.deepEqual(file.metadata.nested, {
        type: "array",
        elementType: GgufType.ARRAY,
        length: 3,
        values: [
          { type: "array", elementType: GgufType.INT8, length: 2, values: [1, -2] },
          { type: "array", elementType: GgufType.STRING, length: 1, values: ["x"] },
          {
            type: "array",
            elementType: GgufType.ARRAY,
            length: 1,
            values: [{ type: "array", elementType: GgufType.UINT16, length: 1, values: [7] }],
          },
        ],
      });
      assert.equal(file.metadata.after, "still aligned");
    }
  });

  test("long arrays are skipped: values null, length and the following keys right", async () => {
    const tokens = Array.from({ length: 1000 }, (_, i) => `tok${i}${"é".repeat(i % 7)}`);
    for (const version of [1, 2, 3] as const) {
      const file = await roundTrip({
        version,
        kv: [
          { key: "tokens", type: "array", elementType: "string", value: tokens },
          { key: "bytes", type: "array", elementType: "uint8", value: Array.from({ length: 65 }, (_, i) => i) },
          { key: "f64s", type: "array", elementType: "float64", value: Array.from({ length: 100 }, (_, i) => i / 3) },
          {
            key: "merges.nested",
            type: "array",
            elementType: "array",
            value: Array.from({ length: 70 }, (_, i) => ({ elementType: "string" as const, value: [`m${i}`, "x"] })),
          },
          { key: "short", type: "array", elementType: "uint8", value: Array.from({ length: 64 }, () => 9) },
          { key: "after", type: "uint32", value: 42 },
        ],
        tensors: [{ name: "w", shape: [4], type: "F32" }],
      });
      const skipped = (k: string) => file.metadata[k] as GgufArray;
      assert.deepEqual(skipped("tokens"), { type: "array", elementType: GgufType.STRING, length: 1000, values: null });
      assert.deepEqual(skipped("bytes"), { type: "array", elementType: GgufType.UINT8, length: 65, values: null });
      assert.deepEqual(skipped("f64s"), { type: "array", elementType: GgufType.FLOAT64, length: 100, values: null });
      assert.deepEqual(skipped("merges.nested"), { type: "array", elementType: GgufType.ARRAY, length: 70, values: null });
      assert.equal(skipped("short").values?.length, 64, "64 elements (the default limit) are decoded");
      assert.equal(file.metadata.after, 42);
      assert.equal(file.tensors[0].name, "w");
    }
  });

  test("maxArrayValues decodes longer arrays when asked", async () => {
    const tokens = Array.from({ length: 300 }, (_, i) => `t${i}`);
    const file = await roundTrip({ kv: [{ key: "tokens", type: "array", elementType: "string", value: tokens }] }, { maxArrayValues: 1000 });
    assert.deepEqual((file.metadata.tokens as GgufArray).values, tokens);
    const none = await roundTrip({ kv: [{ key: "one", type: "array", elementType: "int32", value: [1] }] }, { maxArrayValues: 0 });
    assert.equal((none.metadata.one as GgufArray).values, null);
  });

  test("a key named __proto__ is an ordinary key", async () => {
    const file = await roundTrip({ kv: [{ key: "__proto__", type: "string", value: "x" }] });
    assert.equal(Object.getPrototypeOf(file.metadata), null);
    assert.equal(file.metadata["__proto__"], "x");
  });

  test("duplicate keys: the first value is kept and the key is recorded", async () => {
    const file = await roundTrip({
      kv: [
        { key: "general.architecture", type: "string", value: "llama" },
        { key: "general.file_type", type: "uint32", value: 15 },
        { key: "general.file_type", type: "uint32", value: 7 },
      ],
    });
    assert.equal(file.metadata["general.file_type"], 15);
    assert.deepEqual(file.duplicateKeys, ["general.file_type"]);
    const summary = summarizeGguf(file);
    // 0 tensors: the declared file type describes no weights (issue 9 item 10), and the file is flagged.
    assert.equal(summary.quantization, null);
    assert.equal(summary.warnings?.length, 2);
    assert.match(summary.warnings![0], /general\.file_type/);
    assert.match(summary.warnings![1], /no weights/);
  });
});

describe("tensor infos", () => {
  for (const version of [1, 2, 3] as const) {
    test(`shapes, types, offsets and alignment padding, v${version}`, async () => {
      const p = path.join(dir, `tensors-v${version}.gguf`);
      await writeGguf(p, {
        version,
        kv: [{ key: "general.architecture", type: "string", value: "llama" }],
        tensors: [
          { name: "a", shape: [3], type: "F32" }, // 12 bytes: the next tensor starts at 32
          { name: "b", shape: [4, 2], type: "F16" },
          { name: "c", shape: [256, 2], type: "Q4_K" },
          { name: "d", shape: [2, 3, 4], type: 0 },
        ],
      });
      const file = await readGguf(p);
      assert.equal(file.alignment, 32);
      assert.deepEqual(
        file.tensors.map((t) => [t.name, t.shape, t.type, t.typeName, t.offset]),
        [
          ["a", [3], 0, "F32", 0],
          ["b", [4, 2], 1, "F16", 32],
          ["c", [256, 2], 12, "Q4_K", 64],
          ["d", [2, 3, 4], 0, "F32", 352],
        ],
      );
      assert.equal(file.dataOffset % 32, 0);
      assert.equal(file.tensorDataEnd, file.dataOffset + 352 + 96);
      assert.equal(file.tensorDataEnd, fs.statSync(p).size);
      assert.equal(parameterCountOf(file.tensors), 3 + 8 + 512 + 24);
    });
  }

  test("general.alignment = 64 moves the data start and the offsets", async () => {
    const file = await roundTrip({
      kv: [{ key: "general.alignment", type: "uint32", value: 64 }],
      tensors: [
        { name: "a", shape: [1], type: "F32" },
        { name: "b", shape: [1], type: "F32" },
      ],
    });
    assert.equal(file.alignment, 64);
    assert.equal(file.dataOffset % 64, 0);
    assert.deepEqual(
      file.tensors.map((t) => t.offset),
      [0, 64],
    );
  });

  test("an unknown ggml type keeps its number, is named unknown(N), and leaves the data end unknown", async () => {
    const file = await roundTrip({ tensors: [{ name: "x", shape: [4], type: 99, data: Buffer.alloc(7) }] });
    assert.equal(file.tensors[0].typeName, "unknown(99)");
    assert.equal(file.tensorDataEnd, null);
  });
});

describe("llama.cpp tables", () => {
  test("general.file_type values", () => {
    const expected: [number, string][] = [
      [0, "F32"],
      [1, "F16"],
      [2, "Q4_0"],
      [7, "Q8_0"],
      [10, "Q2_K"],
      [15, "Q4_K_M"],
      [16, "Q5_K_S"],
      [17, "Q5_K_M"],
      [18, "Q6_K"],
      [19, "IQ2_XXS"],
      [21, "Q2_K_S"],
      [30, "IQ4_XS"],
      [31, "IQ1_M"],
      [32, "BF16"],
      [33, "Q4_0_4_4"],
      [36, "TQ1_0"],
      [37, "TQ2_0"],
      [38, "MXFP4_MOE"],
    ];
    for (const [num, name] of expected) {
      assert.equal(fileTypeName(num), name, `file type ${num}`);
      assert.equal(fileTypeNumber(name), num, `file type ${name}`);
    }
    assert.equal(fileTypeName(999), "unknown(999)");
    assert.equal(fileTypeNumber("q4_k_m"), 15, "names are matched case-insensitively");
    assert.equal(fileTypeNumber("Q9_Z"), null);
  });

  test("ggml tensor types and their sizes", () => {
    const expected: [number, string][] = [
      [0, "F32"],
      [1, "F16"],
      [2, "Q4_0"],
      [8, "Q8_0"],
      [12, "Q4_K"],
      [14, "Q6_K"],
      [23, "IQ4_XS"],
      [30, "BF16"],
      [34, "TQ1_0"],
      [35, "TQ2_0"],
      [39, "MXFP4"],
    ];
    for (const [num, name] of expected) {
      assert.equal(ggmlTypeName(num), name);
      assert.equal(ggmlTypeNumber(name), num);
    }
    assert.equal(ggmlTypeName(77), "unknown(77)");
    assert.equal(ggmlTensorBytes(0, 10), 40);
    assert.equal(ggmlTensorBytes(1, 10), 20);
    assert.equal(ggmlTensorBytes(8, 64), 68, "Q8_0: 34 bytes per 32");
    assert.equal(ggmlTensorBytes(12, 512), 288, "Q4_K: 144 bytes per 256");
    assert.equal(ggmlTensorBytes(12, 100), null, "not a whole block");
    assert.equal(ggmlTensorBytes(77, 4), null, "unknown type");
  });
});

describe("summarizeGguf", () => {
  test("the tiny llama model: every field", async () => {
    const p = path.join(dir, "tiny.gguf");
    await writeTinyLlamaGguf(p, { name: "Tiny Test", fileType: 15, contextLength: 4096 });
    const file = await readGguf(p);
    const s = summarizeGguf(file);
    // 16-wide, vocab 32, ff 32, one block: embeddings + output, 4 attention + 3 ffn matrices, 3 norms.
    const expectedParams = 2 * 16 * 32 + (4 * 16 * 16 + 3 * 16 * 32 + 2 * 16) + 16;
    assert.deepEqual(s, {
      format: "gguf",
      ggufVersion: 3,
      tensorCount: 12,
      architecture: "llama",
      name: "Tiny Test",
      family: "llama",
      quantization: "Q4_K_M",
      parameterCount: expectedParams,
      contextLength: 4096,
      embeddingLength: 16,
      blockCount: 1,
      tokenizerModel: "llama",
      hasChatTemplate: false,
      dtypes: ["F16", "F32"],
      modelType: "llm",
      subtype: null,
      warnings: [],
    });
    assert.equal(file.tensorDataEnd, fs.statSync(p).size, "the data of every tensor is in the file");
  });

  test("tiny models with different names have different bytes", async () => {
    const a = path.join(dir, "tiny-a.gguf");
    const b = path.join(dir, "tiny-b.gguf");
    await writeTinyLlamaGguf(a, { name: "A" });
    await writeTinyLlamaGguf(b, { name: "B" });
    assert.notDeepEqual(fs.readFileSync(a), fs.readFileSync(b));
    assert.equal(summarizeGguf(await readGguf(a)).quantization, "F16");
  });

  test("quantization is inferred from the 2-D weights when general.file_type is absent", async () => {
    const file = await roundTrip({
      kv: [{ key: "general.architecture", type: "string", value: "qwen2" }],
      tensors: [
        { name: "blk.0.attn_q.weight", shape: [256, 2], type: "Q4_K" },
        { name: "blk.0.attn_k.weight", shape: [256, 2], type: "Q4_K" },
        { name: "output.weight", shape: [256, 2], type: "Q6_K" },
        { name: "blk.0.attn_norm.weight", shape: [256], type: "F32" },
        { name: "blk.1.attn_norm.weight", shape: [256], type: "F32" },
        { name: "blk.2.attn_norm.weight", shape: [256], type: "F32" },
      ],
    });
    const s = summarizeGguf(file);
    assert.equal(s.quantization, "Q4_K");
    assert.deepEqual(s.dtypes, ["F32", "Q4_K", "Q6_K"]);
    assert.equal(s.parameterCount, 3 * 512 + 3 * 256);
    assert.equal(s.name, null);
    const empty = summarizeGguf(await roundTrip({ kv: [{ key: "general.architecture", type: "string", value: "x" }] }));
    assert.equal(empty.quantization, null);
    assert.equal(empty.parameterCount, null, "no tensors: unknown, not 0");
  });

  test("name falls back to general.basename", async () => {
    const s = summarizeGguf(await roundTrip({ kv: [{ key: "general.basename", type: "string", value: "Base" }] }));
    assert.equal(s.name, "Base");
  });

  test("model type: embedding, audio, vision, LoRA adapters", async () => {
    const summaryOf = async (kv: GgufKvSpec[]) => summarizeGguf(await roundTrip({ kv }));
    const arch = (a: string): GgufKvSpec => ({ key: "general.architecture", type: "string", value: a });
    assert.equal((await summaryOf([arch("bert")])).modelType, "embedding");
    assert.equal((await summaryOf([arch("nomic-bert")])).modelType, "embedding");
    assert.equal((await summaryOf([arch("jina-bert-v2")])).modelType, "embedding");
    assert.equal((await summaryOf([arch("qwen3"), { key: "qwen3.pooling_type", type: "uint32", value: 3 }])).modelType, "embedding");
    assert.equal((await summaryOf([arch("llama"), { key: "llama.attention.causal", type: "bool", value: false }])).modelType, "embedding");
    assert.equal((await summaryOf([arch("llama"), { key: "llama.attention.causal", type: "bool", value: true }])).modelType, "llm");
    assert.equal((await summaryOf([arch("qwen3"), { key: "general.name", type: "string", value: "Qwen3-Embedding-0.6B" }])).modelType, "embedding");
    assert.equal((await summaryOf([arch("whisper")])).modelType, "audio");
    assert.equal((await summaryOf([arch("clip"), { key: "clip.has_vision_encoder", type: "bool", value: true }])).modelType, "vision");
    assert.equal((await summaryOf([arch("clip"), { key: "clip.has_audio_encoder", type: "bool", value: true }])).modelType, "audio");
    const lora = await summaryOf([
      arch("llama"),
      { key: "general.type", type: "string", value: "adapter" },
      { key: "adapter.type", type: "string", value: "lora" },
      { key: "adapter.lora.alpha", type: "float32", value: 16 },
    ]);
    assert.equal(lora.subtype, "loras");
    assert.equal(lora.modelType, "llm");
    assert.equal((await summaryOf([arch("llama"), { key: "general.type", type: "string", value: "model" }])).subtype, null);
    const chat = await summaryOf([arch("phi3"), { key: "tokenizer.chat_template", type: "string", value: "{{ x }}" }]);
    assert.equal(chat.hasChatTemplate, true);
    assert.equal(chat.family, "phi3");
  });

  test("ggufMetadataStrings keeps only the string values", async () => {
    const file = await roundTrip({ kv: EVERY_TYPE });
    assert.deepEqual({ ...ggufMetadataStrings(file) }, { "t.string": "héllo wörld ✓", "t.string.empty": "" });
  });
});

describe("versions and magic", () => {
  test("version 0, 4 and a big-endian file are E_UNSUPPORTED", async () => {
    for (const [bytes, pattern] of [
      [[0, 0, 0, 0], /version 0/],
      [[4, 0, 0, 0], /version 4/],
      [[0, 0, 0, 3], /big-endian/],
    ] as const) {
      const buf = buildGguf({ kv: [] });
      Buffer.from(bytes).copy(buf, 4);
      const p = path.join(dir, `v${n++}.gguf`);
      fs.writeFileSync(p, buf);
      await assert.rejects(readGguf(p), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_UNSUPPORTED" && pattern.test(e.message) && e.message.includes(p));
    }
  });

  test("a missing file is E_NOT_FOUND", async () => {
    await assert.rejects(readGguf(path.join(dir, "nope.gguf")), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_NOT_FOUND");
  });
});
