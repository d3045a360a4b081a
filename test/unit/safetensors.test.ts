// Reading well-formed safetensors files built by the writer, the sniff, the summary, and the
// fixed quirk: a folder named "embedding" does not change what a file is.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { looksLikeSafetensors, readSafetensorsHeader, summarizeSafetensors, dominantDtype, SAFETENSORS_DTYPE_BITS } from "../../src/formats/safetensors.js";
import { readHfConfig } from "../../src/formats/hf-config.js";
import { buildSafetensors, writeSafetensorsHeaderOnly } from "../helpers/safetensors-writer.js";

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function write(name: string, bytes: Buffer): string {
  const p = path.join(dir, name);
  fs.mkdirSync(path.dirname(p), { recursive: true });
  fs.writeFileSync(p, bytes);
  return p;
}

/** A header whose JSON we control byte for byte, followed by `dataSize` zero bytes. */
function raw(json: string, dataSize: number): Buffer {
  const body = Buffer.from(json, "utf8");
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(BigInt(body.length));
  return Buffer.concat([len, body, Buffer.alloc(dataSize)]);
}

describe("readSafetensorsHeader", () => {
  test("round-trips names, dtypes, shapes, offsets, metadata and the data size", async () => {
    const data = Buffer.from(new Float32Array([1, 2, 3, 4, 5, 6]).buffer);
    const bytes = buildSafetensors(
      [
        { name: "a.weight", dtype: "F32", shape: [2, 3], data },
        { name: "b.bias", dtype: "BF16", shape: [5] },
        { name: "scalar", dtype: "I64", shape: [] },
        { name: "empty", dtype: "F16", shape: [0, 4] },
      ],
      { format: "pt", note: "ünïcode ✓" },
    );
    const p = write("round.safetensors", bytes);
    const h = await readSafetensorsHeader(p);
    assert.equal(h.headerLength % 8, 0, "the writer pads the header to 8 bytes");
    assert.equal(8 + h.headerLength + h.dataSize, bytes.length);
    assert.equal(h.dataSize, 24 + 10 + 8);
    assert.deepEqual(h.metadata, { format: "pt", note: "ünïcode ✓" });
    assert.deepEqual(
      h.tensors.map((t) => [t.name, t.dtype, t.shape, t.dataOffsets]),
      [
        ["a.weight", "F32", [2, 3], [0, 24]],
        ["b.bias", "BF16", [5], [24, 34]],
        ["scalar", "I64", [], [34, 42]],
        ["empty", "F16", [0, 4], [42, 42]],
      ],
    );
    assert.deepEqual(h.warnings, []);
    // The data really is where the header says.
    const start = 8 + h.headerLength;
    assert.deepEqual(new Float32Array(bytes.buffer.slice(bytes.byteOffset + start, bytes.byteOffset + start + 24)), new Float32Array([1, 2, 3, 4, 5, 6]));
  });

  test('"__metadata__": null reads as null; no __metadata__ also reads as null', async () => {
    const withNull = await readSafetensorsHeader(write("null-meta.safetensors", buildSafetensors([{ name: "x", dtype: "U8", shape: [3] }], null)));
    assert.equal(withNull.metadata, null);
    assert.equal(withNull.tensors.length, 1);
    const without = await readSafetensorsHeader(write("no-meta.safetensors", buildSafetensors([{ name: "x", dtype: "U8", shape: [3] }])));
    assert.equal(without.metadata, null);
  });

  test("every spec dtype has its size checked, sub-byte ones in bits", async () => {
    const tensors = Object.keys(SAFETENSORS_DTYPE_BITS).map((dtype) => ({ name: `t_${dtype}`, dtype, shape: [4, 2] }));
    const h = await readSafetensorsHeader(write("dtypes.safetensors", buildSafetensors(tensors)));
    const size = (name: string) => {
      const t = h.tensors.find((x) => x.name === name)!;
      return t.dataOffsets[1] - t.dataOffsets[0];
    };
    assert.equal(size("t_F64"), 64);
    assert.equal(size("t_BF16"), 16);
    assert.equal(size("t_BOOL"), 8);
    assert.equal(size("t_F8_E4M3"), 8);
    assert.equal(size("t_F6_E2M3"), 6); // 8 elements × 6 bits
    assert.equal(size("t_F4"), 4); // 8 elements × 4 bits
    assert.equal(h.tensors.length, 19);
  });

  test("offsets out of key order (as MLX writes them) are fine; holes, trailing bytes and unknown dtypes are warnings", async () => {
    const outOfOrder = raw('{"b":{"dtype":"U8","shape":[2],"data_offsets":[4,6]},"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]}}', 6);
    const h1 = await readSafetensorsHeader(write("order.safetensors", outOfOrder));
    assert.deepEqual(h1.warnings, []);
    assert.deepEqual(h1.tensors.map((t) => t.name), ["b", "a"]);

    const odd = raw('{"a":{"dtype":"U8","shape":[2],"data_offsets":[0,2]},"b":{"dtype":"Q4_WEIRD","shape":[2],"data_offsets":[4,5]}}', 8);
    const h2 = await readSafetensorsHeader(write("odd.safetensors", odd));
    assert.equal(h2.warnings!.length, 3);
    assert.match(h2.warnings!.join("\n"), /dtype Q4_WEIRD/);
    assert.match(h2.warnings!.join("\n"), /1 gap/);
    assert.match(h2.warnings!.join("\n"), /3 byte\(s\) after the last tensor/);
  });

  test("header-only sparse files: full declared size, readable, almost no disk used", async () => {
    const tensors = [
      { name: "double_blocks.0.img_attn.qkv.weight", dtype: "BF16", shape: [9216, 3072] },
      { name: "single_blocks.0.linear1.weight", dtype: "BF16", shape: [21504, 3072] },
    ];
    const p = path.join(dir, "sparse.safetensors");
    await writeSafetensorsHeaderOnly(p, tensors, { source: "test" });
    const st = fs.statSync(p);
    const declared = (9216 * 3072 + 21504 * 3072) * 2;
    const h = await readSafetensorsHeader(p);
    assert.equal(st.size, 8 + h.headerLength + declared);
    assert.equal(h.dataSize, declared);
    assert.ok(st.blocks * 512 < 1024 * 1024, `sparse: ${st.blocks * 512} bytes allocated for ${st.size}`);
    assert.deepEqual(h.metadata, { source: "test" });
    // The same tensors built in memory give the same header bytes.
    const head = fs.readFileSync(p).subarray(0, 8 + h.headerLength);
    const small = [{ name: "x", dtype: "F16", shape: [3] }];
    await writeSafetensorsHeaderOnly(path.join(dir, "small.safetensors"), small);
    assert.deepEqual(fs.readFileSync(path.join(dir, "small.safetensors")), buildSafetensors(small));
    assert.ok(head.length > 8);
  });

  test("the writer refuses what it cannot write", () => {
    assert.throws(() => buildSafetensors([{ name: "x", dtype: "NOPE", shape: [1] }]), /unknown dtype/);
    assert.throws(() => buildSafetensors([{ name: "x", dtype: "F32", shape: [2], data: new Uint8Array(3) }]), /needs 8/);
    assert.throws(() => buildSafetensors([{ name: "x", dtype: "U8", shape: [1] }, { name: "x", dtype: "U8", shape: [1] }]), /twice/);
    assert.throws(() => buildSafetensors([{ name: "__metadata__", dtype: "U8", shape: [1] }]), /reserved/);
    assert.throws(() => buildSafetensors([{ name: "x", dtype: "F4", shape: [3] }]), /whole number of bytes/);
  });
});

describe("looksLikeSafetensors", () => {
  test("true for a real header, false for other bytes and impossible lengths", () => {
    const bytes = buildSafetensors([{ name: "x", dtype: "U8", shape: [4] }]);
    assert.equal(looksLikeSafetensors(bytes.subarray(0, 64), bytes.length), true);
    assert.equal(looksLikeSafetensors(bytes.subarray(0, 9), bytes.length), true);
    assert.equal(looksLikeSafetensors(bytes.subarray(0, 8), bytes.length), false, "needs byte 8");
    assert.equal(looksLikeSafetensors(bytes, 20), false, "header longer than the file");
    assert.equal(looksLikeSafetensors(Buffer.from("GGUF\x03\x00\x00\x00\x00\x00\x00\x00{"), 1000), false);
    const notBrace = Buffer.from(bytes);
    notBrace[8] = 0x5b; // "["
    assert.equal(looksLikeSafetensors(notBrace, bytes.length), false);
    const huge = Buffer.from(bytes);
    huge.writeBigUInt64LE(1n << 63n, 0);
    assert.equal(looksLikeSafetensors(huge, Number.MAX_SAFE_INTEGER), false);
  });
});

describe("summarizeSafetensors", () => {
  test("format, tensor count, dtypes, metadata, quantization from the dominant dtype", async () => {
    const p = write(
      "llm.safetensors",
      buildSafetensors(
        [
          { name: "model.embed_tokens.weight", dtype: "BF16", shape: [128256, 8] },
          { name: "model.layers.0.self_attn.q_proj.weight", dtype: "F8_E4M3", shape: [8, 8] },
          { name: "model.layers.0.input_layernorm.weight", dtype: "F32", shape: [8] },
          { name: "lm_head.weight", dtype: "BF16", shape: [128256, 8] },
        ],
        { format: "pt" },
      ),
    );
    const s = summarizeSafetensors(await readSafetensorsHeader(p));
    assert.equal(s.format, "safetensors");
    assert.equal(s.securityTier, "safe");
    assert.equal(s.tensorCount, 4);
    assert.deepEqual(s.dtypes, ["BF16", "F32", "F8_E4M3"]);
    assert.deepEqual(s.metadata, { format: "pt" });
    assert.equal(s.quantization, "BF16");
    assert.equal(s.modelType, "llm");
    assert.equal(s.family, "llama");
    assert.equal(s.parameterCount, 128256 * 8 * 2 + 64 + 8);
    assert.equal("warnings" in s, false, "no empty warnings list to clobber the caller's");
    assert.equal(dominantDtype([{ dtype: "F8_E4M3", shape: [100, 100] }, { dtype: "F32", shape: [10] }]), "F8_E4M3");
    assert.equal(dominantDtype([]), null);
  });

  test("metadata hints reach the classifier through the summary", async () => {
    const p = write(
      "conv-lora.safetensors",
      buildSafetensors([{ name: "lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight", dtype: "F16", shape: [4, 320, 3, 3] }], {
        ss_base_model_version: "sd_v1",
      }),
    );
    const s = summarizeSafetensors(await readSafetensorsHeader(p));
    assert.equal(s.subtype, "loras");
    assert.equal(s.family, "sd1");
  });

  test('a file in a folder named "embedding" keeps the type its content gives (quirk fixed)', async () => {
    const llm = buildSafetensors([
      { name: "model.embed_tokens.weight", dtype: "F16", shape: [128256, 4] },
      { name: "model.layers.0.self_attn.q_proj.weight", dtype: "F16", shape: [4, 4] },
      { name: "lm_head.weight", dtype: "F16", shape: [128256, 4] },
    ]);
    const flux = buildSafetensors([
      { name: "double_blocks.0.img_attn.qkv.weight", dtype: "BF16", shape: [9, 3] },
      { name: "img_in.weight", dtype: "BF16", shape: [3, 4] },
    ]);
    for (const [rel, bytes, type] of [
      ["embedding/model.safetensors", llm, "llm"],
      ["my-embed-models/embedding-v2/model.safetensors", llm, "llm"],
      ["embeddings/flux.safetensors", flux, "diffusion"],
    ] as const) {
      const p = write(rel, bytes);
      const config = await readHfConfig(path.dirname(p));
      assert.equal(config, null);
      const s = summarizeSafetensors(await readSafetensorsHeader(p), { config });
      assert.equal(s.modelType, type, rel);
    }
    // What does make it an embedding model: config_sentence_transformers.json beside it.
    const p = write("st/model.safetensors", llm);
    fs.writeFileSync(path.join(dir, "st", "config_sentence_transformers.json"), "{}");
    const s = summarizeSafetensors(await readSafetensorsHeader(p), { config: await readHfConfig(path.dirname(p)) });
    assert.equal(s.modelType, "embedding");
  });
});
