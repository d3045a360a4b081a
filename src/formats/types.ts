// The shapes identification produces. Readers for each format return a Partial<Identification>
// that identify() merges onto a blank record; JSON output is this object as it is (camelCase, null when absent).

export type Format = "gguf" | "ggml" | "safetensors" | "pickle" | "onnx" | "diffusers" | "lfs-pointer" | "unknown";
export type SecurityTier = "safe" | "pickle" | "unknown";
export type ModelType = "llm" | "diffusion" | "embedding" | "audio" | "vision" | "unknown";
/** Known subtypes; metadata may hold other strings. */
export type Subtype = "checkpoints" | "diffusion_models" | "loras" | "vae" | "controlnet" | "ipadapter" | "embeddings" | "upscale" | "clip" | "t5";
export type LoraFormat = "kohya" | "diffusers" | "peft" | "xlabs" | "lokr" | "loha" | "mlx";

export const MODEL_TYPES: readonly ModelType[] = ["llm", "diffusion", "embedding", "audio", "vision", "unknown"];
export const SUBTYPES: readonly Subtype[] = ["checkpoints", "diffusion_models", "loras", "vae", "controlnet", "ipadapter", "embeddings", "upscale", "clip", "t5"];

export interface ShardInfo {
  /** 1-based index of this file in its set. */
  index: number;
  /** Declared number of shards, or null when the name does not say (`.partN`, `_00001`). */
  total: number | null;
  /** The set's key: base name + extension, e.g. `model.safetensors`. */
  setKey: string;
}

export interface OnnxInfo {
  irVersion: number | null;
  producerName: string | null;
  producerVersion: string | null;
  domain: string | null;
  modelVersion: number | null;
  opsetImports: { domain: string; version: number }[];
  /** Files beside the .onnx that hold weights (initializers' external_data "location"), as written; absent when none. */
  externalData?: string[];
}

export interface LfsPointerInfo {
  oid: string; // "sha256:<hex>"
  size: number;
}

/** A folder that holds one model: diffusers pipeline, HF snapshot, or a shard set. */
export interface FolderInfo {
  kind: "diffusers" | "hf-snapshot" | "shard-set";
  /** Weight files that make up the model, relative to the folder, `/`-separated. */
  weightFiles: string[];
  /** Every file of the model (weights, configs, tokenizers), relative, `/`-separated. */
  files: string[];
  complete: boolean;
  /** Names of shard files the set or index declares but the folder lacks. */
  missingFiles: string[];
  /** diffusers: the component folders (unet, vae, text_encoder...). */
  components: string[] | null;
  /** Weight files whose bytes are pickle (can run code when loaded): the folder's tier is then "pickle". */
  pickleFiles?: string[];
  /** Shards whose bytes say they belong to another model (another architecture or format); import refuses the set. */
  foreignShards?: { file: string; why: string }[];
}

export interface Identification {
  path: string;
  format: Format;
  securityTier: SecurityTier;
  modelType: ModelType;
  subtype: string | null;
  family: string | null;
  architecture: string | null;
  name: string | null;
  quantization: string | null;
  parameterCount: number | null;
  contextLength: number | null;
  ggufVersion: number | null;
  tensorCount: number | null;
  fileSize: number;
  shard: ShardInfo | null;
  // What else is known (null when the format does not carry it):
  embeddingLength: number | null;
  blockCount: number | null;
  tokenizerModel: string | null;
  hasChatTemplate: boolean | null;
  /** safetensors: the set of tensor dtypes (sorted); gguf: the set of tensor type names. */
  dtypes: string[] | null;
  loraFormat: LoraFormat | null;
  /** safetensors `__metadata__` (string map), or null. */
  metadata: Record<string, string> | null;
  onnx: OnnxInfo | null;
  /** zip-pickle: the archive's entry names, e.g. `archive/data.pkl`. */
  pickleEntries: string[] | null;
  lfsPointer: LfsPointerInfo | null;
  folder: FolderInfo | null;
  /** Things the user should know that are not errors (e.g. "LFS pointer: never downloaded", "duplicate key"). */
  warnings: string[];
}

export function securityTierOf(format: Format): SecurityTier {
  switch (format) {
    case "gguf":
    case "ggml":
    case "safetensors":
    case "onnx":
    case "diffusers":
      return "safe";
    case "pickle":
      return "pickle";
    default:
      return "unknown";
  }
}

export function blankIdentification(path: string, fileSize: number): Identification {
  return {
    path,
    format: "unknown",
    securityTier: "unknown",
    modelType: "unknown",
    subtype: null,
    family: null,
    architecture: null,
    name: null,
    quantization: null,
    parameterCount: null,
    contextLength: null,
    ggufVersion: null,
    tensorCount: null,
    fileSize,
    shard: null,
    embeddingLength: null,
    blockCount: null,
    tokenizerModel: null,
    hasChatTemplate: null,
    dtypes: null,
    loraFormat: null,
    metadata: null,
    onnx: null,
    pickleEntries: null,
    lfsPointer: null,
    folder: null,
    warnings: [],
  };
}

/** Copies a reader's answer onto a record; warnings add up rather than replace each other. */
export function mergeIdentification(result: Identification, partial: Partial<Identification>): void {
  const warnings = [...result.warnings, ...(partial.warnings ?? [])];
  Object.assign(result, partial);
  result.warnings = warnings;
}
