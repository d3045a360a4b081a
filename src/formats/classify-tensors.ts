// What a set of tensors is, from their names and shapes alone (header only, no weights read).
// Order matters: LoRAs first (their keys embed the base model's names), then the components that
// share names with full models (ControlNets carry UNet blocks, VAEs carry down/up blocks), then
// full diffusion models, encoders and LLMs. A config.json beside the file beats the names.
// Diffusion rules follow InvokeAI's model probe: the cross-attention width tells SD1/SD2/SDXL apart.
import type { Identification, LoraFormat, ModelType } from "./types.js";
import { familyFromConfig, modelTypeFromConfig, subtypeFromConfig, type HfConfig } from "./hf-config.js";

export interface TensorLike {
  name: string;
  shape: readonly number[];
  dtype?: string;
}

export interface ClassifyContext {
  /** config.json beside the file (readHfConfig), which beats tensor names. */
  config?: HfConfig | null;
  /** safetensors `__metadata__`: trainer hints (kohya `ss_*`, `modelspec.*`) used when shapes do not tell. */
  metadata?: Record<string, string> | null;
}

interface Verdict {
  modelType: ModelType;
  subtype: string | null;
  family: string | null;
  loraFormat: LoraFormat | null;
  isLora: boolean;
}

const UNKNOWN: Verdict = { modelType: "unknown", subtype: null, family: null, loraFormat: null, isLora: false };

/** Classifies tensors by names and shapes; see the file comment for the order of the rules. */
export function classifyTensors(tensors: readonly TensorLike[], context: ClassifyContext = {}): Partial<Identification> {
  const ix = new TensorIndex(tensors);
  let v = detectLora(ix) ?? detectStructure(ix) ?? UNKNOWN;
  if (v.family === null && (v.modelType === "diffusion" || v.isLora)) {
    const hinted = familyFromMetadata(context.metadata);
    if (hinted) v = { ...v, family: hinted };
  }
  v = applyConfig(v, context.config);

  const dtypes = [...new Set(tensors.map((t) => t.dtype).filter((d): d is string => typeof d === "string"))].sort();
  const out: Partial<Identification> = {
    modelType: v.modelType,
    subtype: v.subtype,
    family: v.family,
    loraFormat: v.loraFormat,
    parameterCount: tensors.reduce((sum, t) => sum + t.shape.reduce((p, d) => p * d, 1), 0),
    dtypes: dtypes.length > 0 ? dtypes : null,
  };
  if ((v.modelType === "llm" || v.modelType === "embedding") && !v.isLora) {
    const blocks = ix.maxIndex(/(?:^|\.)(?:layers|h|layer|blocks)\.(\d+)\./);
    if (blocks !== null) out.blockCount = blocks + 1;
    const width = ix.vocabTensor()?.[1];
    if (width !== undefined) out.embeddingLength = width;
  }
  Object.assign(out, configNumbers(context.config));
  return out;
}

// ---------------------------------------------------------------------------------------------
// LoRAs and their LyCORIS relatives

/** A LoRA, by its key conventions. */
function detectLora(ix: TensorIndex): Verdict | null {
  const format = loraFormatOf(ix);
  if (format === null) return null;
  const loraFormat = format === "cloneofsimo" ? null : format;
  // MLX and PEFT adapters on decoder layers patch an LLM; the rest patch a diffusion model.
  if (format === "mlx" || (format === "peft" && ix.some(LLM_LAYER))) {
    return { modelType: "llm", subtype: "loras", family: null, loraFormat, isLora: true };
  }
  return { modelType: "diffusion", subtype: "loras", family: loraFamily(ix), loraFormat, isLora: true };
}

const LLM_LAYER = /(?:^|\.)(?:layers|h)\.\d+\.(?:self_attn|mlp|attn|attention|feed_forward|block_sparse_moe)\./;

function loraFormatOf(ix: TensorIndex): LoraFormat | "cloneofsimo" | null {
  // LyCORIS first: such files also use kohya's `lora_unet_` prefixes for the modules.
  if (ix.some(/\.lokr_w[12](?:_[ab])?$/)) return "lokr";
  if (ix.some(/\.hada_w[12]_[ab]$/)) return "loha";
  if (ix.some(/(?:^|\.)(?:double|single)_blocks\.\d+\.processor\.\w+_lora\d*\.(?:down|up)\.weight$/)) return "xlabs";
  if (ix.some(/^lora_(?:unet|te\d?|transformer)_/) || ix.some(/\.lora_(?:down|up)\.weight$/)) return "kohya";
  if (ix.some(/\.lora_[AB](?:\.[\w-]+)?\.weight$/)) {
    // PEFT wraps the base model (`base_model.model.`) and targets decoder layers; diffusers LoRAs
    // (`transformer.`, `unet.`, `text_encoder.`) use the same lora_A/lora_B suffixes.
    return ix.some(/^base_model\.model\./) || ix.some(LLM_LAYER) ? "peft" : "diffusers";
  }
  if (ix.some(/[._]lora\.(?:down|up)\.weight$/)) return "diffusers";
  if (ix.some(/\.lora_[ab]$/)) return "mlx";
  // cloneofsimo/lora (lora_diffusion): `unet:0:down`, `text_encoder:3:up`, pivotal-tuning `<s1>` tokens.
  if (ix.some(/^(?:unet|text_encoder):\d+:(?:up|down)$/)) return "cloneofsimo";
  return null;
}

/** The base model a diffusion LoRA patches. */
function loraFamily(ix: TensorIndex): string | null {
  // FLUX: BFL names (double_blocks/single_blocks) in any spelling, or diffusers' single-stream blocks.
  if (ix.some(/(?:^|[._])(?:double|single)_blocks[._]\d+[._]/) || ix.some(/single_transformer_blocks[._]\d+/)) return "flux";
  if (ix.some(/(?:^|[._])joint_blocks[._]\d+[._]/)) return "sd3";
  const unetLike = ix.some(/(?:down|up|input|output)_blocks[._]\d+|mid(?:dle)?_block/);
  if (!unetLike && ix.some(/(?:^|[._])transformer_blocks[._]\d+[._]/)) {
    // MMDiT blocks without single-stream ones: FLUX is 3072 wide, SD3/3.5 1536 or 2432.
    const width = ix.downWidth(/transformer_blocks[._]\d+[._]attn[._]to_k/);
    if (width === 3072) return "flux";
    if (width !== null) return "sd3";
  }
  if (ix.some(/^lora_te2_|^text_encoder_2\./) || ix.some(/input_blocks[._]4[._]1[._]/)) return "sdxl";
  const context = crossAttentionWidth(ix);
  if (context !== null) return familyFromContextWidth(context);
  // cloneofsimo files have no module names: their down-projection widths include the context width.
  if (ix.some(/^unet:\d+:down$/)) {
    const widths = new Set(ix.matching(/^unet:\d+:down$/).map((t) => t.shape[1]));
    for (const w of [2048, 1024, 768]) if (widths.has(w)) return familyFromContextWidth(w);
  }
  const te = ix.downWidth(/^lora_te_.*self_attn|^text_encoder\.|^text_encoder:\d+:/);
  if (te === 768) return "sd1";
  if (te === 1024) return "sd2";
  return null;
}

/** Width of the text context fed to the UNet's cross-attention (attn2 to_k/to_v inputs). */
function crossAttentionWidth(ix: TensorIndex): number | null {
  return ix.downWidth(/attn2[._](?:processor[._])?to_[kv]/);
}

function familyFromContextWidth(width: number): string | null {
  switch (width) {
    case 768:
      return "sd1";
    case 1024:
      return "sd2";
    case 2048:
      return "sdxl";
    case 1280:
      return "sdxl-refiner";
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Everything that is not a LoRA

const DM = "(?:model\\.diffusion_model\\.)?";

function detectStructure(ix: TensorIndex): Verdict | null {
  const diffusion = (subtype: string | null, family: string | null): Verdict => ({
    modelType: "diffusion",
    subtype,
    family,
    loraFormat: null,
    isLora: false,
  });
  const other = (modelType: ModelType, family: string | null, subtype: string | null = null): Verdict => ({
    modelType,
    subtype,
    family,
    loraFormat: null,
    isLora: false,
  });

  // Adapters that carry base-model block names must be caught before the base models.
  if (ix.some(/ip_adapter|^image_proj\./)) return diffusion("ipadapter", ipAdapterFamily(ix));
  if (
    ix.some(/^control_model\.|(?:^|\.)input_hint_block\.|(?:^|\.)controlnet_cond_embedding\.|(?:^|\.)zero_convs\./) ||
    ix.some(/^controlnet_(?:blocks|x_embedder|single_blocks|mid_block|down_blocks)/)
  ) {
    return diffusion("controlnet", controlnetFamily(ix));
  }

  // Full diffusion models: FLUX, SD3 (MMDiT), then SD1/SD2/SDXL UNets in LDM or diffusers layout. A file that also
  // holds its VAE or text encoder is an all-in-one checkpoint (ComfyUI's checkpoints/, A1111's Stable-diffusion/); the
  // transformer or UNet alone (BFL's flux1-dev.safetensors, an SDXL UNet) is a diffusion model, which ComfyUI loads
  // from diffusion_models/ and a checkpoint loader cannot.
  const bundled = ix.some(/^(?:first_stage_model|vae|cond_stage_model|conditioner|text_encoders?)\./);
  const full = (family: string | null): Verdict => diffusion(bundled ? "checkpoints" : "diffusion_models", family);
  if (ix.some(new RegExp(`^${DM}(?:double_blocks|single_blocks)\\.\\d+\\.`)) || ix.hasAll(/(?:^|\.)img_in\./, /(?:^|\.)txt_in\./, /(?:^|\.)time_in\./)) {
    return full("flux");
  }
  if (ix.some(/^single_transformer_blocks\.\d+\./) && ix.some(/^x_embedder\./)) return full("flux");
  if (ix.some(new RegExp(`^${DM}joint_blocks\\.\\d+\\.`))) return full("sd3");
  if (ix.hasAll(new RegExp(`^${DM}x_embedder\\.`), new RegExp(`^${DM}context_embedder\\.`))) return full("sd3");
  // diffusers' SD3 transformer: joint (add_q_proj) attention blocks fed by a context embedder.
  if (ix.some(/^transformer_blocks\.\d+\.attn\.add_q_proj\./) && ix.some(/^context_embedder\./)) return full("sd3");
  if (ix.some(new RegExp(`^${DM}(?:input_blocks|middle_block|output_blocks)\\.\\d*`))) return full(ldmFamily(ix));
  if (ix.some(/^(?:down_blocks|up_blocks)\.\d+\./) && ix.some(/^mid_block\./)) return full(diffusersUnetFamily(ix));

  // A VAE alone: LDM (encoder.down.N / decoder.up.N) or diffusers (down_blocks / up_blocks) layout.
  if (ix.some(/^(?:first_stage_model\.|vae\.)?encoder\.down(?:_blocks)?\.\d+\./) && ix.some(/^(?:first_stage_model\.|vae\.)?decoder\.up(?:_blocks)?\.\d+\./)) {
    return diffusion("vae", null);
  }

  const ti = textualInversion(ix);
  if (ti) return ti;

  // Upscalers: ESRGAN old layout (model.N.sub.M.RDB1), new (RRDB_trunk), Real-ESRGAN (body.N.rdb1); SwinIR.
  if (
    ix.some(/^model\.\d+\.sub\.\d+\.RDB\d/) ||
    (ix.has("conv_first.weight") && (ix.some(/^RRDB_trunk\.\d+\./) || ix.some(/^body\.\d+\.rdb\d/)))
  ) {
    return diffusion("upscale", "esrgan");
  }
  if (ix.has("conv_after_body.weight") && ix.some(/^layers\.\d+\.residual_group\./)) return diffusion("upscale", "swinir");

  // Audio: Whisper (openai / whisper.cpp names, or transformers'), wav2vec2-style feature extractors.
  if (ix.some(/^(?:model\.)?encoder\.conv1\.weight$/) && (ix.some(/^(?:model\.)?decoder\./) || ix.some(/^mel_/))) return other("audio", "whisper");
  if (ix.some(/^(?:(wav2vec2|hubert|wavlm)\.)?feature_extractor\.conv_layers\.\d+\./)) {
    return other("audio", ix.some(/^hubert\./) ? "hubert" : ix.some(/^wavlm\./) ? "wavlm" : "wav2vec2");
  }

  // Vision and text encoders. Both CLIP towers together make an embedding model.
  const textTower = ix.some(/(?:^|\.)text_model\.encoder\.layers\.\d+\./);
  const visionTower = ix.some(/(?:^|\.)vision_model\.(?:embeddings|encoder)\./);
  const siglip = ix.some(/(?:^|\.)logit_bias$|vision_model\.head\./);
  if (textTower && visionTower) return other("embedding", siglip ? "siglip" : "clip");
  if (visionTower) return other("vision", siglip ? "siglip" : "clip");
  if (ix.some(/(?:^|\.)embeddings\.patch_embeddings\.projection\./) || (ix.some(/^patch_embed\.proj\./) && ix.some(/^blocks\.\d+\.attn\.qkv\./))) {
    return other("vision", ix.some(/^dinov2\.|attention\.attention\.query/) && ix.some(/layer_scale|lambda1/) ? "dinov2" : "vit");
  }
  if (textTower || (ix.some(/(?:^|\.)transformer\.resblocks\.\d+\./) && ix.some(/(?:^|\.)token_embedding\./) && ix.some(/(?:^|\.)text_projection/))) {
    return diffusion("clip", clipFamily(ix));
  }
  const t5Encoder = ix.some(/(?:^|\.)encoder\.block\.\d+\.layer\.\d+\./);
  if (t5Encoder && !ix.some(/(?:^|\.)decoder\.block\.\d+\./)) return diffusion("t5", "t5");
  if (t5Encoder) return other("llm", "t5");

  // BERT-like encoders: embeddings unless they carry a masked-LM head.
  const bert = bertFamily(ix);
  if (bert) return other(ix.some(/^cls\.predictions\.|^lm_head\.|(?:^|\.)vocab_projector\./) ? "llm" : "embedding", bert);

  // Decoder LLMs.
  if (
    ix.some(LLM_LAYER) ||
    ix.some(/^transformer\.(?:h|blocks)\.\d+\./) ||
    ix.some(/^gpt_neox\.layers\.\d+\./) ||
    ix.some(/^model\.decoder\.layers\.\d+\.self_attn\./) ||
    ix.some(/^backbone\.layers\.\d+\.mixer\./) ||
    (ix.has("lm_head.weight") && ix.some(/(?:^|\.)embed_tokens\./))
  ) {
    return other("llm", llmFamily(ix));
  }
  return null;
}

/** SD1/SD2/SDXL checkpoint in the LDM layout (`model.diffusion_model.input_blocks...`). */
function ldmFamily(ix: TensorIndex): string | null {
  const width = ix.shapeOf(/(?:^|\.)(?:input_blocks|middle_block|output_blocks)\.[\d.]*transformer_blocks\.0\.attn2\.to_k\.weight$/)?.[1];
  const byWidth = width === undefined ? null : familyFromContextWidth(width);
  if (byWidth) return byWidth;
  if (ix.some(/^conditioner\.embedders\.1\./) || ix.some(new RegExp(`^${DM}label_emb\\.`))) return "sdxl";
  if (ix.some(/^cond_stage_model\.model\./)) return "sd2";
  if (ix.some(/^cond_stage_model\.transformer\./)) return "sd1";
  return null;
}

/** A diffusers UNet2DConditionModel. */
function diffusersUnetFamily(ix: TensorIndex): string | null {
  const width = ix.shapeOf(/^(?:down_blocks|mid_block|up_blocks)\.[\w.]*attn2\.to_k\.weight$/)?.[1];
  const byWidth = width === undefined ? null : familyFromContextWidth(width);
  if (byWidth) return byWidth;
  return ix.some(/^add_embedding\./) ? "sdxl" : null;
}

function controlnetFamily(ix: TensorIndex): string | null {
  const width = ix.shapeOf(/attn2\.to_k\.weight$/)?.[1];
  const byWidth = width === undefined ? null : familyFromContextWidth(width);
  if (byWidth) return byWidth;
  if (ix.some(/(?:^|\.)(?:double_blocks|single_blocks|single_transformer_blocks)\.\d+\./)) return "flux";
  if (ix.some(/(?:^|\.)(?:joint_blocks|transformer_blocks)\.\d+\./)) return "sd3";
  if (ix.some(/add_embedding\.|label_emb\./)) return "sdxl";
  return null;
}

function ipAdapterFamily(ix: TensorIndex): string | null {
  if (ix.some(/double_blocks\.\d+\./)) return "flux";
  // The IP-Adapter's to_k_ip projections take the UNet's cross-attention width.
  const width = ix.shapeOf(/to_k_ip\.weight$/)?.[1];
  if (width === 768) return "sd1";
  if (width === 1024) return "sd2";
  if (width === 2048) return "sdxl";
  return null;
}

/** Textual-inversion embeddings: A1111 (`emb_params`), `string_to_param`, SDXL (`clip_l`/`clip_g`), diffusers (`<token>`). */
function textualInversion(ix: TensorIndex): Verdict | null {
  let width: number | undefined;
  if (ix.has("clip_g")) width = 1280;
  else if (ix.has("emb_params")) width = ix.get("emb_params")!.at(-1);
  else if (ix.some(/^string_to_param(?:\.|$)/)) width = ix.shapeOf(/^string_to_param(?:\.|$)/)?.at(-1);
  else if (ix.has("clip_l")) width = ix.get("clip_l")!.at(-1);
  else if (ix.size > 0 && ix.size <= 10 && ix.names.every((n) => /^<[^<>]+>$/.test(n))) width = ix.get(ix.names[0])!.at(-1);
  else return null;
  const family = width === 768 ? "sd1" : width === 1024 ? "sd2" : width === 1280 ? "sdxl" : null;
  return { modelType: "diffusion", subtype: "embeddings", family, loraFormat: null, isLora: false };
}

/** CLIP text encoders by width: ViT-L/14 768 (SD1, FLUX, SD3 clip_l), OpenCLIP ViT-H 1024 (SD2), ViT-bigG 1280 (SDXL, SD3 clip_g). */
function clipFamily(ix: TensorIndex): string {
  const width = ix.shapeOf(/(?:^|\.)token_embedding\.weight$/)?.[1];
  if (width === 768) return "clip-l";
  if (width === 1024) return "clip-h";
  if (width === 1280) return "clip-g";
  return "clip";
}

function bertFamily(ix: TensorIndex): string | null {
  if (!ix.some(/(?:^|\.)embeddings\.word_embeddings\.weight$/)) return null;
  if (ix.some(/(?:^|\.)encoder\.layer\.\d+\.attention\.attn\.q\./)) return "mpnet";
  if (ix.some(/(?:^|\.)encoder\.layers\.\d+\.attn\.Wqkv\./)) return "nomic_bert";
  if (ix.some(/(?:^|\.)transformer\.layer\.\d+\.attention\.q_lin\./)) return "distilbert";
  if (ix.some(/(?:^|\.)encoder\.layer\.\d+\.attention\.self\.query\./)) return ix.some(/^roberta\./) ? "roberta" : "bert";
  return null;
}

/** Decoder LLM families where names or vocabulary sizes tell; null where many architectures share both. */
function llmFamily(ix: TensorIndex): string | null {
  if (ix.some(/\.block_sparse_moe\./)) return "mixtral";
  if (ix.some(/\.pre_feedforward_layernorm\./)) return "gemma";
  if (ix.some(/\.self_attn\.qkv_proj\.|\.mlp\.gate_up_proj\./)) return "phi";
  if (ix.some(/\.self_attn\.dense\./) && ix.some(/\.mlp\.fc1\./)) return "phi";
  if (ix.some(/(?:^|\.)layers\.\d+\.mixer\.Wqkv\./)) return "phi";
  if (ix.some(/^gpt_neox\./)) return "gpt_neox";
  if (ix.some(/^backbone\.layers\.\d+\.mixer\./)) return "mamba";
  if (ix.some(/^transformer\.h\.\d+\.self_attention\.query_key_value\./)) return ix.some(/word_embeddings_layernorm/) ? "bloom" : "falcon";
  if (ix.some(/^transformer\.h\.\d+\.attn\.c_attn\./)) return ix.some(/^transformer\.h\.\d+\.mlp\.w1\./) ? "qwen" : "gpt2";
  if (ix.some(/^transformer\.blocks\.\d+\.attn\.Wqkv\./)) return "mpt";
  if (ix.some(/^model\.decoder\.layers\.\d+\.fc1\./)) return "opt";
  // Qwen2/2.5 are llama-shaped but keep a bias on the q/k/v projections.
  if (ix.some(/\.self_attn\.q_proj\.bias$/)) return "qwen";
  const vocab = ix.vocabTensor()?.[0];
  switch (vocab) {
    case 128256:
      return "llama"; // Llama 3.x
    case 32768:
    case 131072:
      return "mistral"; // Mistral v0.3, Codestral, Mixtral 8x22B; Nemo, Small 3
    case 151936:
    case 152064:
    case 151646:
      return "qwen";
    case 256000:
    case 262144:
    case 262208:
      return "gemma";
    case 32000: {
      // Llama 1/2 and Mistral 7B v0.1/0.2 share the vocabulary; Mistral 7B alone has 4096 wide
      // layers with grouped-query attention (k_proj narrower than q_proj).
      const q = ix.shapeOf(/(?:^|\.)layers\.0\.(?:self_attn\.q_proj|attention\.wq)\.weight$/);
      const k = ix.shapeOf(/(?:^|\.)layers\.0\.(?:self_attn\.k_proj|attention\.wk)\.weight$/);
      if (q && k && q[1] === 4096 && k[0] < q[0]) return "mistral";
      return "llama";
    }
    default:
      return null;
  }
}

// ---------------------------------------------------------------------------------------------
// Hints from outside the tensor names

/** Family from trainer metadata (kohya `ss_base_model_version`, SAI `modelspec.architecture`). */
function familyFromMetadata(metadata: Record<string, string> | null | undefined): string | null {
  if (!metadata) return null;
  const hints = [metadata["modelspec.architecture"], metadata["ss_base_model_version"]].filter((h): h is string => typeof h === "string");
  for (const raw of hints) {
    const h = raw.toLowerCase();
    if (h.includes("flux")) return "flux";
    if (/sd3|stable-diffusion-v3/.test(h)) return "sd3";
    if (/sdxl|sd_xl|stable-diffusion-xl/.test(h)) return "sdxl";
    if (/sd_v2|sd_2|stable-diffusion-v2/.test(h)) return "sd2";
    if (/sd_v1|sd_1|stable-diffusion-v1/.test(h)) return "sd1";
  }
  if (metadata["ss_v2"] === "True") return "sd2";
  return null;
}

/** config.json beats names for type and family; a LoRA stays a LoRA, and a config's text encoder sets clip/t5. */
function applyConfig(v: Verdict, config: HfConfig | null | undefined): Verdict {
  if (!config) return v;
  const modelType = modelTypeFromConfig(config) ?? v.modelType;
  const family = familyFromConfig(config) ?? v.family;
  if (v.isLora) return { ...v, modelType, family };
  const subtype = subtypeFromConfig(config) ?? (modelType === v.modelType ? v.subtype : null);
  return { ...v, modelType, family, subtype };
}

function configNumbers(config: HfConfig | null | undefined): Partial<Identification> {
  if (!config) return {};
  const out: Partial<Identification> = {};
  const num = (...keys: string[]): number | undefined => {
    for (const k of keys) {
      const v = config[k];
      if (typeof v === "number" && Number.isSafeInteger(v) && v > 0) return v;
    }
    return undefined;
  };
  const context = num("max_position_embeddings", "n_positions", "max_sequence_length", "seq_length");
  if (context !== undefined) out.contextLength = context;
  const width = num("hidden_size", "d_model", "n_embd");
  if (width !== undefined) out.embeddingLength = width;
  const blocks = num("num_hidden_layers", "n_layer", "num_layers");
  if (blocks !== undefined) out.blockCount = blocks;
  if (Array.isArray(config.architectures) && typeof config.architectures[0] === "string") out.architecture = config.architectures[0];
  return out;
}

// ---------------------------------------------------------------------------------------------

/** Name lookups over one header; every rule above asks through it. */
class TensorIndex {
  readonly names: string[];
  private readonly shapes = new Map<string, readonly number[]>();

  constructor(tensors: readonly TensorLike[]) {
    this.names = tensors.map((t) => t.name);
    for (const t of tensors) this.shapes.set(t.name, t.shape);
  }

  get size(): number {
    return this.names.length;
  }

  has(name: string): boolean {
    return this.shapes.has(name);
  }

  get(name: string): readonly number[] | undefined {
    return this.shapes.get(name);
  }

  some(re: RegExp): boolean {
    return this.names.some((n) => re.test(n));
  }

  hasAll(...res: RegExp[]): boolean {
    return res.every((re) => this.some(re));
  }

  matching(re: RegExp): { name: string; shape: readonly number[] }[] {
    return this.names.filter((n) => re.test(n)).map((name) => ({ name, shape: this.shapes.get(name)! }));
  }

  /** Shape of the first tensor whose name matches (header order). */
  shapeOf(re: RegExp): readonly number[] | undefined {
    const name = this.names.find((n) => re.test(n));
    return name === undefined ? undefined : this.shapes.get(name);
  }

  maxIndex(re: RegExp): number | null {
    let max: number | null = null;
    for (const n of this.names) {
      const m = re.exec(n);
      if (m) max = Math.max(max ?? 0, Number(m[1]));
    }
    return max;
  }

  /** [vocab, width] of the token embedding (or the LM head when embeddings are not in this file). */
  vocabTensor(): readonly number[] | undefined {
    return (
      this.shapeOf(/(?:^|\.)(?:embed_tokens|tok_embeddings|wte|word_embeddings|embed_in|token_embedding)\.weight$/) ??
      this.shapeOf(/^(?:lm_head|output|embed_out)\.weight$/)
    );
  }

  /**
   * Input width of a LoRA module's down projection, for modules whose name matches `module`:
   * kohya `lora_down`, diffusers `lora.down`/`_lora.down`/`lora_A`, LoHa `hada_w*_b`, LoKR `w1 ⊗ w2`.
   */
  downWidth(module: RegExp): number | null {
    for (const name of this.names) {
      if (!module.test(name)) continue;
      const shape = this.shapes.get(name)!;
      if (/(?:lora_down|lora\.down|_lora\.down|lora_A)(?:\.[\w-]+)?\.weight$|\.hada_w[12]_b$|:down$/.test(name) && shape.length >= 2) {
        return shape[1];
      }
      const lokr = /^(.*)\.lokr_w[12](?:_[ab])?$/.exec(name);
      if (lokr) {
        const w1 = this.shapes.get(`${lokr[1]}.lokr_w1`) ?? this.shapes.get(`${lokr[1]}.lokr_w1_b`);
        const w2 = this.shapes.get(`${lokr[1]}.lokr_w2`) ?? this.shapes.get(`${lokr[1]}.lokr_w2_b`);
        if (w1 && w2 && w1.length >= 2 && w2.length >= 2) return w1[1] * w2[1];
      }
    }
    return null;
  }
}
