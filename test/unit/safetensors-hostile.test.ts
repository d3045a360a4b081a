// Truncated and hostile safetensors files, as a user would meet them: every one must end in a
// ModelLibraryError with a precise code and a message that names the file — never a crash, a
// hang, a huge allocation, or a wrong answer.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readSafetensorsHeader, SAFETENSORS_HEADER_CAP } from "../../src/formats/safetensors.js";
import { ModelLibraryError, type ErrorCode } from "../../src/core/errors.js";
import { buildSafetensors } from "../helpers/safetensors-writer.js";

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
});
after(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

let counter = 0;
function write(bytes: Buffer): string {
  const p = path.join(dir, `f${counter++}.safetensors`);
  fs.writeFileSync(p, bytes);
  return p;
}

/** 8-byte length (the JSON's own unless `declared` is given), the JSON, then `dataSize` zero bytes. */
function raw(json: string | Buffer, dataSize: number, declared?: bigint): Buffer {
  const body = typeof json === "string" ? Buffer.from(json, "utf8") : json;
  const len = Buffer.alloc(8);
  len.writeBigUInt64LE(declared ?? BigInt(body.length));
  return Buffer.concat([len, body, Buffer.alloc(dataSize)]);
}

async function expectError(p: string, code: ErrorCode, message?: RegExp): Promise<ModelLibraryError> {
  try {
    await readSafetensorsHeader(p);
  } catch (e) {
    assert.ok(e instanceof ModelLibraryError, `expected a ModelLibraryError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    assert.equal(e.path, p);
    assert.ok(e.message.startsWith(`${p}: `), `the message names the file: ${e.message}`);
    if (message) assert.match(e.message, message);
    return e;
  }
  assert.fail(`${p}: expected ${code}, the header was accepted`);
}

describe("truncation", () => {
  test("a file cut at every offset is E_TRUNCATED", async () => {
    const whole = buildSafetensors(
      [
        { name: "a", dtype: "F32", shape: [3] },
        { name: "b", dtype: "U8", shape: [5] },
        { name: "c", dtype: "I16", shape: [2, 2] },
      ],
      { k: "v" },
    );
    const p = path.join(dir, "cut.safetensors");
    for (let n = 0; n < whole.length; n++) {
      fs.writeFileSync(p, whole.subarray(0, n));
      await expectError(p, "E_TRUNCATED");
    }
    fs.writeFileSync(p, whole);
    assert.equal((await readSafetensorsHeader(p)).tensors.length, 3);
  });

  test("an empty file and a file of only the length", async () => {
    await expectError(write(Buffer.alloc(0)), "E_TRUNCATED", /8-byte header length/);
    await expectError(write(raw("", 0, 10n)), "E_TRUNCATED", /declares 10 bytes/);
  });
});

describe("declared header length", () => {
  test("2^63, 2^64-1 and just over the cap are E_TOO_LARGE, before any allocation", async () => {
    const before = process.memoryUsage().rss;
    await expectError(write(raw("{}", 0, 1n << 63n)), "E_TOO_LARGE", /9223372036854775808/);
    await expectError(write(raw("{}", 0, (1n << 64n) - 1n)), "E_TOO_LARGE");
    await expectError(write(raw("{}", 0, BigInt(SAFETENSORS_HEADER_CAP) + 1n)), "E_TOO_LARGE", /cap/);
    assert.ok(process.memoryUsage().rss - before < 64 * 1024 * 1024, "no buffer sized by the declared length");
  });

  test("a length beyond the file (under the cap) is E_TRUNCATED", async () => {
    await expectError(write(raw('{"a":1}', 0, 1000n)), "E_TRUNCATED", /declares 1000 bytes, the file has 7/);
    await expectError(write(raw("{}", 0, BigInt(SAFETENSORS_HEADER_CAP))), "E_TRUNCATED");
  });
});

describe("header JSON", () => {
  test("not JSON, not UTF-8, not an object: E_INVALID naming the file", async () => {
    await expectError(write(raw("{abc", 0)), "E_INVALID", /not valid JSON/);
    await expectError(write(raw("", 0)), "E_INVALID", /not valid JSON/);
    await expectError(write(raw(Buffer.from([0x7b, 0xff, 0xfe, 0x7d]), 0)), "E_INVALID", /UTF-8/);
    await expectError(write(raw("[]", 0)), "E_INVALID", /an array, not an object/);
    await expectError(write(raw("null", 0)), "E_INVALID", /null, not an object/);
    await expectError(write(raw('"text"', 0)), "E_INVALID", /not an object/);
    await expectError(write(raw("42", 0)), "E_INVALID", /number 42, not an object/);
  });

  test("tensor entries with wrong types are E_INVALID and name the tensor", async () => {
    const cases: [string, RegExp][] = [
      ['{"w":"F32"}', /tensor "w" is the string "F32", not an object/],
      ['{"w":null}', /tensor "w" is null/],
      ['{"w":{"shape":[1],"data_offsets":[0,4]}}', /tensor "w": dtype is undefined/],
      ['{"w":{"dtype":7,"shape":[1],"data_offsets":[0,4]}}', /dtype is number 7/],
      ['{"w":{"dtype":"","shape":[1],"data_offsets":[0,4]}}', /dtype is the string ""/],
      ['{"w":{"dtype":"F32","shape":"1","data_offsets":[0,4]}}', /shape is the string "1", not an array/],
      ['{"w":{"dtype":"F32","shape":[-1],"data_offsets":[0,4]}}', /shape has number -1/],
      ['{"w":{"dtype":"F32","shape":[1.5],"data_offsets":[0,4]}}', /shape has number 1.5/],
      ['{"w":{"dtype":"F32","shape":["1"],"data_offsets":[0,4]}}', /shape has the string "1"/],
      ['{"w":{"dtype":"F32","shape":[1]}}', /data_offsets is undefined/],
      ['{"w":{"dtype":"F32","shape":[1],"data_offsets":[4]}}', /data_offsets is an array, not \[begin, end\]/],
      ['{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,4,8]}}', /not \[begin, end\]/],
      ['{"w":{"dtype":"F32","shape":[1],"data_offsets":{"0":0,"1":4}}}', /data_offsets is an object/],
      ['{"w":{"dtype":"F32","shape":[1],"data_offsets":[0,"4"]}}', /are not non-negative integers/],
      ['{"w":{"dtype":"F32","shape":[1],"data_offsets":[-4,0]}}', /are not non-negative integers/],
      ['{"w":{"dtype":"F32","shape":[1],"data_offsets":[4,0]}}', /end 0 is before begin 4/],
      ['{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,4]}}', /needs 8 bytes, data_offsets give 4/],
      ['{"w":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', /not a whole number of bytes/],
      // Dimensions whose product overflows a double: still an exact, refused size.
      ['{"w":{"dtype":"F32","shape":[281474976710655,281474976710655],"data_offsets":[0,4]}}', /needs 316912650057055098574362116100 bytes, data_offsets give 4/],
    ];
    for (const [json, message] of cases) await expectError(write(raw(json, 16)), "E_INVALID", message);
  });

  test("offsets outside the data area: E_TRUNCATED; beyond 2^53: E_INVALID; overlapping: E_INVALID", async () => {
    await expectError(write(raw('{"w":{"dtype":"U8","shape":[8],"data_offsets":[8,16]}}', 12)), "E_TRUNCATED", /ends at data offset 16, the data area has 12 bytes/);
    await expectError(write(raw('{"w":{"dtype":"U8","shape":[1],"data_offsets":[1e300,1e300]}}', 4)), "E_INVALID", /not non-negative integers/);
    await expectError(write(raw('{"w":{"dtype":"U8","shape":[0],"data_offsets":[18014398509481984,18014398509481984]}}', 4)), "E_INVALID");
    await expectError(
      write(raw('{"a":{"dtype":"U8","shape":[4],"data_offsets":[0,4]},"b":{"dtype":"U8","shape":[4],"data_offsets":[2,6]}}', 6)),
      "E_INVALID",
      /"a" and "b" overlap/,
    );
  });

  test("__metadata__ that is not an object of strings is E_INVALID", async () => {
    await expectError(write(raw('{"__metadata__":{"epochs":10}}', 0)), "E_INVALID", /__metadata__\["epochs"\] is number 10, not a string/);
    await expectError(write(raw('{"__metadata__":{"a":"b","nested":{"x":"y"}}}', 0)), "E_INVALID", /\["nested"\] is an object/);
    await expectError(write(raw('{"__metadata__":{"a":null}}', 0)), "E_INVALID", /\["a"\] is null/);
    await expectError(write(raw('{"__metadata__":["a"]}', 0)), "E_INVALID", /__metadata__ is an array/);
    await expectError(write(raw('{"__metadata__":"a"}', 0)), "E_INVALID", /__metadata__ is the string "a"/);
  });

  test('"__proto__" as a tensor name or metadata key stays data', async () => {
    const h = await readSafetensorsHeader(
      write(raw('{"__metadata__":{"__proto__":"x"},"__proto__":{"dtype":"U8","shape":[2],"data_offsets":[0,2]}}', 2)),
    );
    assert.deepEqual(h.tensors.map((t) => t.name), ["__proto__"]);
    assert.equal(Object.getPrototypeOf(h.metadata), Object.prototype);
    assert.deepEqual(Object.keys(h.metadata!), ["__proto__"]);
    assert.equal(({} as Record<string, unknown>).x, undefined);
  });

  test("a missing path and a directory are E_IO naming the path", async () => {
    const missing = path.join(dir, "nope.safetensors");
    await expectError(missing, "E_IO", /ENOENT/);
    await expectError(dir, "E_IO", /EISDIR/);
  });
});
