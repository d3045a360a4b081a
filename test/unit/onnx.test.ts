import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { readOnnxHeader, summarizeOnnx } from "../../src/formats/onnx.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import { buildTinyOnnx, bytesField, varint, varintField } from "../helpers/onnx-writer.js";

const isError = (codes: string[], re?: RegExp) => (e: unknown) =>
  e instanceof ModelLibraryError && codes.includes(e.code) && (!re || re.test(e.message));

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));
let n = 0;
function write(bytes: Buffer): string {
  const p = path.join(dir, `m${n++}.onnx`);
  fs.writeFileSync(p, bytes);
  return p;
}

const EXPECTED = {
  irVersion: 8,
  producerName: "pytorch",
  producerVersion: "2.1.0",
  domain: "ai.example",
  modelVersion: 7,
  opsetImports: [{ domain: "", version: 17 }],
};

describe("readOnnxHeader", () => {
  test("decodes the top-level fields and the opset import after the graph", async () => {
    assert.deepEqual(await readOnnxHeader(write(buildTinyOnnx().bytes)), EXPECTED);
  });

  test("steps over a large graph without reading it, and over unknown fields of every wire type", async () => {
    const graph = Buffer.alloc(3 * 1024 * 1024, 0x41); // larger than the read window
    const { bytes } = buildTinyOnnx({ graph });
    const extra = Buffer.concat([
      bytesField(6, "doc string"),
      bytesField(14, Buffer.concat([bytesField(1, "key"), bytesField(2, "value")])),
      varintField(99, 123456789),
      Buffer.concat([varint(100 * 8 + 1), Buffer.alloc(8)]), // fixed64
      Buffer.concat([varint(101 * 8 + 5), Buffer.alloc(4)]), // fixed32
      bytesField(8, Buffer.concat([bytesField(1, "ai.onnx.ml"), varintField(2, 3)])),
    ]);
    const info = await readOnnxHeader(write(Buffer.concat([bytes, extra])));
    assert.deepEqual(info.opsetImports, [{ domain: "", version: 17 }, { domain: "ai.onnx.ml", version: 3 }]);
    assert.equal(info.producerName, "pytorch");
  });

  test("a 5 GiB graph (sparse file) is stepped over in milliseconds", async () => {
    const graphLen = 5 * 1024 ** 3;
    const head = Buffer.concat([varintField(1, 9), bytesField(2, "big"), varint(7 * 8 + 2), varint(graphLen)]);
    const tail = bytesField(8, varintField(2, 21));
    const p = path.join(dir, "sparse.onnx");
    const fd = fs.openSync(p, "w");
    fs.writeSync(fd, head, 0, head.length, 0);
    fs.writeSync(fd, tail, 0, tail.length, head.length + graphLen);
    fs.closeSync(fd);
    const t0 = performance.now();
    const info = await readOnnxHeader(p);
    const ms = performance.now() - t0;
    fs.rmSync(p);
    assert.equal(info.producerName, "big");
    assert.deepEqual(info.opsetImports, [{ domain: "", version: 21 }]);
    assert.ok(ms < 3000, `took ${ms} ms (reading the 5 GiB hole would take far longer)`);
  });

  test("empty strings are protobuf defaults: null", async () => {
    const bytes = Buffer.concat([varintField(1, 3), bytesField(2, ""), bytesField(3, ""), bytesField(7, Buffer.alloc(4)), bytesField(8, varintField(2, 9))]);
    const info = await readOnnxHeader(write(bytes));
    assert.equal(info.producerName, null);
    assert.equal(info.producerVersion, null);
    assert.equal(info.modelVersion, null);
    assert.deepEqual(info.opsetImports, [{ domain: "", version: 9 }]);
  });

  test("truncated at every offset: E_TRUNCATED or E_INVALID naming the file", async () => {
    const { bytes } = buildTinyOnnx();
    for (let cut = 0; cut < bytes.length; cut++) {
      const p = write(bytes.subarray(0, cut));
      const err = await readOnnxHeader(p).then(
        () => assert.fail(`cut at ${cut} of ${bytes.length}: read as a whole model`),
        (e: unknown) => e,
      );
      assert.ok(isError(["E_TRUNCATED", "E_INVALID"])(err) && (err as Error).message.startsWith(p), `cut at ${cut}: ${String(err)}`);
      fs.rmSync(p);
    }
  });

  test("a cut inside a length-delimited field is E_TRUNCATED", async () => {
    const { bytes, fieldEnds } = buildTinyOnnx();
    // Cut three bytes into the graph field (field index 5).
    await assert.rejects(readOnnxHeader(write(bytes.subarray(0, fieldEnds[4] + 3))), isError(["E_TRUNCATED"], /declares \d+ bytes|ends inside/));
  });

  const hostile: [string, Buffer, string[], RegExp][] = [
    ["a graph length of 2^60", Buffer.concat([varintField(1, 8), varint(7 * 8 + 2), varint(2n ** 60n)]), ["E_TRUNCATED"], /declares/],
    ["an 11-byte varint", Buffer.concat([varintField(1, 8), Buffer.from([0x28]), Buffer.alloc(10, 0xff), Buffer.from([0x01])]), ["E_INVALID"], /longer than 10 bytes/],
    ["field number 0", Buffer.from([0x00, 0x01]), ["E_INVALID"], /field number 0/],
    ["ir_version with a string wire type", bytesField(1, "x"), ["E_INVALID"], /wire type/],
    ["a group wire type", Buffer.concat([varintField(1, 8), Buffer.from([0x9b, 0x06])]), ["E_INVALID"], /wire type 3/],
    ["a producer name of 1 MiB", Buffer.concat([varintField(1, 8), bytesField(2, Buffer.alloc(1 << 20, 0x61))]), ["E_TOO_LARGE"], /bytes long/],
    ["invalid UTF-8 in producer_name", Buffer.concat([varintField(1, 8), bytesField(2, Buffer.from([0xc3, 0x28]))]), ["E_INVALID"], /UTF-8/],
    ["no ir_version", Buffer.concat([bytesField(2, "x"), bytesField(7, Buffer.alloc(2))]), ["E_INVALID"], /no ir_version/],
    ["no graph", Buffer.concat([varintField(1, 8), bytesField(2, "x")]), ["E_TRUNCATED"], /before its graph/],
    ["no opset after the graph", Buffer.concat([varintField(1, 8), bytesField(7, Buffer.alloc(2))]), ["E_TRUNCATED"], /opset_import/],
    ["an opset entry with a string past its end", Buffer.concat([varintField(1, 8), bytesField(7, Buffer.alloc(2)), bytesField(8, Buffer.from([0x0a, 0x09, 0x61]))]), ["E_INVALID"], /runs past the entry/],
    ["a GGUF file", Buffer.from("GGUF\x03\x00\x00\x00", "latin1"), ["E_INVALID", "E_TRUNCATED"], /./],
  ];
  for (const [label, bytes, codes, re] of hostile) {
    test(`hostile: ${label}`, async () => {
      const p = write(bytes);
      await assert.rejects(readOnnxHeader(p), (e: unknown) => isError(codes, re)(e) && (e as Error).message.includes(p));
    });
  }

  test("a missing file → E_IO", async () => {
    await assert.rejects(readOnnxHeader(path.join(dir, "nope.onnx")), isError(["E_IO"], /ENOENT/));
  });
});

test("summarizeOnnx: format onnx, safe, the header as it is", () => {
  assert.deepEqual(summarizeOnnx(EXPECTED), { format: "onnx", securityTier: "safe", onnx: EXPECTED });
});
