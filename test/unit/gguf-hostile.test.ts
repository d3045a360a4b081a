// Hostile and broken GGUF files: every answer is a ModelLibraryError with the right code, at once,
// without allocating what the file declares and without hanging.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readGguf } from "../../src/formats/gguf.js";
import { ModelLibraryError, type ErrorCode } from "../../src/core/errors.js";
import { buildGguf, buildTinyLlamaGguf, type GgufSpec } from "../helpers/gguf-writer.js";

let dir: string;
let n = 0;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

function fileOf(bytes: Buffer): string {
  const p = path.join(dir, `h${n++}.gguf`);
  fs.writeFileSync(p, bytes);
  return p;
}

function u64(v: bigint): Buffer {
  const b = Buffer.alloc(8);
  b.writeBigUInt64LE(v);
  return b;
}
function u32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeUInt32LE(v);
  return b;
}

/** Reads `bytes` as a GGUF file and expects `code` within `ms` milliseconds; returns the error. */
async function expectError(bytes: Buffer, code: ErrorCode, ms = 5000): Promise<ModelLibraryError> {
  const p = fileOf(bytes);
  const t0 = performance.now();
  let caught: unknown = null;
  try {
    await readGguf(p);
  } catch (e) {
    caught = e;
  }
  const elapsed = performance.now() - t0;
  assert.ok(caught instanceof ModelLibraryError, `expected a ModelLibraryError, got ${String(caught)}`);
  assert.equal(caught.code, code, caught.message);
  assert.ok(caught.message.startsWith(p), `the message names the file: ${caught.message}`);
  assert.ok(elapsed < ms, `answered in ${elapsed.toFixed(1)} ms`);
  return caught;
}

/** A small v3 file with kv pairs of several kinds (a skipped array included) and three tensors. */
const SMALL: GgufSpec = {
  version: 3,
  kv: [
    { key: "general.architecture", type: "string", value: "llama" },
    { key: "general.file_type", type: "uint32", value: 1 },
    { key: "llama.context_length", type: "uint64", value: 2048 },
    { key: "tokens", type: "array", elementType: "string", value: Array.from({ length: 80 }, (_, i) => `t${i}`) },
    { key: "scores", type: "array", elementType: "float32", value: [1, 2, 3] },
    { key: "nested", type: "array", elementType: "array", value: [{ elementType: "int16", value: [5] }] },
  ],
  tensors: [
    { name: "a.weight", shape: [8, 2], type: "F16" },
    { name: "b.weight", shape: [3], type: "F32" },
    { name: "c.weight", shape: [32], type: "Q8_0" },
  ],
};

describe("truncation", () => {
  for (const version of [1, 3] as const) {
    test(`a v${version} file cut at every offset is E_TRUNCATED`, async () => {
      const full = buildGguf({ ...SMALL, version });
      const p = path.join(dir, `cut-v${version}.gguf`);
      fs.writeFileSync(p, full);
      assert.equal((await readGguf(p)).tensors.length, 3, "the whole file reads");
      const codes = new Map<string, number>();
      for (let size = full.length - 1; size >= 0; size--) {
        fs.truncateSync(p, size);
        try {
          await readGguf(p);
          assert.fail(`a file cut to ${size} of ${full.length} bytes was read as valid`);
        } catch (e) {
          assert.ok(e instanceof ModelLibraryError, `cut at ${size}: ${String(e)}`);
          assert.equal(e.code, "E_TRUNCATED", `cut at ${size}: ${e.message}`);
          codes.set(e.code, (codes.get(e.code) ?? 0) + 1);
        }
      }
      assert.deepEqual([...codes], [["E_TRUNCATED", full.length]]);
    });
  }

  test("the tiny llama model cut every 23 bytes is E_TRUNCATED", async () => {
    const full = buildTinyLlamaGguf({ name: "cut" });
    const p = path.join(dir, "cut-tiny.gguf");
    fs.writeFileSync(p, full);
    for (let size = full.length - 1; size >= 0; size -= 23) {
      fs.truncateSync(p, size);
      await assert.rejects(readGguf(p), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_TRUNCATED", `cut at ${size}`);
    }
  });

  test('the 6-byte file "GGUF\\x02\\x00" is E_TRUNCATED', async () => {
    await expectError(Buffer.from("GGUF\x02\x00", "latin1"), "E_TRUNCATED");
    await expectError(Buffer.from("GG", "latin1"), "E_TRUNCATED");
    await expectError(Buffer.alloc(0), "E_TRUNCATED");
  });
});

describe("absurd counts and lengths", () => {
  const header = (version: number, tensors: bigint, kvs: bigint) => Buffer.concat([Buffer.from("GGUF"), u32(version), u64(tensors), u64(kvs)]);

  test("kv_count 2^62 is E_TOO_LARGE before any loop", async () => {
    const e = await expectError(Buffer.concat([header(3, 0n, 2n ** 62n), Buffer.alloc(64)]), "E_TOO_LARGE");
    assert.match(e.message, /metadata keys/);
  });

  test("10^6 tensors in a 100-byte file is E_TOO_LARGE", async () => {
    const bytes = Buffer.concat([header(3, 1_000_000n, 0n)]);
    await expectError(Buffer.concat([bytes, Buffer.alloc(100 - bytes.length)]), "E_TOO_LARGE");
  });

  test("v1 counts are u32: 2^32-1 keys in a small file is E_TOO_LARGE", async () => {
    await expectError(Buffer.concat([Buffer.from("GGUF"), u32(1), u32(0), u32(0xffffffff), Buffer.alloc(40)]), "E_TOO_LARGE");
  });

  test("a string length of 2^60 is E_TOO_LARGE", async () => {
    const bytes = buildGguf({ kv: [{ key: "s", type: "string", value: "abc" }] });
    u64(2n ** 60n).copy(bytes, 24 + 8 + 1 + 4); // header, key length + "s", value type
    const e = await expectError(bytes, "E_TOO_LARGE");
    assert.match(e.message, /key "s"/);
  });

  test("a key longer than 64 KiB is E_TOO_LARGE, even when the file holds it", async () => {
    await expectError(buildGguf({ kv: [{ key: "k".repeat(70_000), type: "uint8", value: 1 }] }), "E_TOO_LARGE");
  });

  test("an array of 2^63 UINT8 fails at once", async () => {
    const raw = Buffer.concat([u32(0), u64(2n ** 63n), Buffer.alloc(16)]);
    await expectError(buildGguf({ kv: [{ key: "huge", rawType: 9, raw }] }), "E_TOO_LARGE");
  });

  test("arrays of 2^40 strings and of 2^40 arrays fail at once", async () => {
    await expectError(buildGguf({ kv: [{ key: "s", rawType: 9, raw: Buffer.concat([u32(8), u64(2n ** 40n)]) }] }), "E_TOO_LARGE");
    await expectError(buildGguf({ kv: [{ key: "a", rawType: 9, raw: Buffer.concat([u32(9), u64(2n ** 40n)]) }] }), "E_TOO_LARGE");
  });

  test("a skipped array whose inner array declares 2^62 elements is E_TOO_LARGE", async () => {
    const inner = Buffer.concat([u32(4), u64(1n), u32(7)]); // one u32
    const bad = Buffer.concat([u32(0), u64(2n ** 62n)]);
    const raw = Buffer.concat([u32(9), u64(100n), ...Array.from({ length: 99 }, () => inner), bad, Buffer.alloc(64)]);
    await expectError(buildGguf({ kv: [{ key: "arrs", rawType: 9, raw }] }), "E_TOO_LARGE");
  });

  test("arrays nested 1000 deep are E_TOO_LARGE", async () => {
    const level = Buffer.concat([u32(9), u64(1n)]); // element type ARRAY, one element
    const raw = Buffer.concat([...Array.from({ length: 999 }, () => level), u32(0), u64(0n)]);
    const e = await expectError(buildGguf({ kv: [{ key: "deep", rawType: 9, raw }] }), "E_TOO_LARGE");
    assert.match(e.message, /nested deeper than 8/);
  });

  test("arrays nested 8 deep still read", async () => {
    const level = Buffer.concat([u32(9), u64(1n)]);
    const raw = Buffer.concat([...Array.from({ length: 7 }, () => level), u32(0), u64(1n), Buffer.from([5])]);
    const p = fileOf(buildGguf({ kv: [{ key: "deep", rawType: 9, raw }] }));
    const file = await readGguf(p);
    let v = file.metadata.deep;
    for (let d = 0; d < 7; d++) v = (v as { values: unknown[] }).values[0] as typeof v;
    assert.deepEqual(v, { type: "array", elementType: 0, length: 1, values: [5] });
  });

  test("a tensor with 9 dimensions is E_TOO_LARGE", async () => {
    const bytes = buildGguf({ tensors: [{ name: "t", shape: [1, 1, 1, 1, 1, 1, 1, 1], type: "F32" }] });
    const nDimsAt = 24 + 8 + 1; // header, name length + "t"
    assert.equal(bytes.readUInt32LE(nDimsAt), 8);
    bytes.writeUInt32LE(9, nDimsAt);
    await expectError(bytes, "E_TOO_LARGE");
  });

  test("tensor data far beyond the file is E_TOO_LARGE; a little beyond is E_TRUNCATED", async () => {
    const bytes = buildGguf({ tensors: [{ name: "t", shape: [1, 1], type: "F32" }] });
    const dimsAt = 24 + 8 + 1 + 4; // header, name length + "t", n_dims
    bytes.writeBigUInt64LE(2n ** 20n, dimsAt);
    bytes.writeBigUInt64LE(2n ** 20n, dimsAt + 8);
    const e = await expectError(bytes, "E_TOO_LARGE");
    assert.match(e.message, /tensor "t"/);
    bytes.writeBigUInt64LE(2n, dimsAt + 8); // 8 bytes of data declared, 4 present
    await expectError(bytes, "E_TRUNCATED");
  });
});

describe("malformed structure", () => {
  test("value type 13 names the key and the type", async () => {
    const e = await expectError(buildGguf({ kv: [{ key: "obj", rawType: 13, raw: Buffer.alloc(8) }] }), "E_INVALID");
    assert.match(e.message, /key "obj"/);
    assert.match(e.message, /type 13/);
  });

  test("an array of value type 200 is E_INVALID", async () => {
    const e = await expectError(buildGguf({ kv: [{ key: "arr", rawType: 9, raw: Buffer.concat([u32(200), u64(1n), Buffer.alloc(8)]) }] }), "E_INVALID");
    assert.match(e.message, /key "arr".*200/);
  });

  test('the magic "FUGG" is E_BAD_MAGIC', async () => {
    const bytes = buildGguf({ kv: [] });
    bytes.write("FUGG", 0, "latin1");
    const e = await expectError(bytes, "E_BAD_MAGIC");
    assert.match(e.message, /"FUGG"/);
  });

  test("a boolean byte of 2 is E_INVALID", async () => {
    await expectError(buildGguf({ kv: [{ key: "b", rawType: 7, raw: Buffer.from([2]) }] }), "E_INVALID");
  });

  test("a key that is not UTF-8 is E_INVALID", async () => {
    const bytes = buildGguf({ kv: [{ key: "ab", type: "uint8", value: 1 }] });
    bytes[24 + 8] = 0xff;
    await expectError(bytes, "E_INVALID");
  });

  test("general.alignment that is not a power of two is E_INVALID", async () => {
    await expectError(buildGguf({ kv: [{ key: "general.alignment", type: "uint32", value: 0 }] }), "E_INVALID");
    await expectError(buildGguf({ kv: [{ key: "general.alignment", type: "uint32", value: 48 }] }), "E_INVALID");
    await expectError(buildGguf({ kv: [{ key: "general.alignment", type: "string", value: "32" }] }), "E_INVALID");
  });

  test("a tensor offset that is not aligned is E_INVALID; two tensors with one name too", async () => {
    const bytes = buildGguf({ tensors: [{ name: "t", shape: [1], type: "F32" }] });
    const offsetAt = 24 + 8 + 1 + 4 + 8 + 4;
    bytes.writeBigUInt64LE(4n, offsetAt);
    await expectError(bytes, "E_INVALID");
    await expectError(
      buildGguf({
        tensors: [
          { name: "t", shape: [1], type: "F32" },
          { name: "t", shape: [1], type: "F32" },
        ],
      }),
      "E_INVALID",
    );
  });

  test("a tensor of unknown type whose data would start past the end is E_TRUNCATED", async () => {
    const bytes = buildGguf({ tensors: [{ name: "t", shape: [4], type: 99, data: Buffer.alloc(0) }] });
    const p = fileOf(bytes);
    assert.equal((await readGguf(p)).tensors[0].typeName, "unknown(99)", "starting at the end is allowed");
    bytes.writeBigUInt64LE(64n, 24 + 8 + 1 + 4 + 8 + 4);
    await expectError(bytes, "E_TRUNCATED");
  });

  test("a tensor offset of 2^60 is E_TOO_LARGE", async () => {
    const bytes = buildGguf({ tensors: [{ name: "t", shape: [1], type: "F32" }] });
    bytes.writeBigUInt64LE(2n ** 60n, 24 + 8 + 1 + 4 + 8 + 4);
    await expectError(bytes, "E_TOO_LARGE");
  });

  test("random corruption gives a ModelLibraryError or a valid read, never another exception", async () => {
    const full = buildGguf(SMALL);
    let seed = 12345;
    const random = () => {
      seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
      return seed / 0x1_0000_0000;
    };
    const p = path.join(dir, "fuzz.gguf");
    const seen = new Map<string, number>();
    for (let i = 0; i < 300; i++) {
      const bytes = Buffer.from(full);
      const flips = 1 + Math.floor(random() * 4);
      for (let f = 0; f < flips; f++) bytes[Math.floor(random() * bytes.length)] = Math.floor(random() * 256);
      fs.writeFileSync(p, bytes);
      const t0 = performance.now();
      let outcome = "ok";
      try {
        await readGguf(p);
      } catch (e) {
        assert.ok(e instanceof ModelLibraryError, `mutation ${i}: ${String(e)}`);
        outcome = e.code;
      }
      assert.ok(performance.now() - t0 < 500, `mutation ${i} took too long`);
      seen.set(outcome, (seen.get(outcome) ?? 0) + 1);
    }
    assert.ok(seen.size >= 3, `mutations reach several outcomes: ${JSON.stringify([...seen])}`);
  });
});
