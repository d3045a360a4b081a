// identify(): files decided by their bytes whatever their names, and folders that hold one model.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../src/index.js";
import {
  tempDir,
  writeDiffusersFolder,
  writeGgufModel,
  writeKohyaLora,
  writeLfsPointer,
  writeSafetensorsModel,
  writeShardSet,
  writeZipPickle,
} from "../helpers/library-fixtures.js";

describe("identify", () => {
  test("files: the bytes decide, the extension is only a hint", async () => {
    const t = tempDir();
    try {
      const gguf = await identify(writeGgufModel(join(t.dir, "model.bin"), "Misnamed"));
      assert.equal(gguf.format, "gguf");
      assert.equal(gguf.securityTier, "safe");
      assert.equal(gguf.modelType, "llm");
      assert.equal(gguf.family, "llama");
      assert.equal(gguf.quantization, "Q4_K_M");
      assert.equal(gguf.contextLength, 4096);
      assert.equal(gguf.ggufVersion, 3);
      assert.ok(gguf.parameterCount! > 0);

      const pickle = await identify(writeZipPickle(join(t.dir, "weights.safetensors")));
      assert.equal(pickle.format, "pickle");
      assert.equal(pickle.securityTier, "pickle");
      assert.deepEqual(pickle.pickleEntries, ["archive/data.pkl", "archive/version"]);

      const lora = await identify(writeKohyaLora(join(t.dir, "style.safetensors")));
      assert.deepEqual([lora.modelType, lora.subtype, lora.family, lora.loraFormat], ["diffusion", "loras", "sd1", "kohya"]);

      const pointer = await identify(writeLfsPointer(join(t.dir, "big.gguf")));
      assert.equal(pointer.format, "lfs-pointer");
      assert.equal(pointer.lfsPointer!.size, 723869);
      assert.ok(pointer.warnings.some((w) => /never downloaded/.test(w)));

      writeFileSync(join(t.dir, "unknown.bin"), Buffer.alloc(256, 0x41));
      const unknown = await identify(join(t.dir, "unknown.bin"));
      assert.equal(unknown.format, "unknown");
      assert.equal(unknown.securityTier, "unknown", "an unknown .bin is never 'safe'");

      writeFileSync(join(t.dir, "junk.safetensors"), Buffer.from("FUGG, not a model"));
      await assert.rejects(identify(join(t.dir, "junk.safetensors")), (e: Error & { code?: string }) => e.code === "E_BAD_MAGIC" && /not safetensors/.test(e.message));

      const shard = await identify(writeShardSet(join(t.dir, "set"), "m", 3)[1]);
      assert.deepEqual(shard.shard, { index: 2, total: 3, setKey: "m.safetensors" });
    } finally {
      t.cleanup();
    }
  });

  test("a file in a folder named 'embedding' keeps the type its content gives", async () => {
    const t = tempDir();
    try {
      const r = await identify(writeSafetensorsModel(join(t.dir, "embedding", "embed-model.safetensors")));
      assert.equal(r.modelType, "llm");
    } finally {
      t.cleanup();
    }
  });

  test("folders: diffusers, HF snapshot, shard set (complete and not); any other folder is an error", async () => {
    const t = tempDir();
    try {
      const d = await identify(writeDiffusersFolder(join(t.dir, "sd15")));
      assert.equal(d.format, "diffusers");
      assert.equal(d.modelType, "diffusion");
      assert.equal(d.family, "sd1");
      assert.deepEqual(d.folder!.components, ["text_encoder", "unet", "vae"]);
      assert.ok(d.folder!.files.includes("unet/diffusion_pytorch_model.safetensors"));

      const snap = join(t.dir, "snapshot");
      writeSafetensorsModel(join(snap, "model.safetensors"));
      writeFileSync(join(snap, "config.json"), JSON.stringify({ model_type: "qwen2", architectures: ["Qwen2ForCausalLM"], max_position_embeddings: 32768 }));
      writeFileSync(join(snap, "tokenizer.json"), "{}");
      const s = await identify(snap);
      assert.equal(s.folder!.kind, "hf-snapshot");
      assert.equal(s.family, "qwen2", "config.json beats tensor names");
      assert.equal(s.modelType, "llm");
      assert.equal(s.folder!.complete, true);

      const sets = join(t.dir, "sets");
      writeShardSet(sets, "model", 3);
      const complete = await identify(sets);
      assert.equal(complete.folder!.kind, "shard-set");
      assert.equal(complete.folder!.weightFiles.length, 3);
      assert.equal(complete.folder!.complete, true);
      assert.ok(complete.parameterCount! > 0);

      const partial = join(t.dir, "partial");
      writeShardSet(partial, "model", 4, [2, 4]);
      const p = await identify(partial);
      assert.equal(p.folder!.complete, false);
      assert.deepEqual(p.folder!.missingFiles, ["model-00002-of-00004.safetensors", "model-00004-of-00004.safetensors"]);

      const mixed = join(t.dir, "mixed");
      writeGgufModel(join(mixed, "a.gguf"), "A", 1);
      writeGgufModel(join(mixed, "b.gguf"), "B", 2);
      await assert.rejects(identify(mixed), /not a single-model folder/);
      await assert.rejects(identify(join(t.dir, "nope")), (e: Error & { code?: string }) => e.code === "E_NOT_FOUND");
      mkdirSync(join(t.dir, "empty"));
      await assert.rejects(identify(join(t.dir, "empty")), /not a single-model folder/);
    } finally {
      t.cleanup();
    }
  });
});
