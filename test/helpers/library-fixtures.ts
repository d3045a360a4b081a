// Small real-format model files for the library tests: a GGUF, safetensors checkpoints/LoRAs, shard sets,
// a diffusers folder, a zip pickle and an LFS pointer. Every file is written fresh into a temp folder.
import { mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from "node:fs";
import type { TestContext } from "node:test";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { buildTinyLlamaGguf } from "../../src/demo/gguf-writer.js";
import { buildSafetensors, type TensorSpec } from "../../src/demo/safetensors-writer.js";
import { buildStoredZip } from "../../src/demo/zip-writer.js";
import { ModelLibrary } from "../../src/store/model-library.js";

export function tempDir(prefix = "mlib-"): { dir: string; cleanup: () => void } {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A temp folder in memory (/dev/shm, a tmpfs) where there is a writable one, else as tempDir: for tests that make
 * thousands of small files and whose point is not the disk. Making and removing 2,000 model folders takes ~7 s
 * on a busy virtual disk and ~0.3 s there. Everything stays on one filesystem (renames stay renames).
 */
export function memoryTempDir(prefix = "mlib-"): { dir: string; cleanup: () => void } {
  let dir: string;
  try {
    dir = mkdtempSync(join("/dev/shm", prefix));
  } catch {
    return tempDir(prefix);
  }
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

/**
 * A temp folder on another filesystem than `beside` (in /dev/shm), for the cross-filesystem paths; null, with the
 * test skipped and the reason said, where there is none.
 */
export function otherFilesystemDir(t: TestContext, prefix: string, beside: string): { dir: string; cleanup: () => void } | null {
  let dir: string;
  try {
    dir = mkdtempSync(join("/dev/shm", prefix));
  } catch {
    t.skip("no writable /dev/shm here: skipped");
    return null;
  }
  const cleanup = () => rmSync(dir, { recursive: true, force: true });
  if (statSync(dir).dev === statSync(beside).dev) {
    cleanup();
    t.skip("/dev/shm is on the temp folder's filesystem here: skipped");
    return null;
  }
  return { dir, cleanup };
}

function put(path: string, data: Buffer | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

/** A new library in a temp folder (`<tmp>/lib`) and a place for sources (`<tmp>/src`); both removed after `fn`. */
export async function withLibrary<T>(fn: (lib: ModelLibrary, src: string) => Promise<T>): Promise<T> {
  const t = tempDir();
  const lib = await ModelLibrary.open(join(t.dir, "lib"));
  try {
    return await fn(lib, join(t.dir, "src"));
  } finally {
    lib.close();
    t.cleanup();
  }
}

export function writeGgufModel(path: string, name = "Tiny Llama", seed?: number): string {
  return put(path, buildTinyLlamaGguf({ name, fileType: 15, contextLength: 4096, seed }));
}

/** A small llama-style transformer checkpoint (names and shapes of a real one, tiny widths). */
export function llamaTensors(layers = 2, width = 16, seed = 1): TensorSpec[] {
  const t: TensorSpec[] = [{ name: "model.embed_tokens.weight", dtype: "F16", shape: [64, width], data: bytes(64 * width * 2, seed) }];
  for (let i = 0; i < layers; i++) {
    for (const p of ["q_proj", "k_proj", "v_proj", "o_proj"]) {
      t.push({ name: `model.layers.${i}.self_attn.${p}.weight`, dtype: "F16", shape: [width, width], data: bytes(width * width * 2, seed + i) });
    }
    for (const p of ["gate_proj", "up_proj", "down_proj"]) {
      t.push({ name: `model.layers.${i}.mlp.${p}.weight`, dtype: "F16", shape: [width, width], data: bytes(width * width * 2, seed + 7 * i) });
    }
    t.push({ name: `model.layers.${i}.input_layernorm.weight`, dtype: "F16", shape: [width] });
  }
  t.push({ name: "lm_head.weight", dtype: "F16", shape: [64, width], data: bytes(64 * width * 2, seed + 99) });
  return t;
}

export function writeSafetensorsModel(path: string, tensors: TensorSpec[] = llamaTensors(), metadata?: Record<string, string>): string {
  return put(path, buildSafetensors(tensors, metadata ?? { format: "pt" }));
}

/** A kohya-style SD1 LoRA: lora_unet_/lora_te_ keys, down/up pairs and alphas; 768-wide cross-attention. */
export function writeKohyaLora(path: string, seed = 3): string {
  const t: TensorSpec[] = [];
  const rank = 4;
  for (const block of ["down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k", "up_blocks_1_attentions_0_transformer_blocks_0_attn2_to_v"]) {
    t.push({ name: `lora_unet_${block}.lora_down.weight`, dtype: "F16", shape: [rank, 768], data: bytes(rank * 768 * 2, seed) });
    t.push({ name: `lora_unet_${block}.lora_up.weight`, dtype: "F16", shape: [320, rank], data: bytes(320 * rank * 2, seed + 1) });
    t.push({ name: `lora_unet_${block}.alpha`, dtype: "F16", shape: [] });
  }
  t.push({ name: "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight", dtype: "F16", shape: [rank, 768] });
  t.push({ name: "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight", dtype: "F16", shape: [768, rank] });
  t.push({ name: "lora_te_text_model_encoder_layers_0_self_attn_q_proj.alpha", dtype: "F16", shape: [] });
  return put(path, buildSafetensors(t, { ss_network_module: "networks.lora", ss_network_dim: String(rank) }));
}

/** `count` shards named `<base>-0000i-of-0000n.safetensors` in `dir`; returns their paths. */
export function writeShardSet(dir: string, base: string, count: number, skip: number[] = []): string[] {
  const all = llamaTensors(count, 16, 11);
  const per = Math.ceil(all.length / count);
  const out: string[] = [];
  for (let i = 1; i <= count; i++) {
    if (skip.includes(i)) continue;
    const name = `${base}-${String(i).padStart(5, "0")}-of-${String(count).padStart(5, "0")}.safetensors`;
    out.push(put(join(dir, name), buildSafetensors(all.slice((i - 1) * per, i * per), { format: "pt" })));
  }
  return out;
}

/** A minimal diffusers pipeline folder: model_index.json + unet/vae/text_encoder folders with configs and weights. */
export function writeDiffusersFolder(dir: string): string {
  put(join(dir, "model_index.json"), JSON.stringify({
    _class_name: "StableDiffusionPipeline",
    _diffusers_version: "0.30.0",
    unet: ["diffusers", "UNet2DConditionModel"],
    vae: ["diffusers", "AutoencoderKL"],
    text_encoder: ["transformers", "CLIPTextModel"],
    safety_checker: [null, null],
  }));
  put(join(dir, "unet", "config.json"), JSON.stringify({ cross_attention_dim: 768 }));
  put(join(dir, "unet", "diffusion_pytorch_model.safetensors"), buildSafetensors([
    { name: "down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.weight", dtype: "F16", shape: [320, 768], data: bytes(320 * 768 * 2, 5) },
    { name: "mid_block.resnets.0.conv1.weight", dtype: "F16", shape: [8, 8, 3, 3] },
  ]));
  put(join(dir, "vae", "config.json"), JSON.stringify({ latent_channels: 4 }));
  put(join(dir, "vae", "diffusion_pytorch_model.safetensors"), buildSafetensors([
    { name: "encoder.down_blocks.0.resnets.0.conv1.weight", dtype: "F16", shape: [8, 8, 3, 3], data: bytes(8 * 8 * 9 * 2, 6) },
    { name: "decoder.up_blocks.0.resnets.0.conv1.weight", dtype: "F16", shape: [8, 8, 3, 3] },
  ]));
  put(join(dir, "text_encoder", "config.json"), JSON.stringify({ model_type: "clip_text_model" }));
  put(join(dir, "text_encoder", "model.safetensors"), buildSafetensors([
    { name: "text_model.encoder.layers.0.self_attn.q_proj.weight", dtype: "F16", shape: [16, 16], data: bytes(16 * 16 * 2, 7) },
  ]));
  return dir;
}

/** A PyTorch-style zip holding a pickle (never unpickled by us). */
export function writeZipPickle(path: string): string {
  const pickle = Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]); // protocol 2, empty dict
  return put(path, buildStoredZip([
    { name: "archive/data.pkl", data: pickle },
    { name: "archive/version", data: Buffer.from("3\n") },
  ]));
}

export function writeLfsPointer(path: string): string {
  return put(path, "version https://git-lfs.github.com/spec/v1\noid sha256:16c3724582d59aa8b1f0b3e5a0cbd3ef13f5d2e1d0e6e0f6a8a6c2b7a0e5d4c3\nsize 723869\n");
}

/** Deterministic pseudo-random bytes (so two fixtures differ in content only when their seeds differ). */
export function bytes(n: number, seed: number): Uint8Array {
  const out = new Uint8Array(n);
  let x = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i < n; i++) {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    out[i] = x & 0xff;
  }
  return out;
}
