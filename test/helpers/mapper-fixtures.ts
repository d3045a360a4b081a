// A library of tiny models for the mapper tests: metadata.json + small files written directly (no import),
// then opened so the index picks them up. Model kinds cover every built-in profile rule.
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../src/store/model-library.js";

export interface TinyModel {
  id: string;
  model_type: string;
  subtype?: string | null;
  family?: string | null;
  format?: string | null;
  tags?: string[];
  repo_id?: string | null;
  /** Default: the id's last segment. */
  official_name?: string | null;
  /** A GGUF's general.name when the model is named otherwise (import records it so). */
  description?: string | null;
  /** File name → content. */
  files: Record<string, string>;
}

export function writeTinyModel(root: string, m: TinyModel): string {
  const dir = join(root, ...m.id.split("/"));
  mkdirSync(dir, { recursive: true });
  for (const [name, content] of Object.entries(m.files)) {
    mkdirSync(join(dir, name, ".."), { recursive: true });
    writeFileSync(join(dir, name), content);
  }
  const meta = {
    model_id: m.id,
    family: m.family ?? null,
    model_type: m.model_type,
    subtype: m.subtype ?? null,
    official_name: m.official_name === undefined ? m.id.split("/").pop() : m.official_name,
    cleaned_name: m.id.split("/").pop(),
    tags: m.tags ?? [],
    format: m.format ?? null,
    repo_id: m.repo_id ?? null,
    ...(m.description === undefined ? {} : { description: m.description }),
    size_bytes: Object.values(m.files).reduce((a, c) => a + Buffer.byteLength(c), 0),
    files: Object.entries(m.files).map(([name, c]) => ({ name, original_name: null, size: Buffer.byteLength(c), sha256: null, blake3: null })),
  };
  writeFileSync(join(dir, "metadata.json"), JSON.stringify(meta, null, 2));
  return dir;
}

export const STANDARD_MODELS: TinyModel[] = [
  { id: "diffusion/sdxl/juggernaut", model_type: "diffusion", subtype: "checkpoints", family: "sdxl", format: "safetensors", files: { "juggernaut.safetensors": "ckpt-bytes" } },
  { id: "diffusion/sdxl/detail_lora", model_type: "diffusion", subtype: "loras", family: "sdxl", format: "safetensors", files: { "detail.safetensors": "lora-bytes" } },
  { id: "diffusion/sd15/easyneg", model_type: "diffusion", subtype: "embeddings", family: "sd15", format: "safetensors", files: { "easyneg.safetensors": "emb" } },
  { id: "diffusion/flux/flux_dev_diffusers", model_type: "diffusion", subtype: "checkpoints", family: "flux", format: "diffusers", files: { "model_index.json": "{}", "unet/diffusion_pytorch_model.safetensors": "unet" } },
  { id: "llm/llama/tiny_llama", model_type: "llm", family: "llama", format: "gguf", repo_id: "TheBloke/TinyLlama-GGUF", files: { "tinyllama.Q4_K_M.gguf": "gguf-bytes" } },
  {
    id: "llm/qwen/qwen_big",
    model_type: "llm",
    family: "qwen",
    format: "gguf",
    files: { "qwen-big-00001-of-00002.gguf": "shard1", "qwen-big-00002-of-00002.gguf": "shard2" },
  },
];

export async function tinyLibrary(root: string, models: TinyModel[] = STANDARD_MODELS): Promise<ModelLibrary> {
  for (const m of models) writeTinyModel(root, m);
  return ModelLibrary.open(root, { reconcile: "full" });
}
