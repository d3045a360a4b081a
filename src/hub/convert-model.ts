// A Hub API model item → the HubModel the CLI, the cache and the web page show (as the original did): formats and
// quants from tags (then from file names), a kind from pipeline_tag or the config, compatible engines from
// the formats, and — once the tree is known — download options per quant with every shard's size summed
// (the original reported a sharded quant's first shard only).
import { extractBaseName } from "../formats/naming.js";

export interface DownloadOption {
  quant: string;
  sizeBytes: number | null;
  /** Every file of the option (all shards of a split quant). */
  files: string[];
}

export interface HubModel {
  repoId: string;
  name: string;
  developer: string;
  kind: string;
  formats: string[];
  quants: string[];
  downloadOptions: DownloadOption[];
  url: string;
  releaseDate: string | null;
  downloads: number | null;
  likes: number | null;
  totalSizeBytes: number | null;
  compatibleEngines: string[];
  tags: string[];
  gated: boolean;
}

/** The fields of an /api/models item we read (search with expand, or model info). */
export interface ApiModelItem {
  id: string;
  modelId?: string;
  tags?: string[];
  pipeline_tag?: string;
  library_name?: string;
  lastModified?: string;
  downloads?: number;
  likes?: number;
  gated?: boolean | string;
  sha?: string;
  siblings?: { rfilename: string }[];
  config?: { architectures?: string[]; model_type?: string } | null;
  cardData?: Record<string, unknown> | null;
}

/** A file of the repo tree (tree entries name the LFS sha256 `lfs.oid`). */
export interface RepoFile {
  path: string;
  size: number;
  /** SHA-256 of the content, for LFS files; null for plain git files. */
  sha256: string | null;
  lfs: boolean;
  /**
   * The git blob sha1 of a plain git (non-LFS) file, from the tree's `oid`: what checks a downloaded config.json or
   * tokenizer.json. Null for LFS files (their oid is the pointer's), absent in trees cached before it was kept.
   */
  gitSha1?: string | null;
}

const FORMAT_TAGS = ["gguf", "safetensors", "pytorch", "onnx"];
const QUANT_TAGS = ["fp16", "fp32", "bf16", "int8", "int4"];
// The original's regex, widened to the i-quants (IQ4_XS) and llama.cpp's upper-case float types (F16, BF16).
// llama.cpp quants in either case (Qwen's own repos name them `qwen2.5-7b-instruct-q4_k_m.gguf`); found as Q4_K_M.
const QUANT_IN_NAME = /[._-]([Ii]?[Qq]\d+_[A-Za-z0-9_]*[A-Za-z0-9]|[Qq]\d+|BF16|F16|F32|fp16|fp32|bf16|int8|int4)(?=[._-]|$)/g;
const WEIGHT_FILE = /\.(gguf|safetensors|bin)$/i;

const SUFFIX_KINDS: [string, string][] = [
  ["ForConditionalGeneration", "text2text-generation"],
  ["ForSequenceClassification", "text-classification"],
  ["ForSemanticSegmentation", "image-segmentation"],
  ["ForImageClassification", "image-classification"],
  ["ForAudioClassification", "audio-classification"],
  ["ForTokenClassification", "token-classification"],
  ["ForQuestionAnswering", "question-answering"],
  ["ForFeatureExtraction", "feature-extraction"],
  ["ForObjectDetection", "object-detection"],
  ["ForSpeechSeq2Seq", "automatic-speech-recognition"],
  ["ForCausalLM", "text-generation"],
  ["ForMaskedLM", "fill-mask"],
];

const MODEL_TYPE_KINDS: Record<string, string[]> = {
  "text-generation": (
    "llama mistral mixtral gpt2 gpt_neo gpt_neox gptj phi phi3 phimoe qwen2 qwen2_moe qwen3 qwen3_moe gemma gemma2 gemma3 " +
    "deepseek_v2 deepseek_v3 falcon falcon_mamba mpt bloom opt codegen starcoder2 cohere cohere2 command-r internlm2 internlm3 " +
    "olmo olmo2 rwkv rwkv5 rwkv6 mamba mamba2 jamba sdar recurrentgemma dbrx stablelm persimmon xglm gpt_bigcode"
  ).split(" "),
  "text2text-generation": "t5 bart mbart mt5 longt5 pegasus led bigbird_pegasus flan-t5".split(" "),
  "text-to-image": "stable_diffusion sdxl kandinsky pixart".split(" "),
  "automatic-speech-recognition": "whisper wav2vec2 hubert wavlm seamless_m4t".split(" "),
  "zero-shot-image-classification": "clip siglip blip blip2".split(" "),
  "image-classification": "vit swin convnext deit beit dinov2".split(" "),
  "fill-mask": "bert roberta distilbert albert electra deberta deberta_v2 xlm_roberta camembert flaubert".split(" "),
};

/** kind from `architectures[0]`'s suffix, else from `model_type` (the original's tables); null when neither says. */
export function kindFromConfig(config: ApiModelItem["config"]): string | null {
  const arch = config?.architectures?.[0];
  if (arch) for (const [suffix, kind] of SUFFIX_KINDS) if (arch.endsWith(suffix)) return kind;
  const mt = config?.model_type;
  if (mt) for (const [kind, types] of Object.entries(MODEL_TYPE_KINDS)) if (types.includes(mt)) return kind;
  return null;
}

/** The CLI's `--kind` words → the pipeline_tag sent (the original's mapping); anything else is passed as it is. */
export function pipelineTagOfKind(kind: string): string {
  switch (kind.toLowerCase()) {
    case "llm":
    case "text-generation":
      return "text-generation";
    case "diffusion":
    case "text-to-image":
      return "text-to-image";
    case "image-to-image":
      return "image-to-image";
    case "audio":
    case "automatic-speech-recognition":
      return "automatic-speech-recognition";
    case "embedding":
    case "feature-extraction":
      return "feature-extraction";
    default:
      return kind;
  }
}

/** A Hub kind (pipeline tag) → the library's model type, for where a download lands. */
export function modelTypeOfKind(kind: string | null | undefined): string {
  switch (kind) {
    case "text-generation":
    case "text2text-generation":
    case "conversational":
    case "image-text-to-text":
      return "llm";
    case "text-to-image":
    case "image-to-image":
    case "unconditional-image-generation":
      return "diffusion";
    case "feature-extraction":
    case "sentence-similarity":
      return "embedding";
    case "automatic-speech-recognition":
    case "text-to-speech":
    case "audio-classification":
    case "text-to-audio":
      return "audio";
    case "image-classification":
    case "zero-shot-image-classification":
    case "object-detection":
    case "image-segmentation":
      return "vision";
    default:
      return "unknown";
  }
}

export function compatibleEngines(formats: string[]): string[] {
  const engines = new Set<string>();
  for (const f of formats) {
    if (f === "gguf") ["ollama", "llama.cpp"].forEach((e) => engines.add(e));
    else if (f === "ggml") engines.add("llama.cpp");
    else if (f === "safetensors") ["candle", "transformers", "diffusers"].forEach((e) => engines.add(e));
    else if (f === "pytorch" || f === "bin") ["transformers", "diffusers"].forEach((e) => engines.add(e));
    else if (f === "onnx") engines.add("onnx-runtime");
    else if (f === "tensorrt") engines.add("tensorrt");
  }
  return [...engines].sort();
}

/** Every quant named in a file name (`model-Q4_K_M.gguf` → ["Q4_K_M"]). */
export function quantsInName(name: string): string[] {
  return [...name.matchAll(QUANT_IN_NAME)].map((m) => (/^i?q\d/i.test(m[1]) ? m[1].toUpperCase() : m[1]));
}

export function toHubModel(item: ApiModelItem, endpoint: string): HubModel {
  const id = item.id ?? item.modelId ?? "";
  const tags = item.tags ?? [];
  const formats = tags.filter((t) => FORMAT_TAGS.includes(t));
  let quants = tags.filter((t) => (t.startsWith("Q") && t.includes("_")) || QUANT_TAGS.includes(t));
  if (quants.length === 0) {
    const names = (item.siblings ?? []).map((s) => s.rfilename).filter((n) => WEIGHT_FILE.test(n));
    quants = [...new Set(names.flatMap((n) => quantsInName(n.slice(n.lastIndexOf("/") + 1))))].sort();
  }
  return {
    repoId: id,
    name: id.slice(id.lastIndexOf("/") + 1),
    developer: id.includes("/") ? id.slice(0, id.indexOf("/")) : "",
    kind: item.pipeline_tag ?? kindFromConfig(item.config) ?? "unknown",
    formats,
    quants,
    downloadOptions: [],
    url: `${endpoint}/${id}`,
    releaseDate: item.lastModified ?? null,
    downloads: typeof item.downloads === "number" ? item.downloads : null,
    likes: typeof item.likes === "number" ? item.likes : null,
    totalSizeBytes: null,
    compatibleEngines: compatibleEngines(formats),
    tags,
    gated: Boolean(item.gated),
  };
}

/** The quant (or, without one, the base name) a weight file belongs to. */
export function optionNameOf(path: string, knownQuants: string[]): string {
  const name = path.slice(path.lastIndexOf("/") + 1);
  const found = quantsInName(name);
  if (found.length > 0) return found[found.length - 1];
  const sub = knownQuants.find((q) => name.includes(q));
  if (sub) return sub;
  return extractBaseName(name) || name;
}

/** Download options from the tree: LFS weight files grouped by quant, shard sizes summed, sorted by quant. */
export function downloadOptions(files: RepoFile[], knownQuants: string[]): DownloadOption[] {
  const byQuant = new Map<string, DownloadOption>();
  for (const f of files) {
    if (!f.lfs || !WEIGHT_FILE.test(f.path)) continue;
    const quant = optionNameOf(f.path, knownQuants);
    const opt = byQuant.get(quant) ?? { quant, sizeBytes: 0, files: [] };
    opt.sizeBytes = (opt.sizeBytes ?? 0) + f.size;
    opt.files.push(f.path);
    byQuant.set(quant, opt);
  }
  return [...byQuant.values()].sort((a, b) => (a.quant < b.quant ? -1 : a.quant > b.quant ? 1 : 0));
}

/** Fills a model's download options and total size from its tree. */
export function enrichWithTree(model: HubModel, files: RepoFile[]): HubModel {
  const options = downloadOptions(files, model.quants);
  const lfs = files.filter((f) => f.lfs);
  return {
    ...model,
    downloadOptions: options,
    totalSizeBytes: lfs.length > 0 ? lfs.reduce((a, f) => a + f.size, 0) : null,
    quants: model.quants.length > 0 ? model.quants : options.map((o) => o.quant).filter((q) => quantsInName(`-${q}.`).length > 0),
  };
}
