// Files as mlib writes them, read by the original as original-behaviour.md documents it: every metadata.json we
// write (import of a file, a shard set, a diffusers folder; adopt; edit; redetect; doctor --fix; merge of an
// original's library) has each of the original's fields with the type it reads (§2.6), and link_registry.json
// after map apply keeps its {by_target, by_model} shape with LinkEntry fields as it reads them (§10.6).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../src/store/model-library.js";
import { importModels } from "../../src/operations/import-models.js";
import { adoptOrphans } from "../../src/operations/adopt-orphans.js";
import { editModel } from "../../src/operations/edit-model.js";
import { redetectModels } from "../../src/operations/redetect-models.js";
import { runDoctor } from "../../src/doctor/run-doctor.js";
import { mergeLibrary } from "../../src/merge/merge-library.js";
import { applyMapping } from "../../src/mapper/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { tempDir, writeDiffusersFolder, writeGgufModel, writeKohyaLora, writeShardSet } from "../helpers/library-fixtures.js";
import { makeOriginalLibrary } from "../helpers/original-library.js";
import { originalMetadataProblems, originalRegistryProblems } from "../helpers/original-shape.js";

test.after(() => closeHashWorkers());

function metadataFiles(dir: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name.startsWith(".")) continue;
    const p = join(dir, e.name);
    if (e.isDirectory()) out.push(...metadataFiles(p));
    else if (e.name === "metadata.json") out.push(p);
  }
  return out;
}

function assertOriginalReadsAll(root: string, least: number): void {
  const files = metadataFiles(root);
  assert.ok(files.length >= least, `${files.length} metadata.json files, expected at least ${least}`);
  const bad = files.map((f) => [f, originalMetadataProblems(JSON.parse(fs.readFileSync(f, "utf8")))] as const).filter(([, p]) => p.length > 0);
  assert.deepEqual(bad, []);
}

test("every metadata.json mlib writes, and its link_registry.json, have the shapes the original reads", async () => {
  const t = tempDir("mlib-original-shapes-");
  try {
    const src = join(t.dir, "src");
    fs.mkdirSync(src);
    const lib = await ModelLibrary.open(join(t.dir, "ours"));
    try {
      const gguf = writeGgufModel(join(src, "tiny.gguf"), "Tiny", 7);
      const shards = writeShardSet(join(src, "shards"), "model", 2);
      const sd = writeDiffusersFolder(join(src, "sd"));
      const lora = writeKohyaLora(join(src, "detail.safetensors"));
      const imported = await importModels(lib, [gguf, shards[0], sd, lora]);
      assert.ok(imported.every((r) => r.status === "imported"), JSON.stringify(imported.map((r) => r.error?.message ?? r.status)));
      // An orphan folder, adopted in place.
      const orphan = join(lib.root, "llm", "llama", "dropped_in");
      fs.mkdirSync(orphan, { recursive: true });
      writeGgufModel(join(orphan, "dropped.gguf"), "Dropped", 9);
      await adoptOrphans(lib, {});
      await editModel(lib, { id: imported[0].modelId!, name: "Renamed", tags: ["a", "b"], notes: "" });
      await redetectModels(lib, {});
      assertOriginalReadsAll(lib.root, 5);

      // An original's library merged in, then doctor --fix and redetect over the whole: still read.
      const orig = await makeOriginalLibrary(join(t.dir, "orig"), { appsDir: join(t.dir, "orig-apps") });
      fs.rmSync(orig.tmpImports.fresh, { recursive: true });
      fs.rmSync(orig.tmpImports.old, { recursive: true });
      const merged = await mergeLibrary(lib, { source: orig.root });
      assert.deepEqual(merged.results.filter((x) => x.destId === null), []);
      await runDoctor(lib, { fix: true });
      await redetectModels(lib, {});
      assertOriginalReadsAll(lib.root, 9);

      const root = join(t.dir, "ComfyUI", "models");
      fs.mkdirSync(root, { recursive: true });
      const applied = await applyMapping(lib, { app: "comfyui", root, configDir: "/nonexistent-mlib-config" });
      assert.ok(applied.made.length > 0);
      const registry = JSON.parse(fs.readFileSync(join(lib.root, "link_registry.json"), "utf8"));
      assert.deepEqual(originalRegistryProblems(registry), []);
      assert.ok(Object.keys(registry.by_target).length >= applied.made.length);
    } finally {
      lib.close();
    }
  } finally {
    t.cleanup();
  }
});

test("the checks above can fail: each wrong type the original would refuse is named", () => {
  assert.deepEqual(originalMetadataProblems({ size_bytes: "12", tags: "a", files: {}, hashes: [], lookup_attempts: -1, pending_online_lookup: "yes", model_card: [1] }).map((p) => p.split(":")[0]).sort(),
    ["files", "hashes", "lookup_attempts", "pending_online_lookup", "size_bytes", "tags"]);
  assert.deepEqual(originalMetadataProblems({ base_model: "x", files: [{ name: "a.gguf", size: null, sha256: null }], match_confidence: 0.5 }), []);
  const entry = { model_id: "m", source: "/s", target: "/t", link_type: "symlink", created_at: "now", app_id: "comfyui", app_version: null };
  assert.deepEqual(originalRegistryProblems({ by_target: { "/t": entry }, by_model: { m: ["/t"] } }), []);
  assert.equal(originalRegistryProblems({ by_target: { "/t": { ...entry, link_type: "reflink", app_version: 3 } }, by_model: { m: "/t" } }).length, 3);
});
