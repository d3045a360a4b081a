import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { isModelFileName, MODEL_EXTENSIONS, sniffFormat } from "../../src/formats/sniff.js";
import { buildStoredZip } from "../helpers/zip-writer.js";
import { buildTinyOnnx, bytesField, varintField } from "../helpers/onnx-writer.js";

/** Sniffs a whole (small) file the way callers do: the first 64+ bytes and the real size. */
const sniff = (bytes: Buffer, name: string, headLen = 64) => sniffFormat(bytes.subarray(0, headLen), bytes.length, name);

function safetensorsBytes(json: string, payload = 16): Buffer {
  const header = Buffer.from(json);
  const n = Buffer.alloc(8);
  n.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([n, header, Buffer.alloc(payload)]);
}

const GGUF = Buffer.concat([Buffer.from("GGUF"), Buffer.from([3, 0, 0, 0]), Buffer.alloc(56)]);
const LFS = Buffer.from(
  "version https://git-lfs.github.com/spec/v1\noid sha256:16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69\nsize 723869\n",
);

describe("sniffFormat: the bytes decide, the extension does not", () => {
  test("GGUF named .bin → gguf", () => assert.equal(sniff(GGUF, "model.bin"), "gguf"));
  test("6-byte 'GGUF\\x02\\x00' → gguf (its reader reports the truncation)", () => {
    assert.equal(sniff(Buffer.from("GGUF\x02\x00", "latin1"), "t.gguf"), "gguf");
  });
  for (const magic of ["lmgg", "fmgg", "tjgg"]) {
    test(`legacy GGML magic ${magic} named .bin → ggml`, () => {
      assert.equal(sniff(Buffer.concat([Buffer.from(magic), Buffer.alloc(60, 1)]), "ggml-model.bin"), "ggml");
    });
  }
  test("big-endian spellings of the GGML magics are not taken for GGML", () => {
    assert.equal(sniff(Buffer.concat([Buffer.from("ggjt"), Buffer.alloc(60, 1)]), "x.bin"), "unknown");
  });
  test("ZIP named .ckpt → pickle", () => {
    const zip = buildStoredZip([{ name: "archive/data.pkl", data: Buffer.from([0x80, 2, 0x7d, 0x2e]) }]);
    assert.equal(sniff(zip, "model.ckpt"), "pickle");
  });
  for (const proto of [2, 3, 4, 5]) {
    test(`raw pickle protocol ${proto} named .pth → pickle`, () => {
      assert.equal(sniff(Buffer.from([0x80, proto, 0x7d, 0x71, 0x00, 0x2e]), "weights.pth"), "pickle");
    });
  }
  test("0x80 with protocol 1 or 6 is not a pickle", () => {
    assert.equal(sniff(Buffer.from([0x80, 1, 0x7d, 0x2e]), "x.pt"), "unknown");
    assert.equal(sniff(Buffer.from([0x80, 6, 0x7d, 0x2e]), "x.pt"), "unknown");
  });
  test("safetensors named .bin → safetensors", () => {
    assert.equal(sniff(safetensorsBytes('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}'), "model.bin"), "safetensors");
  });
  test("safetensors with the smallest header `{}` and no tensors", () => {
    assert.equal(sniff(safetensorsBytes("{}", 0), "empty.safetensors"), "safetensors");
  });
  test("safetensors whose header length runs past the file → unknown", () => {
    const b = safetensorsBytes("{}", 0);
    b.writeBigUInt64LE(3n);
    assert.equal(sniff(b, "x.safetensors"), "unknown");
  });
  test("safetensors-looking bytes without `{` at byte 8, or N < 2 → unknown", () => {
    const noBrace = safetensorsBytes('{"a":1}');
    noBrace[8] = 0x5b;
    assert.equal(sniff(noBrace, "x.safetensors"), "unknown");
    const tiny = safetensorsBytes("{", 4);
    assert.equal(sniff(tiny, "x.safetensors"), "unknown");
  });
  test("an LFS pointer named .gguf → lfs-pointer", () => assert.equal(sniff(LFS, "ggml-vocab-llama-spm.gguf"), "lfs-pointer"));
  test("an LFS pointer with CRLF line ends → lfs-pointer", () => {
    assert.equal(sniff(Buffer.from(LFS.toString().replace(/\n/g, "\r\n")), "m.safetensors"), "lfs-pointer");
  });
  test("pointer text in a file of 1024 bytes or more is not a pointer", () => {
    assert.equal(sniffFormat(LFS, 4096, "m.gguf"), "unknown");
  });
  test("ONNX ModelProto → onnx, whatever its name", () => {
    const { bytes } = buildTinyOnnx();
    assert.equal(sniff(bytes, "model.onnx"), "onnx");
    assert.equal(sniff(bytes, "model.bin"), "onnx");
  });
  test("ONNX whose first field after ir_version is the graph → onnx", () => {
    const bytes = Buffer.concat([varintField(1, 3), bytesField(7, Buffer.alloc(100, 0x0a)), bytesField(8, Buffer.from([0x10, 0x06]))]);
    assert.equal(sniff(bytes, "x.onnx"), "onnx");
  });
  test("bytes starting 0x08 with an implausible next field → unknown", () => {
    assert.equal(sniff(Buffer.from([0x08, 0x03, 0x12, 0x7f, 0x41, 0x41]), "model.onnx"), "unknown"); // string longer than the file
    assert.equal(sniff(Buffer.from([0x08, 0x03, 0x10, 0x05, 0x00, 0x00]), "model.onnx"), "unknown"); // field 2 as a varint
    assert.equal(sniff(Buffer.from([0x08, 0x00, 0x12, 0x00]), "model.onnx"), "unknown"); // ir_version 0
    assert.equal(sniff(Buffer.from([0x08, 0x03, 0x9a, 0x05, 0x00]), "model.onnx"), "unknown"); // field 83
  });
  test("a file holding only ir_version is ONNX only when named .onnx", () => {
    assert.equal(sniff(Buffer.from([0x08, 0x07]), "m.onnx"), "onnx");
    assert.equal(sniff(Buffer.from([0x08, 0x07]), "m.bin"), "unknown");
  });
  test("an unknown .bin stays unknown (the original called it safe ggml)", () => {
    assert.equal(sniff(Buffer.alloc(64), "pytorch_model.bin"), "unknown");
    assert.equal(sniff(Buffer.from("hello world, not a model\n"), "model.bin"), "unknown");
  });
  test("empty and tiny files → unknown", () => {
    assert.equal(sniff(Buffer.alloc(0), "x.gguf"), "unknown");
    assert.equal(sniff(Buffer.from("GG"), "x.gguf"), "unknown");
  });
  test("2000 random heads named like models are all unknown", () => {
    // A fixed-seed generator, so a failure is reproducible.
    let seed = 0x9e3779b9;
    const rand = () => {
      seed ^= seed << 13;
      seed ^= seed >>> 17;
      seed ^= seed << 5;
      return (seed >>> 0) & 0xff;
    };
    const names = ["model.safetensors", "model.bin", "model.gguf", "model.onnx", "model.pt"];
    let known = 0;
    for (let i = 0; i < 2000; i++) {
      const bytes = Buffer.from(Array.from({ length: 64 }, rand));
      if (sniffFormat(bytes, 1 << 20, names[i % names.length]) !== "unknown") known++;
    }
    assert.equal(known, 0);
  });
});

describe("MODEL_EXTENSIONS / isModelFileName", () => {
  test("the list", () => {
    assert.deepEqual([...MODEL_EXTENSIONS].sort(), ["bin", "ckpt", "ggml", "gguf", "onnx", "pt", "pth", "safetensors", "sft"]);
  });
  test("case-insensitive, last extension only", () => {
    assert.equal(isModelFileName("Model.GGUF"), true);
    assert.equal(isModelFileName("sub/dir/x.SafeTensors"), true);
    assert.equal(isModelFileName("flux.sft"), true);
    assert.equal(isModelFileName("model.safetensors.index.json"), false);
    assert.equal(isModelFileName("config.json"), false);
    assert.equal(isModelFileName("gguf"), false);
    assert.equal(isModelFileName("model.safetensors.part1"), false);
  });
});
