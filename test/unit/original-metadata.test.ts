// Issue 9 item 3: a rewrite of an original library's metadata.json keeps what it does not know, at every depth,
// and redetect keeps the original's family spelling. The library here is laid out as the original lays one out
// (a small fixture of this test: metadata.json with nulls, model-level hashes only, per-file hashes null).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../src/index.js";
import { redetectModels } from "../../src/operations/redetect-models.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { tempDir, writeDiffusersFolder } from "../helpers/library-fixtures.js";

/** A metadata.json as the original writes it: every field present, nulls, model-level hashes only. */
function originalMetadata(over: Record<string, unknown>): Record<string, unknown> {
  return {
    model_id: null, family: null, model_type: null, subtype: null, official_name: null, cleaned_name: null, tags: [],
    base_model: null, preview_image: null, release_date: null, download_url: null, model_card: null, inference_settings: null,
    compatible_apps: null, hashes: null, notes: null, added_date: "2026-01-02T03:04:05Z", updated_date: "2026-01-02T03:04:05Z",
    size_bytes: null, files: null, match_source: "import", match_method: null, match_confidence: null, pending_online_lookup: true,
    lookup_attempts: 0, last_lookup_attempt: null, conversion_source: null, repo_id: null, expected_files: null,
    ...over,
  };
}

function writeJson(path: string, v: unknown): void {
  writeFileSync(path, JSON.stringify(v, null, 2));
}

describe("rewriting an original metadata.json", () => {
  test.after(() => closeHashWorkers());

  test("inference_settings as an array, and unknown keys in hashes{} and files[], survive in the file and its .bak", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      const dir = join(root, "llm", "llama", "tiny");
      mkdirSync(dir, { recursive: true });
      writeFileSync(join(dir, "tiny.gguf"), "x");
      const settings = [{ app: "comfyui", steps: 20 }, { app: "a1111", cfg: 7 }];
      writeJson(join(dir, "metadata.json"), originalMetadata({
        model_id: "llm/llama/tiny", family: "llama", model_type: "llm", official_name: "Tiny",
        inference_settings: settings,
        hashes: { sha256: "a".repeat(64), blake3: null, md5: "abc", autov2: "0123456789" },
        files: [{ name: "tiny.gguf", original_name: "Tiny.gguf", size: 1, sha256: null, blake3: null, mtime: 123, role: "weights" }],
      }));
      const lib = await ModelLibrary.open(root);
      try {
        await lib.updateMetadata("llm/llama/tiny", (m) => { m.notes = "edited"; });
        await lib.updateMetadata("llm/llama/tiny", (m) => { m.notes = "edited twice"; });
      } finally {
        lib.close();
      }
      for (const file of ["metadata.json", "metadata.json.bak"]) {
        const raw = JSON.parse(readFileSync(join(dir, file), "utf8"));
        assert.deepEqual(raw.inference_settings, settings, file);
        assert.equal(raw.hashes.md5, "abc", file);
        assert.equal(raw.hashes.autov2, "0123456789", file);
        assert.equal(raw.hashes.sha256, "a".repeat(64), file);
        assert.equal(raw.files[0].mtime, 123, file);
        assert.equal(raw.files[0].role, "weights", file);
        assert.equal(raw.files[0].sha256, null, file);
      }
    } finally {
      t.cleanup();
    }
  });

  test("redetect keeps `stable-diffusion` (does not respell it `sd1`) and does not skip a model without `files`", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      const sd = join(root, "diffusion", "stable-diffusion", "my_pipeline");
      writeDiffusersFolder(sd);
      writeJson(join(sd, "metadata.json"), originalMetadata({
        model_id: "diffusion/stable-diffusion/my_pipeline", family: "stable-diffusion", model_type: "diffusion", official_name: "My Pipeline",
        files: [{ name: "diffusion_pytorch_model.safetensors", original_name: null, size: null, sha256: null, blake3: null }],
      }));
      // No `files` at all, and a type the bytes can correct.
      const nofiles = join(root, "unknown", "unknown", "nofiles");
      writeDiffusersFolder(nofiles);
      writeJson(join(nofiles, "metadata.json"), originalMetadata({ model_type: "unknown", family: null, official_name: "No Files" }));
      const lib = await ModelLibrary.open(root);
      try {
        const results = await redetectModels(lib, []);
        const bySd = results.find((r) => r.id === "diffusion/stable-diffusion/my_pipeline")!;
        assert.equal(bySd.error, null);
        assert.equal(bySd.after.family, "stable-diffusion");
        assert.equal((await lib.getMetadata(bySd.id)).family, "stable-diffusion");
        const byNoFiles = results.find((r) => r.id === "unknown/unknown/nofiles")!;
        assert.equal(byNoFiles.error, null);
        assert.equal(byNoFiles.after.modelType, "diffusion", JSON.stringify(byNoFiles));
        assert.equal(byNoFiles.after.family, "sd1"); // no family before: the detected one is written
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
