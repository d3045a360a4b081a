// Real ONNX models from ../shared/fixtures/onnx: header fields as the files hold them
// (checked against a separate protobuf dump of each file).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readOnnxHeader } from "../../src/formats/onnx.js";
import { readHead } from "../../src/formats/file-bytes.js";
import { sniffFormat } from "../../src/formats/sniff.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import type { OnnxInfo } from "../../src/formats/types.js";

const root = fileURLToPath(new URL("../../../shared/fixtures/onnx/", import.meta.url));
const skip = fs.existsSync(root) ? false : "../shared/fixtures not found";

const caffe2: OnnxInfo = {
  irVersion: 3,
  producerName: "onnx-caffe2",
  producerVersion: null, // present but empty in the file
  domain: null,
  modelVersion: 0,
  opsetImports: [{ domain: "", version: 9 }],
};
const EXPECTED: Record<string, OnnxInfo> = {
  "candle-test-relu.onnx": {
    irVersion: 3,
    producerName: "backend-test",
    producerVersion: null,
    domain: null,
    modelVersion: null,
    opsetImports: [{ domain: "", version: 6 }],
  },
  "light_resnet50.onnx": caffe2,
  "light_squeezenet.onnx": caffe2,
  "pytorch-converted-BatchNorm2d_eval.onnx": {
    irVersion: 3,
    producerName: "pytorch",
    producerVersion: "0.3",
    domain: null,
    modelVersion: null,
    opsetImports: [{ domain: "", version: 6 }],
  },
};

for (const [name, info] of Object.entries(EXPECTED)) {
  test(`onnx/${name}: header fields and sniffing`, { skip }, async () => {
    const p = root + name;
    assert.deepEqual(await readOnnxHeader(p), info);
    const { bytes, size } = await readHead(p, 64);
    assert.equal(sniffFormat(bytes, size, name), "onnx");
    assert.equal(sniffFormat(bytes, size, name.replace(/\.onnx$/, ".bin")), "onnx");
  });
}

test("onnx/candle-test-relu.onnx truncated at every offset: E_TRUNCATED or E_INVALID", { skip }, async () => {
  const bytes = fs.readFileSync(root + "candle-test-relu.onnx");
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
  try {
    for (let cut = 0; cut < bytes.length; cut++) {
      const p = path.join(dir, `cut-${cut}.onnx`);
      fs.writeFileSync(p, bytes.subarray(0, cut));
      const err = await readOnnxHeader(p).then(() => null, (e: unknown) => e);
      assert.ok(err instanceof ModelLibraryError && (err.code === "E_TRUNCATED" || err.code === "E_INVALID"), `cut at ${cut}: ${String(err)}`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
