// The Hugging Face `config.json` beside a weights file says what the model is more reliably than
// tensor names (many architectures share llama-style names), so identification asks it first.
// Read bounded; a broken config is a warning, never a failed identification.
import { open, stat } from "node:fs/promises";
import { join } from "node:path";
import type { ModelType, Subtype } from "./types.js";

export const HF_CONFIG_CAP = 4 * 1024 * 1024;

export interface HfConfig {
  /** transformers: e.g. "llama", "qwen2", "bert", "whisper", "clip_text_model". */
  model_type?: unknown;
  /** transformers: e.g. ["LlamaForCausalLM"]. */
  architectures?: unknown;
  /** diffusers component configs: e.g. "UNet2DConditionModel", "AutoencoderKL". */
  _class_name?: unknown;
  /** Set by readHfConfig (camelCase: ours, not the file's) when `config_sentence_transformers.json` is beside it. */
  isSentenceTransformers?: boolean;
  [key: string]: unknown;
}

/**
 * Reads `<dir>/config.json` (at most 4 MiB) and notes a `config_sentence_transformers.json` beside it.
 * Returns null when neither says anything; unreadable or invalid JSON adds a warning to `warnings`.
 */
export async function readHfConfig(dir: string, warnings: string[] = []): Promise<HfConfig | null> {
  const sentence = await exists(join(dir, "config_sentence_transformers.json"));
  const file = join(dir, "config.json");
  const text = await readBounded(file, HF_CONFIG_CAP, warnings);
  let config: HfConfig | null = null;
  if (text !== null) {
    try {
      const parsed: unknown = JSON.parse(text);
      if (typeof parsed === "object" && parsed !== null && !Array.isArray(parsed)) config = parsed as HfConfig;
      else warnings.push(`${file}: ignored: the JSON is not an object`);
    } catch (e) {
      warnings.push(`${file}: ignored: not valid JSON (${(e as Error).message})`);
    }
  }
  if (sentence) return { ...(config ?? {}), isSentenceTransformers: true };
  return config;
}

/** The family a config names: its lowercased `model_type`, else one read from a diffusers class name. */
export function familyFromConfig(config: HfConfig | null | undefined): string | null {
  if (!config) return null;
  if (typeof config.model_type === "string" && config.model_type.trim() !== "") return config.model_type.trim().toLowerCase();
  const cls = diffusersClass(config);
  if (cls) {
    if (/^Flux/i.test(cls)) return "flux";
    if (/^SD3/i.test(cls)) return "sd3";
  }
  return null;
}

/** What kind of model the config describes, or null when it does not say. */
export function modelTypeFromConfig(config: HfConfig | null | undefined): ModelType | null {
  if (!config) return null;
  if (config.isSentenceTransformers) return "embedding";
  if (diffusersClass(config) || subtypeFromConfig(config)) return "diffusion";
  for (const arch of architectures(config)) {
    if (/^(Whisper|Wav2Vec2|Hubert|WavLM|SpeechT5|Speech2Text|Encodec|Clap|Seamless|Audio)/.test(arch) || /Audio|Speech|CTC$/.test(arch)) return "audio";
    if (/^(ViT|DeiT|BEiT|Dinov2|ConvNext|ResNet|Swin|Siglip\w*Vision|CLIPVision|Dpt|Detr|Yolos|MobileViT|Segformer)/.test(arch)) return "vision";
    if (/For(ImageClassification|ObjectDetection|SemanticSegmentation|DepthEstimation)$/.test(arch)) return "vision";
    if (/For(CausalLM|ConditionalGeneration|Seq2SeqLM)$|LMHeadModel$/.test(arch)) return "llm";
    // Encoder-only backbones and their fine-tunes are used for embeddings, retrieval and reranking.
    if (/^(Bert|Roberta|XLMRoberta|DistilBert|MPNet|NomicBert|Electra|Deberta\w*|Albert|ModernBert|CLIP|Siglip)(Model|ForMaskedLM|ForSequenceClassification)$/.test(arch)) return "embedding";
  }
  const mt = typeof config.model_type === "string" ? config.model_type.toLowerCase() : "";
  if (/^(bert|roberta|xlm-roberta|distilbert|mpnet|nomic_bert|electra|deberta(-v2)?|albert|modernbert)$/.test(mt)) return "embedding";
  if (/^(whisper|wav2vec2|hubert|wavlm|encodec|clap)$/.test(mt)) return "audio";
  if (/^(vit|deit|beit|dinov2|convnext|resnet|swin|clip_vision_model|siglip_vision_model)$/.test(mt)) return "vision";
  return null;
}

/** Text encoders and diffusers components a config identifies (a FLUX `text_encoder_2/` is T5EncoderModel). */
export function subtypeFromConfig(config: HfConfig | null | undefined): Subtype | null {
  if (!config || config.isSentenceTransformers) return null;
  const cls = diffusersClass(config);
  if (cls) {
    if (/^Autoencoder/.test(cls)) return "vae";
    if (/ControlNet/.test(cls)) return "controlnet";
    // A UNet or transformer alone (a pipeline's unet/ or transformer/): a diffusion model, not an all-in-one checkpoint.
    if (/(UNet|Transformer)\dD(?:Condition)?Model$|Transformer2DModel$/.test(cls)) return "diffusion_models";
  }
  for (const arch of architectures(config)) {
    if (/^CLIPTextModel(WithProjection)?$/.test(arch)) return "clip";
    if (/^(T5|UMT5)EncoderModel$/.test(arch)) return "t5";
  }
  return null;
}

function architectures(config: HfConfig): string[] {
  return Array.isArray(config.architectures) ? config.architectures.filter((a): a is string => typeof a === "string") : [];
}

function diffusersClass(config: HfConfig): string | null {
  return typeof config._class_name === "string" ? config._class_name : null;
}

async function exists(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

/** The file's text, or null when it is absent, too large or unreadable (the last two with a warning). */
async function readBounded(path: string, cap: number, warnings: string[]): Promise<string | null> {
  let fh;
  try {
    fh = await open(path, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "ENOENT" && code !== "ENOTDIR") warnings.push(`${path}: ignored: cannot open (${code ?? String(e)})`);
    return null;
  }
  try {
    const info = await fh.stat();
    if (!info.isFile()) {
      warnings.push(`${path}: ignored: not a regular file`);
      return null;
    }
    if (info.size > cap) {
      warnings.push(`${path}: ignored: ${info.size} bytes is beyond the ${cap}-byte cap for a config file`);
      return null;
    }
    // Read at most cap+1 bytes: the file may grow between stat and read.
    const buf = Buffer.alloc(Math.min(info.size, cap) + 1);
    let done = 0;
    while (done < buf.length) {
      const { bytesRead } = await fh.read(buf, done, buf.length - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    if (done > cap) {
      warnings.push(`${path}: ignored: grew beyond the ${cap}-byte cap for a config file`);
      return null;
    }
    return buf.subarray(0, done).toString("utf8");
  } catch (e) {
    warnings.push(`${path}: ignored: cannot read (${(e as NodeJS.ErrnoException).code ?? String(e)})`);
    return null;
  } finally {
    await fh.close();
  }
}

const TORCH_DTYPES: Record<string, { name: string; bytes: number }> = {
  float32: { name: "F32", bytes: 4 },
  float: { name: "F32", bytes: 4 },
  float16: { name: "F16", bytes: 2 },
  half: { name: "F16", bytes: 2 },
  bfloat16: { name: "BF16", bytes: 2 },
  float64: { name: "F64", bytes: 8 },
};

/** The weights' dtype a config declares (`torch_dtype`, or `dtype` in newer transformers), as a safetensors dtype name and its width. */
export function dtypeFromConfig(config: HfConfig | null | undefined): { name: string; bytes: number } | null {
  const raw = config?.torch_dtype ?? config?.dtype;
  if (typeof raw !== "string") return null;
  return TORCH_DTYPES[raw.replace(/^torch\./, "").toLowerCase()] ?? null;
}
