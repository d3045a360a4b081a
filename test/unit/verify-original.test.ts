// Issue 9 item 2 (and item 8's verify side): verify checks what the original recorded — model-level hashes of the
// largest file when per-file hashes are null; bare names of nested files resolved when unique, "ambiguous" when
// not; a metadata.json listing no files while weights sit in the folder fails verify.
// The library is laid out as the original lays one out, by a small fixture of this test.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, openSync, writeFileSync, writeSync, closeSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary, importModels } from "../../src/index.js";
import { verifyModels } from "../../src/operations/verify-models.js";
import { closeHashWorkers, hashFile } from "../../src/hashing/index.js";
import { bytes, tempDir, writeDiffusersFolder, writeSafetensorsModel } from "../helpers/library-fixtures.js";

function originalMetadata(over: Record<string, unknown>): string {
  return JSON.stringify({
    model_id: null, family: "llama", model_type: "llm", subtype: null, official_name: "x", cleaned_name: "x", tags: [],
    base_model: null, preview_image: null, release_date: null, download_url: null, model_card: null, inference_settings: null,
    compatible_apps: null, hashes: null, notes: null, added_date: "2026-01-02T03:04:05Z", updated_date: "2026-01-02T03:04:05Z",
    size_bytes: null, files: null, match_source: "import", match_method: null, match_confidence: null, pending_online_lookup: true,
    lookup_attempts: 0, last_lookup_attempt: null, conversion_source: null, repo_id: null, expected_files: null, ...over,
  }, null, 2);
}

/** Flips one byte in the middle of the file (same size: only a hash can tell). */
function corrupt(path: string, at: number): void {
  const fd = openSync(path, "r+");
  writeSync(fd, Buffer.from([0x5a]), 0, 1, at);
  closeSync(fd);
}

async function withOriginalLibrary(fn: (root: string) => Promise<void>): Promise<void> {
  const t = tempDir();
  try {
    await fn(join(t.dir, "lib"));
  } finally {
    t.cleanup();
  }
}

async function verify(root: string, id: string) {
  const lib = await ModelLibrary.open(root);
  try {
    return (await verifyModels(lib, [id]))[0];
  } finally {
    lib.close();
  }
}

describe("verify on a library the original wrote", () => {
  test.after(() => closeHashWorkers());

  test("model-level hashes only: the largest file is checked; a corrupted one fails", () =>
    withOriginalLibrary(async (root) => {
      const dir = join(root, "llm", "llama", "tiny");
      const weights = writeSafetensorsModel(join(dir, "model.safetensors"));
      writeFileSync(join(dir, "config.json"), JSON.stringify({ model_type: "llama" }));
      const h = await hashFile(weights);
      writeFileSync(join(dir, "metadata.json"), originalMetadata({
        hashes: { sha256: h.sha256, blake3: h.blake3 },
        files: [
          { name: "model.safetensors", original_name: "model.safetensors", size: h.size, sha256: null, blake3: null },
          { name: "config.json", original_name: "config.json", size: 22, sha256: null, blake3: null },
        ],
      }));
      const good = await verify(root, "llm/llama/tiny");
      assert.equal(good.ok, true, JSON.stringify(good));
      assert.equal(good.files.find((f) => f.name === "model.safetensors")?.status, "ok");
      corrupt(weights, 2000);
      const bad = await verify(root, "llm/llama/tiny");
      assert.equal(bad.ok, false);
      assert.equal(bad.files.find((f) => f.name === "model.safetensors")?.status, "hash-mismatch");
    }));

  test("a bare name for a nested file is resolved when unique (not 'missing'), and its hash checked", () =>
    withOriginalLibrary(async (root) => {
      const dir = join(root, "vision", "unknown", "clf");
      mkdirSync(join(dir, "onnx"), { recursive: true });
      const file = join(dir, "onnx", "model.onnx");
      writeFileSync(file, bytes(5000, 9));
      const h = await hashFile(file);
      writeFileSync(join(dir, "metadata.json"), originalMetadata({
        model_type: "vision", hashes: { sha256: h.sha256, blake3: h.blake3 },
        files: [{ name: "model.onnx", original_name: null, size: h.size, sha256: null, blake3: null }],
      }));
      const r = await verify(root, "vision/unknown/clf");
      assert.equal(r.ok, true, JSON.stringify(r));
      assert.equal(r.files[0].status, "ok");
      assert.equal(r.files[0].path, "onnx/model.onnx");
    }));

  test("a bare name several sub-folders hold is 'ambiguous', not 'missing'; the model-level hash still checks the largest", () =>
    withOriginalLibrary(async (root) => {
      const dir = join(root, "diffusion", "stable-diffusion", "pipe");
      writeDiffusersFolder(dir);
      const unet = join(dir, "unet", "diffusion_pytorch_model.safetensors");
      const h = await hashFile(unet);
      writeFileSync(join(dir, "metadata.json"), originalMetadata({
        model_type: "diffusion", family: "stable-diffusion", hashes: { sha256: h.sha256, blake3: h.blake3 },
        files: [
          { name: "diffusion_pytorch_model.safetensors", original_name: null, size: null, sha256: null, blake3: null },
          { name: "diffusion_pytorch_model.safetensors", original_name: null, size: null, sha256: null, blake3: null },
          { name: "model.safetensors", original_name: null, size: null, sha256: null, blake3: null },
        ],
      }));
      const r = await verify(root, "diffusion/stable-diffusion/pipe");
      const listed = r.files.filter((f) => f.name === "diffusion_pytorch_model.safetensors");
      assert.deepEqual(listed.map((f) => f.status), ["ambiguous", "ambiguous"], JSON.stringify(r.files));
      assert.equal(r.files.find((f) => f.name === "model.safetensors")?.path, "text_encoder/model.safetensors");
      assert.ok(r.files.some((f) => f.path === "unet/diffusion_pytorch_model.safetensors" && f.status === "ok"), JSON.stringify(r.files));
      assert.ok(!r.files.some((f) => f.status === "missing"));
      assert.equal(r.ok, true, JSON.stringify(r));
      corrupt(unet, 500);
      const bad = await verify(root, "diffusion/stable-diffusion/pipe");
      assert.equal(bad.ok, false);
      assert.ok(bad.files.some((f) => f.status === "hash-mismatch" && f.path === "unet/diffusion_pytorch_model.safetensors"), JSON.stringify(bad.files));
    }));

  test("no `files` key (or null) but a model-level hash: the largest file is checked against it", () =>
    withOriginalLibrary(async (root) => {
      for (const [name, over] of [["absent", {}], ["null", { files: null }]] as const) {
        const dir = join(root, "llm", "qwen", name);
        const weights = writeSafetensorsModel(join(dir, "model.safetensors"));
        const h = await hashFile(weights);
        const meta = JSON.parse(originalMetadata({ ...over, hashes: { sha256: h.sha256, blake3: null } })) as Record<string, unknown>;
        if (name === "absent") delete meta.files;
        writeFileSync(join(dir, "metadata.json"), JSON.stringify(meta));
        const good = await verify(root, `llm/qwen/${name}`);
        assert.equal(good.ok, true, `${name}: ${JSON.stringify(good)}`);
        assert.deepEqual(good.files.map((f) => [f.path, f.status]), [["model.safetensors", "ok"]]);
        corrupt(weights, 1000);
        assert.equal((await verify(root, `llm/qwen/${name}`)).ok, false, name);
      }
    }));

  test("our own metadata (per-file hashes): a bigger file dropped in later is not checked against the model-level hash", () =>
    withOriginalLibrary(async (root) => {
      const lib = await ModelLibrary.open(root);
      try {
        const [r] = await importModels(lib, [writeSafetensorsModel(join(root, "..", "src", "small.safetensors"))]);
        assert.equal(r.status, "imported", r.error?.message);
        writeFileSync(join(r.path!, "bigger.safetensors"), bytes(200_000, 4));
        const [v] = await verifyModels(lib, [r.modelId!]);
        assert.equal(v.ok, true, JSON.stringify(v));
        assert.deepEqual(v.files.map((f) => f.status), ["ok"]);
      } finally {
        lib.close();
      }
    }));

  test("metadata.json with `files: []` or files of the wrong type, while weights sit in the folder: verify fails", () =>
    withOriginalLibrary(async (root) => {
      for (const [name, files] of [["empty", []], ["wrong", "model.safetensors"], ["badentries", [{ name: 7 }]]] as const) {
        const dir = join(root, "llm", "llama", name);
        writeSafetensorsModel(join(dir, "model.safetensors"));
        writeFileSync(join(dir, "metadata.json"), originalMetadata({ files }));
        const r = await verify(root, `llm/llama/${name}`);
        assert.equal(r.ok, false, `${name}: ${JSON.stringify(r)}`);
        assert.match(r.error ?? "", /model\.safetensors/);
      }
    }));
});
