// Issue 9 items 2 and 3 against the library store9's test helper lays out exactly as the original writes one
// (test/helpers/original-library.ts: models.db with the original's schema, per-file hashes null, bare names of
// nested files, a model without `files`, unknown keys in hashes{} and files[], inference_settings as an array).
// The helper comes with the store9 branch: until it is merged beside this test, the test says so and skips.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { closeSync, openSync, readFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../src/index.js";
import { verifyModels } from "../../src/operations/verify-models.js";
import { redetectModels } from "../../src/operations/redetect-models.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { tempDir } from "../helpers/library-fixtures.js";

interface OriginalModel { id: string; dir: string; files: Record<string, string>; primary: string }
type MakeOriginalLibrary = (root: string) => Promise<{ root: string; models: Record<"gguf" | "diffusers" | "onnx" | "noFiles", OriginalModel> }>;

const HELPER = "../helpers/original-library.js"; // a variable: the module may not be there yet
const makeOriginalLibrary = await import(HELPER).then(
  (m: { makeOriginalLibrary: MakeOriginalLibrary }) => m.makeOriginalLibrary,
  () => null,
);
const skip = makeOriginalLibrary ? false : "test/helpers/original-library.ts (from the store9 branch) is not here yet";

describe("content side of a library the original wrote", { skip }, () => {
  test.after(() => closeHashWorkers());

  test("verify: every model OK as recorded; a corrupted largest file fails; bare names resolve", async () => {
    const t = tempDir();
    try {
      const o = await makeOriginalLibrary!(join(t.dir, "lib"));
      const lib = await ModelLibrary.open(o.root);
      try {
        const all = await verifyModels(lib, Object.values(o.models).map((m) => m.id));
        for (const r of all) {
          assert.equal(r.ok, true, JSON.stringify(r));
          assert.ok(!r.files.some((f) => f.status === "missing"), JSON.stringify(r.files));
        }
        const onnx = all.find((r) => r.id === o.models.onnx.id)!;
        assert.deepEqual(onnx.files.map((f) => [f.path, f.status]), [["onnx/model.onnx", "ok"]]);
        const gguf = o.models.gguf;
        const fd = openSync(join(gguf.dir, ...gguf.primary.split("/")), "r+");
        writeSync(fd, Buffer.from([0x42]), 0, 1, 4000);
        closeSync(fd);
        const [bad] = await verifyModels(lib, [gguf.id]);
        assert.equal(bad.ok, false);
        assert.equal(bad.files.find((f) => f.path === gguf.primary)?.status, "hash-mismatch");
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("rewrite and redetect keep what they do not know, and the original's family spellings", async () => {
    const t = tempDir();
    try {
      const o = await makeOriginalLibrary!(join(t.dir, "lib"));
      const before = JSON.parse(readFileSync(join(o.models.gguf.dir, "metadata.json"), "utf8"));
      const lib = await ModelLibrary.open(o.root);
      try {
        await lib.updateMetadata(o.models.gguf.id, (m) => { m.notes = "one"; });
        await lib.updateMetadata(o.models.gguf.id, (m) => { m.notes = "two"; });
        for (const file of ["metadata.json", "metadata.json.bak"]) {
          const raw = JSON.parse(readFileSync(join(o.models.gguf.dir, file), "utf8"));
          assert.deepEqual(raw.inference_settings, before.inference_settings, file);
          assert.deepEqual(raw.hashes, before.hashes, file);
          assert.deepEqual(raw.files, before.files, file);
        }
        const results = await redetectModels(lib, []);
        for (const r of results) assert.equal(r.error, null, JSON.stringify(r));
        assert.equal((await lib.getMetadata(o.models.diffusers.id)).family, "stable-diffusion");
        const noFiles = results.find((r) => r.id === o.models.noFiles.id)!;
        assert.equal(noFiles.after.format, "safetensors", "a model without `files` is not skipped");
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
