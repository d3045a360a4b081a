// The store: a library written by the original opens as it is; reconcile on open; staging cleanup; rm; verify;
// in-place import, orphan adoption and redetection.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, rmSync, writeFileSync, appendFileSync, openSync, writeSync, closeSync, utimesSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import {
  ModelLibrary,
  adoptOrphans,
  defaultLibraryRoot,
  importInPlace,
  importModels,
  incompleteShardReport,
  redetectModels,
  verifyModels,
} from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { tempDir, writeGgufModel, writeShardSet } from "../helpers/library-fixtures.js";

/** metadata.json exactly as the original writes it: snake_case, every field, nulls. */
function originalMetadata(over: Record<string, unknown>): Record<string, unknown> {
  return {
    model_id: "llm/llama/llama_2_7b", family: "llama", model_type: "llm", subtype: null, official_name: "Llama 2 7B",
    cleaned_name: "llama_2_7b", tags: ["chat", "gguf"], base_model: "meta-llama/Llama-2-7b", preview_image: null,
    release_date: null, download_url: null, model_card: null, inference_settings: null, compatible_apps: null,
    hashes: { sha256: "a".repeat(64), blake3: "" }, notes: null, added_date: "2026-01-02T03:04:05Z",
    updated_date: "2026-01-02T03:04:05Z", size_bytes: 3825819520,
    files: [{ name: "llama-2-7b.Q4_K_M.gguf", original_name: "llama-2-7b.Q4_K_M.gguf", size: 3825819520, sha256: null, blake3: null }],
    match_source: "download", match_method: null, match_confidence: null, pending_online_lookup: true, lookup_attempts: 0,
    last_lookup_attempt: null, conversion_source: null, repo_id: "TheBloke/Llama-2-7B-GGUF", expected_files: null,
    ...over,
  };
}

function writeMeta(root: string, id: string, meta: Record<string, unknown>): void {
  const dir = join(root, ...id.split("/"));
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "metadata.json"), JSON.stringify(meta, null, 2));
}

describe("ModelLibrary store", () => {
  test.after(() => closeHashWorkers());

  test("default root: MODEL_LIBRARY_HOME, then XDG_DATA_HOME, then ~/.local/share", () => {
    assert.equal(defaultLibraryRoot({ MODEL_LIBRARY_HOME: "/x/lib", XDG_DATA_HOME: "/y" }), "/x/lib");
    assert.equal(defaultLibraryRoot({ XDG_DATA_HOME: "/y" }), "/y/model-library");
    assert.match(defaultLibraryRoot({}), /\.local\/share\/model-library$/);
  });

  test("a library written by the original opens as it is: listed, searchable, fields kept", async () => {
    const t = tempDir();
    try {
      writeMeta(t.dir, "llm/llama/llama_2_7b", originalMetadata({}));
      writeMeta(t.dir, "diffusion/stable-diffusion/sd_v1_5", originalMetadata({
        model_id: "diffusion/stable-diffusion/sd_v1_5", family: "stable-diffusion", model_type: "diffusion",
        subtype: "checkpoints", official_name: "Stable Diffusion v1.5", cleaned_name: "stable_diffusion_v1_5", tags: ["sd"],
        base_model: [], repo_id: null, hashes: { sha256: "b".repeat(64), blake3: "c".repeat(64) },
      }));
      // A model directory at an unusual depth and a model with almost nothing in it: both valid for the original.
      writeMeta(t.dir, "misc/thing", { official_name: "Thing" });
      const lib = await ModelLibrary.open(t.dir);
      try {
        assert.equal(lib.list().totalCount, 3);
        const llama = lib.require("llm/llama/llama_2_7b");
        assert.equal(llama.officialName, "Llama 2 7B");
        assert.equal(lib.search("llama").totalCount, 1);
        assert.equal(lib.search("stable").models[0].id, "diffusion/stable-diffusion/sd_v1_5");
        assert.equal(lib.findByHash("b".repeat(64))?.id, "diffusion/stable-diffusion/sd_v1_5");
        const m = await lib.getMetadata("llm/llama/llama_2_7b");
        assert.deepEqual(m.base_model, ["meta-llama/Llama-2-7b"], "a string base_model becomes a list");
        assert.equal((await lib.getMetadata("diffusion/stable-diffusion/sd_v1_5")).base_model, null, "an empty list becomes null");
        assert.equal(lib.get("misc/thing")!.modelType, "unknown");
        // A write through us keeps every original field and adds ours.
        await lib.updateMetadata("llm/llama/llama_2_7b", (mm) => {
          mm.notes = "edited";
        });
        const raw = JSON.parse(readFileSync(join(t.dir, "llm/llama/llama_2_7b/metadata.json"), "utf8"));
        assert.equal(raw.repo_id, "TheBloke/Llama-2-7B-GGUF");
        assert.equal(raw.notes, "edited");
        assert.equal(raw.match_method, null);
        assert.ok(existsSync(join(t.dir, "llm/llama/llama_2_7b/metadata.json.bak")));
        // overrides.json as the original writes it: read, and written back.
        assert.equal(await lib.loadOverrides("llm/llama/llama_2_7b"), null);
        writeFileSync(join(t.dir, "llm/llama/llama_2_7b/overrides.json"), JSON.stringify({ version_ranges: { comfyui: ">=0.3.0" } }));
        assert.deepEqual((await lib.loadOverrides("llm/llama/llama_2_7b"))!.version_ranges, { comfyui: ">=0.3.0" });
        await lib.saveOverrides("llm/llama/llama_2_7b", { version_ranges: { comfyui: ">=0.4.0" } });
        assert.deepEqual(JSON.parse(readFileSync(join(t.dir, "llm/llama/llama_2_7b/overrides.json"), "utf8")), { version_ranges: { comfyui: ">=0.4.0" } });
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("open reconciles without a rebuild: new and removed models found; full reconcile sees in-place edits", async () => {
    const t = tempDir();
    try {
      writeMeta(t.dir, "llm/llama/one", originalMetadata({ official_name: "One" }));
      let lib = await ModelLibrary.open(t.dir);
      assert.equal(lib.list().totalCount, 1);
      lib.close();
      writeMeta(t.dir, "llm/llama/two", originalMetadata({ official_name: "Two" }));
      writeMeta(t.dir, "llm/qwen/three", originalMetadata({ official_name: "Three" }));
      lib = await ModelLibrary.open(t.dir);
      assert.equal(lib.lastReconcile!.added, 2);
      assert.equal(lib.list().totalCount, 3);
      lib.close();
      rmSync(join(t.dir, "llm/llama/one"), { recursive: true });
      lib = await ModelLibrary.open(t.dir);
      assert.equal(lib.lastReconcile!.removed, 1);
      assert.equal(lib.get("llm/llama/one"), null);
      lib.close();
      // An edit in place (same folder entries): the quick check does not look inside model folders; full does.
      appendFileSync(join(t.dir, "llm/qwen/three/metadata.json"), "\n");
      writeFileSync(join(t.dir, "llm/qwen/three/metadata.json"), JSON.stringify(originalMetadata({ official_name: "Three Renamed" })));
      lib = await ModelLibrary.open(t.dir, { reconcile: "full" });
      assert.equal(lib.lastReconcile!.updated, 1);
      assert.equal(lib.get("llm/qwen/three")!.officialName, "Three Renamed");
      const rebuilt = await lib.reindex();
      assert.equal(rebuilt.added, 2);
      assert.equal(lib.list().totalCount, 2);
      lib.close();
    } finally {
      t.cleanup();
    }
  });

  test("staging of the older layout (.staging/, no lease) is removed once unchanged past the lease expiry; a fresh one is left", async () => {
    const t = tempDir();
    try {
      const dead = join(t.dir, ".staging", "999999-deadbeef");
      mkdirSync(dead, { recursive: true });
      writeFileSync(join(dead, "half.gguf"), "partial");
      const old = new Date(Date.now() - 3 * 60_000);
      utimesSync(join(dead, "half.gguf"), old, old);
      utimesSync(dead, old, old);
      const fresh = join(t.dir, ".staging", "999998-cafe");
      mkdirSync(fresh, { recursive: true });
      // Old folders, but a file deep inside still being written: its mtime counts, the folder is left.
      const busy = join(t.dir, ".staging", "999997-beef");
      mkdirSync(join(busy, "sub", "deeper"), { recursive: true });
      writeFileSync(join(busy, "sub", "deeper", ".copying.tmp"), "x");
      for (const d of [join(busy, "sub", "deeper"), join(busy, "sub"), busy]) utimesSync(d, old, old);
      const lib = await ModelLibrary.open(t.dir);
      lib.close();
      assert.equal(existsSync(dead), false);
      assert.equal(existsSync(fresh), true);
      assert.deepEqual(lib.staging!.leftAlone.map((r) => r.path).sort(), [busy, fresh].sort());
      assert.ok(lib.notices.some((n) => n.kind === "staging-left" && n.path === fresh));
    } finally {
      t.cleanup();
    }
  });

  test("unknown ids are errors, never new folders", async () => {
    const t = tempDir();
    try {
      const lib = await ModelLibrary.open(t.dir);
      try {
        await assert.rejects(lib.getMetadata("llm/none/nothing"), /not found/);
        await assert.rejects(lib.saveOverrides("llm/none/nothing", { version_ranges: null }), /not found/);
        await assert.rejects(lib.remove("llm/none/nothing"), /not found/);
        assert.throws(() => lib.modelDir("../etc"), /invalid model id/);
        assert.equal(existsSync(join(t.dir, "llm")), false);
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("verify finds a changed byte and a missing file; rm deletes the model and empty parents", async () => {
    const t = tempDir();
    try {
      const lib = await ModelLibrary.open(join(t.dir, "lib"));
      try {
        const [a] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"), "A", 1)]);
        const shards = writeShardSet(join(t.dir, "src", "set"), "m", 2);
        const [b] = await importModels(lib, [shards[0]]);
        assert.ok((await verifyModels(lib)).every((r) => r.ok));
        const fa = join(lib.modelDir(a.modelId!), "a.gguf");
        const fd = openSync(fa, "r+");
        writeSync(fd, Buffer.from([0xff]), 0, 1, 100);
        closeSync(fd);
        rmSync(join(lib.modelDir(b.modelId!), "m-00002-of-00002.safetensors"));
        const report = await verifyModels(lib);
        const ra = report.find((r) => r.id === a.modelId)!;
        const rb = report.find((r) => r.id === b.modelId)!;
        assert.equal(ra.ok, false);
        assert.equal(ra.files[0].status, "hash-mismatch");
        assert.equal(rb.files.find((f) => f.name === "m-00002-of-00002.safetensors")!.status, "missing");
        const removed = await lib.remove(a.modelId!);
        assert.equal(existsSync(removed.path), false);
        assert.equal(lib.get(a.modelId!), null);
        assert.equal(existsSync(join(lib.root, "llm", "llama")), false, "empty family folder removed");
        assert.equal(existsSync(lib.modelDir(b.modelId!)), true, "other models untouched");
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("in-place import: a known sha256 is verified, not trusted; orphans adopted; incomplete sets reported", async () => {
    const t = tempDir();
    try {
      const lib = await ModelLibrary.open(t.dir);
      try {
        const dl = join(t.dir, "llm", "llama", "downloaded");
        const file = writeGgufModel(join(dl, "model.gguf"), "Downloaded", 4);
        const sha = createHash("sha256").update(readFileSync(file)).digest("hex");
        await assert.rejects(
          importInPlace(lib, { modelDir: dl, officialName: "Downloaded", repoId: "x/y", knownSha256: "0".repeat(64) }),
          (e: Error & { code?: string }) => e.code === "E_HASH_MISMATCH",
        );
        assert.equal(existsSync(join(dl, "metadata.json")), false);
        const r = await importInPlace(lib, { modelDir: dl, officialName: "Downloaded", repoId: "x/y", knownSha256: sha });
        assert.equal(r.modelId, "llm/llama/downloaded");
        const m = await lib.getMetadata(r.modelId);
        assert.equal(m.match_source, "download");
        assert.equal(m.hashes!.sha256, sha);
        assert.match(m.hashes!.blake3!, /^[0-9a-f]{64}$/, "blake3 computed, not left empty");
        // idempotent
        assert.equal((await importInPlace(lib, { modelDir: dl, officialName: "Downloaded" })).created, false);

        writeGgufModel(join(t.dir, "llm", "qwen", "orphan_model", "orphan.gguf"), "Orphan", 5);
        writeShardSet(join(t.dir, "llm", "mistral", "half_set"), "model", 3, [3]);
        mkdirSync(join(t.dir, "llm", "phi", "downloading"), { recursive: true });
        writeFileSync(join(t.dir, "llm", "phi", "downloading", "x.gguf.part"), "partial");
        writeGgufModel(join(t.dir, "llm", "phi", "downloading", "y.gguf"), "Y", 6);
        const incomplete = await incompleteShardReport(lib);
        assert.deepEqual(incomplete.map((o) => o.missingFiles), [["model-00003-of-00003.safetensors"]]);
        const adopted = await adoptOrphans(lib);
        assert.deepEqual(adopted.adopted, ["llm/qwen/orphan_model"]);
        assert.equal(adopted.incomplete.length, 1);
        const om = await lib.getMetadata("llm/qwen/orphan_model");
        assert.equal(om.official_name, "orphan model");
        assert.equal(om.match_source, "orphan_recovery");
        assert.equal(om.repo_id, null, "no repo id invented from a folder name");
        assert.equal(lib.get("llm/phi/downloading"), null, "a folder with a download in progress is left alone");
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("redetect corrects a wrong type but never overwrites with unknown or a manual choice", async () => {
    const t = tempDir();
    try {
      const lib = await ModelLibrary.open(join(t.dir, "lib"));
      try {
        const [a] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"), "A", 1)]);
        await lib.updateMetadata(a.modelId!, (m) => {
          m.model_type = "vision";
          m.family = "wrong";
        });
        const [r] = await redetectModels(lib, [a.modelId!]);
        assert.equal(r.changed, true);
        assert.equal((await lib.getMetadata(a.modelId!)).model_type, "llm");
        await lib.updateMetadata(a.modelId!, (m) => {
          m.model_type = "audio";
          m.match_source = "manual";
        });
        const [kept] = await redetectModels(lib, [a.modelId!]);
        assert.equal(kept.changed, false);
        assert.equal((await lib.getMetadata(a.modelId!)).model_type, "audio");
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
