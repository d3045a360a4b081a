import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { stagingLeft } from "../helpers/operations.js";
import { withLibrary, writeDiffusersFolder, writeGgufModel, writeKohyaLora, writeLfsPointer, writeShardSet, writeZipPickle } from "../helpers/library-fixtures.js";

const sha256 = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe("importModels", () => {
  test.after(() => closeHashWorkers());

  test("a GGUF file: copied into {type}/{family}/{name}, hashed, indexed, source untouched", () =>
    withLibrary(async (lib, src) => {
      const file = writeGgufModel(join(src, "Tiny-Llama-7B.Q4_K_M.gguf"));
      const before = sha256(file);
      const [r] = await importModels(lib, [file]);
      assert.equal(r.status, "imported", r.error?.message);
      assert.equal(r.modelId, "llm/llama/tiny-llama-7b_q4_k_m");
      assert.equal(sha256(file), before, "source unchanged");
      const stored = join(lib.root, "llm", "llama", "tiny-llama-7b_q4_k_m", "Tiny-Llama-7B.Q4_K_M.gguf");
      assert.equal(sha256(stored), before);
      const m = await lib.getMetadata(r.modelId!);
      assert.equal(m.format, "gguf");
      assert.equal(m.quantization, "Q4_K_M");
      assert.equal(m.context_length, 4096);
      assert.equal(m.files!.length, 1);
      assert.equal(m.files![0].sha256, before);
      assert.match(m.files![0].blake3!, /^[0-9a-f]{64}$/);
      assert.equal(m.hashes!.sha256, before);
      assert.equal(m.size_bytes, statSync(file).size);
      // every original field is present, absent ones as null
      const raw = JSON.parse(readFileSync(join(lib.modelDir(r.modelId!), "metadata.json"), "utf8"));
      for (const k of ["model_id", "preview_image", "release_date", "download_url", "model_card", "conversion_source", "expected_files"]) {
        assert.ok(k in raw, k);
      }
      assert.equal(raw.preview_image, null);
      assert.equal(lib.search("tiny").totalCount, 1);
      assert.equal(lib.findByHash(before)?.id, r.modelId);
      assert.deepEqual(stagingLeft(lib.root), []);
    }));

  test("the same content again is a duplicate naming the model; --allow-duplicate stores it", () =>
    withLibrary(async (lib, src) => {
      const a = writeGgufModel(join(src, "a.gguf"), "Same", 42);
      const b = writeGgufModel(join(src, "renamed-copy.gguf"), "Same", 42);
      const [first] = await importModels(lib, [a]);
      const [second] = await importModels(lib, [b]);
      assert.equal(second.status, "duplicate");
      assert.equal(second.duplicateOf, first.modelId);
      assert.equal(lib.list().totalCount, 1);
      const [third] = await importModels(lib, [b], { allowDuplicate: true });
      assert.equal(third.status, "imported");
      assert.equal(lib.list().totalCount, 2);
    }));

  test("a shard set named by one of its files is one model with every shard; sizes summed", () =>
    withLibrary(async (lib, src) => {
      const shards = writeShardSet(src, "model", 3);
      const all = await importModels(lib, [shards[1], shards[0]]);
      assert.equal(all.length, 1, "two shards of one set named together are one model");
      const [r] = all;
      assert.equal(r.status, "imported", r.error?.message);
      assert.equal(r.files, 3);
      const m = await lib.getMetadata(r.modelId!);
      assert.deepEqual(m.files!.map((f) => f.name), shards.map((s) => s.slice(s.lastIndexOf("/") + 1)));
      assert.equal(m.size_bytes, shards.reduce((a, s) => a + statSync(s).size, 0));
      assert.equal(m.model_type, "llm");
    }));

  test("an incomplete shard set is refused naming the missing shard; --allow-incomplete stores it", () =>
    withLibrary(async (lib, src) => {
      const shards = writeShardSet(src, "big", 3, [2]);
      const [r] = await importModels(lib, [shards[0]]);
      assert.equal(r.status, "failed");
      assert.equal(r.error!.code, "E_INCOMPLETE");
      assert.match(r.error!.message, /big-00002-of-00003\.safetensors/);
      assert.equal(lib.list().totalCount, 0);
      const [again] = await importModels(lib, [shards[0]], { allowIncomplete: true });
      assert.equal(again.status, "imported");
      assert.deepEqual((await lib.getMetadata(again.modelId!)).expected_files!.length, 3);
    }));

  test("a folder is walked: each model on its own, a diffusers folder as one model with sub-folders kept", () =>
    withLibrary(async (lib, src) => {
      writeGgufModel(join(src, "llm", "one.gguf"), "One", 1);
      writeKohyaLora(join(src, "loras", "style.safetensors"));
      writeShardSet(join(src, "llm", "sharded"), "model", 2);
      writeDiffusersFolder(join(src, "checkpoints", "sd15-diffusers"));
      writeFileSync(join(src, "README.md"), "not a model");
      const results = await importModels(lib, [src]);
      assert.deepEqual(results.map((r) => r.status), ["imported", "imported", "imported", "imported"], JSON.stringify(results, null, 1));
      const byFormat = Object.fromEntries(results.map((r) => [r.format, r]));
      const diffusers = byFormat["diffusers"];
      assert.ok(diffusers, "diffusers folder imported as one model");
      const dm = await lib.getMetadata(diffusers.modelId!);
      assert.ok(dm.files!.some((f) => f.name === "unet/diffusion_pytorch_model.safetensors"), "sub-folders kept, not flattened");
      assert.ok(existsSync(join(lib.modelDir(diffusers.modelId!), "unet", "diffusion_pytorch_model.safetensors")));
      assert.equal(dm.model_type, "diffusion");
      assert.equal(dm.family, "sd1");
      const lora = results.find((r) => r.source.endsWith("style.safetensors"))!;
      const lm = await lib.getMetadata(lora.modelId!);
      assert.equal(lm.subtype, "loras");
      assert.equal(lm.model_type, "diffusion");
      assert.equal(lib.list().totalCount, 4);
      assert.equal(lib.list({ types: ["diffusion"] }).totalCount, 2);
    }));

  test("pickle needs consent; an LFS pointer is refused as never downloaded; unknown bytes are refused", () =>
    withLibrary(async (lib, src) => {
      const pt = writeZipPickle(join(src, "model.ckpt"));
      const [refused] = await importModels(lib, [pt]);
      assert.equal(refused.status, "failed");
      assert.equal(refused.error!.code, "E_PICKLE");
      assert.equal(refused.securityTier, "pickle");
      const [ok] = await importModels(lib, [pt], { securityAcknowledged: true });
      assert.equal(ok.status, "imported", ok.error?.message);
      const lfs = writeLfsPointer(join(src, "big.gguf"));
      const [pointer] = await importModels(lib, [lfs]);
      assert.equal(pointer.error!.code, "E_LFS_POINTER");
      assert.match(pointer.error!.message, /never downloaded/);
      const junk = join(src, "junk.safetensors");
      writeFileSync(junk, Buffer.alloc(100, 7));
      const [unknown] = await importModels(lib, [junk]);
      assert.equal(unknown.status, "failed");
      assert.match(unknown.error!.message, /junk\.safetensors/);
      assert.equal(lib.list().totalCount, 1);
    }));

  test("move deletes the source only after commit; hardlink shares the inode; reflink falls back to a copy on ext4", () =>
    withLibrary(async (lib, src) => {
      const m = writeGgufModel(join(src, "moved.gguf"), "Moved", 5);
      const h = writeGgufModel(join(src, "linked.gguf"), "Linked", 6);
      const r = writeGgufModel(join(src, "cloned.gguf"), "Cloned", 7);
      const movedHash = sha256(m);
      const [moved] = await importModels(lib, [m], { mode: "move" });
      assert.equal(moved.status, "imported", moved.error?.message);
      assert.equal(existsSync(m), false);
      assert.equal(sha256(join(moved.path!, "moved.gguf")), movedHash);
      const [linked] = await importModels(lib, [h], { mode: "hardlink" });
      assert.equal(statSync(join(linked.path!, "linked.gguf")).ino, statSync(h).ino);
      const [cloned] = await importModels(lib, [r], { mode: "reflink" });
      assert.equal(cloned.status, "imported");
      assert.equal(sha256(join(cloned.path!, "cloned.gguf")), sha256(r));
    }));

  test("progress events cover every byte", () =>
    withLibrary(async (lib, src) => {
      writeShardSet(src, "p", 2);
      const events: { stage: string; bytesDone: number; bytesTotal: number; filesDone: number; filesTotal: number }[] = [];
      await importModels(lib, [src], { onProgress: (e) => events.push(e) });
      const last = events[events.length - 1];
      assert.equal(last.stage, "done");
      assert.equal(last.bytesDone, last.bytesTotal);
      assert.equal(last.filesDone, 2);
      assert.equal(last.filesTotal, 2);
      for (let i = 1; i < events.length; i++) assert.ok(events[i].bytesDone >= events[i - 1].bytesDone, "bytes only go up");
      assert.ok(events.some((e) => e.stage === "copying"));
    }));

  test("a missing path fails on its own, naming it; the other paths still import", () =>
    withLibrary(async (lib, src) => {
      const good = writeGgufModel(join(src, "good.gguf"));
      const results = await importModels(lib, [join(src, "nope.gguf"), good]);
      assert.equal(results.length, 2);
      const missing = results.find((r) => r.source.endsWith("nope.gguf"))!;
      assert.equal(missing.status, "failed");
      assert.equal(missing.error!.code, "E_NOT_FOUND");
      assert.match(missing.error!.message, /nope\.gguf/);
      assert.equal(results.find((r) => r.source === good)!.status, "imported");
    }));
});
