// The demo's sample models: a few KiB each, but valid files that any reader of their format accepts — a llama
// GGUF, a kohya SD 1.x LoRA, and a 3-shard safetensors model with its config.json.
import { mkdir, writeFile } from "node:fs/promises";
import { join } from "node:path";
import type { TensorSpec } from "./safetensors-writer.js";

export interface Samples {
  gguf: string;
  lora: string;
  shardFolder: string;
  all: string[];
}

/** Writes the sample models into `dir` (created if needed). */
export async function writeSamples(dir: string): Promise<Samples> {
  const [{ writeTinyLlamaGguf }, { buildSafetensors }] = await Promise.all([import("./gguf-writer.js"), import("./safetensors-writer.js")]);
  await mkdir(dir, { recursive: true });
  const gguf = join(dir, "tiny-llama-demo-F16.gguf");
  await writeTinyLlamaGguf(gguf, { name: "Tiny Llama Demo", contextLength: 2048 });

  const lora = join(dir, "pixel-art-style-lora.safetensors");
  await writeFile(lora, buildSafetensors(kohyaSd1Lora(4), {
    ss_network_module: "networks.lora",
    ss_network_dim: "4",
    ss_network_alpha: "4",
    ss_base_model_version: "sd_v1",
    ss_output_name: "pixel-art-style",
  }));

  const shardFolder = join(dir, "demo-model");
  await mkdir(shardFolder, { recursive: true });
  await writeFile(
    join(shardFolder, "config.json"),
    `${JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 16, num_hidden_layers: 3, max_position_embeddings: 2048, torch_dtype: "float16" }, null, 2)}\n`,
  );
  const shards: string[] = [];
  for (let s = 1; s <= 3; s++) {
    const file = join(shardFolder, `demo-model-0000${s}-of-00003.safetensors`);
    const layer = s - 1;
    const tensors: TensorSpec[] = [
      { name: `model.layers.${layer}.self_attn.q_proj.weight`, dtype: "F16", shape: [16, 16], data: pattern(16 * 16 * 2, s) },
      { name: `model.layers.${layer}.self_attn.k_proj.weight`, dtype: "F16", shape: [16, 16], data: pattern(16 * 16 * 2, s + 10) },
      { name: `model.layers.${layer}.mlp.up_proj.weight`, dtype: "F16", shape: [32, 16], data: pattern(32 * 16 * 2, s + 20) },
    ];
    if (s === 1) tensors.unshift({ name: "model.embed_tokens.weight", dtype: "F16", shape: [32, 16], data: pattern(32 * 16 * 2, 99) });
    await writeFile(file, buildSafetensors(tensors, { format: "pt" }));
    shards.push(file);
  }
  return { gguf, lora, shardFolder, all: [gguf, lora, ...shards] };
}

/** kohya-ss style keys of an SD 1.x LoRA (one UNet attention block, one text-encoder layer), rank `r`. */
function kohyaSd1Lora(r: number): TensorSpec[] {
  const modules: [string, number][] = [
    ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", 320],
    ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k", 320],
    ["lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k", 768],
    ["lora_te_text_model_encoder_layers_0_self_attn_q_proj", 768],
  ];
  const specs: TensorSpec[] = [];
  modules.forEach(([key, dim], i) => {
    specs.push(
      { name: `${key}.alpha`, dtype: "F32", shape: [], data: f32(r) },
      { name: `${key}.lora_down.weight`, dtype: "F16", shape: [r, dim], data: pattern(r * dim * 2, i + 1) },
      { name: `${key}.lora_up.weight`, dtype: "F16", shape: [dim, r], data: pattern(dim * r * 2, i + 50) },
    );
  });
  return specs;
}

function f32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return b;
}

/** Deterministic small F16 values (distinct per seed, so every file has its own content). */
function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i + 1 < bytes; i += 2) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    // sign + a small exponent keeps the halves finite and tiny (about ±0.001..0.03)
    b.writeUInt16LE(((s & 1) << 15) | ((5 + (s % 8)) << 10) | ((s >>> 8) & 0x3ff), i);
  }
  return b;
}
