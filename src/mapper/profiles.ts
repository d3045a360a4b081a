// App profiles: the built-in mapping configs and the user's own, merged so the most specific config wins for
// each target_dir (the original merged them in the wrong order, so the least specific one won).
//
// User configs are JSON files in `$XDG_CONFIG_HOME/model-library/mapping/` (else ~/.config/...), in the
// original's format and naming (`{app}_{version}_{variant}.json`). The file's own `app`/`version`/`variant`
// fields win over its name, so an app id containing `_` works (the original split the name and broke).
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ModelLibraryError } from "../core/errors.js";
import { GGUF_DIFFUSION_ARCHITECTURES } from "../formats/gguf.js";
import { satisfies, validateRange } from "./version-range.js";
import type { MappingConfig, MappingRule } from "./types.js";

const DIFFUSION = ["diffusion"];
const WEIGHTS = ["safetensors", "sft", "ckpt", "pt", "pth", "bin", "gguf", "pkl", "pt2", "onnx"];
const NOT_FOLDERS = ["diffusers"];

function rule(target_dir: string, subtypes: string[] | null, extra: Partial<MappingRule> = {}): MappingRule {
  return { target_dir, model_types: DIFFUSION, subtypes, exclude_formats: NOT_FOLDERS, ...extra };
}

// ComfyUI (folder_paths.py): the current folder keys; `diffusion_models` rather than the legacy `unet/`.
const COMFYUI: MappingConfig = {
  app: "comfyui",
  version: "*",
  variant: "default",
  description: "ComfyUI: <ComfyUI>/models/{checkpoints,loras,vae,controlnet,text_encoders,clip_vision,diffusion_models,upscale_models,embeddings,hypernetworks,ipadapter,diffusers}",
  mappings: [
    rule("checkpoints", ["checkpoints", "checkpoint"]),
    rule("loras", ["loras", "lora", "lycoris"]),
    rule("vae", ["vae"]),
    rule("controlnet", ["controlnet", "t2i_adapter"]),
    rule("text_encoders", ["clip", "t5", "text_encoders", "text_encoder"]),
    // Image encoders (CLIP-ViT-H, SigLIP for Redux) are identified as vision models of family clip/siglip, not as a
    // diffusion subtype; a GGUF of that family is an LLM's mmproj projector, which ComfyUI cannot load.
    { target_dir: "clip_vision", model_types: ["vision"], families: ["clip", "siglip"], exclude_formats: [...NOT_FOLDERS, "gguf"] },
    rule("diffusion_models", ["diffusion_models", "diffusion_model", "unet", "transformer"]),
    rule("embeddings", ["embeddings", "embedding"]),
    rule("upscale_models", ["upscale", "upscaler", "upscalers", "upscale_models"]),
    rule("hypernetworks", ["hypernetworks", "hypernetwork"]),
    // Not a core key: ComfyUI_IPAdapter_plus (and the InstantID/IPAdapter nodes after it) registers
    // `ipadapter` = models/ipadapter, keeping any path already configured for it.
    rule("ipadapter", ["ipadapter", "ip_adapter"]),
    { target_dir: "diffusers", formats: ["diffusers"], layout: "folder" },
  ],
};

// Old ComfyUI builds had `clip` as its own folder key; newer ones still read `clip/` as an
// alias of text_encoders, so this only matters when an old version is named.
const COMFYUI_LEGACY: MappingConfig = {
  app: "comfyui",
  version: "*",
  variant: "legacy",
  version_range: "<0.1.0",
  description: "ComfyUI before 0.1: text encoders in models/clip",
  mappings: [rule("clip", ["clip", "t5", "text_encoders", "text_encoder"]), { target_dir: "text_encoders", model_types: [] }],
};

function webui(app: "a1111" | "forge"): MappingConfig {
  // A1111 runs the SD 1/2/XL/3 architectures only: a Flux checkpoint, LoRA or ControlNet would be listed and fail to
  // load (its Flux request, AUTOMATIC1111/stable-diffusion-webui#16311, stays open). Forge runs Flux.
  const notHere = app === "a1111" ? { exclude_families: ["flux"] } : {};
  const mappings = [
    // A checkpoint's own `<name>.yaml` config is read from beside it (sd_models_config.py,
    // find_checkpoint_config_near_filename), so it is linked with it; the list only shows .ckpt/.safetensors.
    rule("Stable-diffusion", ["checkpoints", "checkpoint", ...(app === "forge" ? ["diffusion_models", "diffusion_model", "unet", "transformer"] : [])], {
      extensions: [...WEIGHTS, "yaml"],
      ...notHere,
    }),
    rule("Lora", ["loras", "lora", "lycoris"], notHere),
    rule("VAE", ["vae"]),
    // The ControlNet extension (and Forge's built-in one) also runs IP-Adapters, read from the same folder.
    rule("ControlNet", ["controlnet", "t2i_adapter", "ipadapter", "ip_adapter"], notHere),
    // The ESRGAN upscaler loads only ESRGAN-architecture weights (upscaler_esrgan.py: spandrel with
    // expected_architecture ESRGAN); SwinIR has its own folder and upscaler (--swinir-models-path).
    rule("ESRGAN", ["upscale", "upscaler", "upscalers", "upscale_models"], { exclude_families: ["swinir"] }),
    rule("SwinIR", ["upscale", "upscaler", "upscalers", "upscale_models"], { families: ["swinir"] }),
    rule("hypernetworks", ["hypernetworks", "hypernetwork"]),
    // Textual inversions live beside models/, in the web UI's own `embeddings/` folder.
    rule("../embeddings", ["embeddings", "embedding"]),
  ];
  if (app === "forge") mappings.push(rule("text_encoder", ["clip", "t5", "text_encoders", "text_encoder"]));
  return {
    app,
    version: "*",
    variant: "default",
    description:
      app === "a1111"
        ? "AUTOMATIC1111 web UI: <webui>/models/{Stable-diffusion,Lora,VAE,ControlNet,ESRGAN,SwinIR,hypernetworks}, <webui>/embeddings"
        : "Forge: like A1111, plus models/text_encoder and standalone diffusion models in Stable-diffusion",
    mappings,
    flags: {
      "Stable-diffusion": "--ckpt-dir",
      Lora: "--lora-dir",
      VAE: "--vae-dir",
      ControlNet: "--controlnet-dir",
      ESRGAN: "--esrgan-models-path",
      SwinIR: "--swinir-models-path",
      hypernetworks: "--hypernetwork-dir",
      "../embeddings": "--embeddings-dir",
      ...(app === "forge" ? { text_encoder: "--text-encoder-dir" } : {}),
    },
  };
}

// GGUF is also the container of diffusion weights quantized for ComfyUI-GGUF (city96/FLUX.1-dev-gguf...): those
// load only in ComfyUI, and llama.cpp / LM Studio refuse their architecture, so only language-side models go there
// (LLMs, embedding models, and the vision/audio projectors that sit beside them).
const GGUF_APP_TYPES = ["llm", "embedding", "vision", "audio", "unknown"];
// The image architectures ComfyUI-GGUF writes as general.architecture (identify calls them diffusion models). A
// GGUF's family is its architecture, so these are excluded by family too: a library imported before identify knew
// them holds them as LLMs until `mlib redetect`.
const GGUF_IMAGE_ARCHITECTURES = [...GGUF_DIFFUSION_ARCHITECTURES];

const LLAMACPP: MappingConfig = {
  app: "llamacpp",
  version: "*",
  variant: "default",
  description: "llama.cpp: every GGUF in one flat folder (shards side by side)",
  mappings: [{ target_dir: ".", model_types: GGUF_APP_TYPES, exclude_families: GGUF_IMAGE_ARCHITECTURES, formats: ["gguf"], extensions: ["gguf"], layout: "flat" }],
};

const LMSTUDIO: MappingConfig = {
  app: "lmstudio",
  version: "*",
  variant: "default",
  description: "LM Studio: <models>/<publisher>/<repo>/<file>.gguf (repo_id, else local/<family>; an mmproj beside the model it is named after)",
  mappings: [{ target_dir: ".", model_types: GGUF_APP_TYPES, exclude_families: GGUF_IMAGE_ARCHITECTURES, formats: ["gguf"], extensions: ["gguf"], layout: "publisher-repo" }],
};

export const BUILTIN_CONFIGS: readonly MappingConfig[] = [COMFYUI, COMFYUI_LEGACY, webui("a1111"), webui("forge"), LLAMACPP, LMSTUDIO];

export const DEFAULT_EXTENSIONS: readonly string[] = WEIGHTS;

/** `$XDG_CONFIG_HOME/model-library/mapping`, else `~/.config/model-library/mapping`. */
export function defaultConfigDir(env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CONFIG_HOME ? path.resolve(env.XDG_CONFIG_HOME) : path.join(os.homedir(), ".config");
  return path.join(base, "model-library", "mapping");
}

interface LoadedConfig {
  config: MappingConfig;
  /** "builtin" or the file it came from. */
  source: string;
}

/** Every config: built-in ones first, then the user's files (sorted by name). Bad files are errors naming them. */
export function loadAllConfigs(configDir: string = defaultConfigDir()): LoadedConfig[] {
  const out: LoadedConfig[] = BUILTIN_CONFIGS.map((config) => ({ config, source: "builtin" }));
  let names: string[];
  try {
    names = fs.readdirSync(configDir).filter((n) => n.endsWith(".json")).sort();
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return out;
    throw new ModelLibraryError("E_IO", `${configDir}: cannot list mapping configs (${(e as Error).message})`, { path: configDir });
  }
  for (const name of names) {
    const file = path.join(configDir, name);
    out.push({ config: readConfigFile(file), source: file });
  }
  return out;
}

function readConfigFile(file: string): MappingConfig {
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(file, "utf8"));
  } catch (e) {
    throw new ModelLibraryError("E_INVALID", `${file}: not a readable mapping config (${(e as Error).message})`, { path: file });
  }
  const bad = (why: string) => new ModelLibraryError("E_INVALID", `${file}: ${why}`, { path: file });
  if (!raw || typeof raw !== "object" || Array.isArray(raw)) throw bad("expected a JSON object {app, version, mappings}");
  const c = raw as Partial<MappingConfig>;
  // Name parts as the original reads them; the content's own fields win.
  const parts = path.basename(file, ".json").split("_");
  const app = typeof c.app === "string" && c.app ? c.app : parts[0];
  const version = typeof c.version === "string" && c.version ? c.version : (parts[1] ?? "*");
  const variant = typeof c.variant === "string" && c.variant ? c.variant : (parts[2] ?? "default");
  if (!app) throw bad("no app id");
  if (!Array.isArray(c.mappings)) throw bad('"mappings" must be a list of rules');
  const mappings: MappingRule[] = c.mappings.map((r, i) => {
    if (!r || typeof r !== "object" || typeof (r as MappingRule).target_dir !== "string") throw bad(`mappings[${i}]: needs a "target_dir" string`);
    for (const key of ["model_types", "subtypes", "families", "exclude_families", "tags", "exclude_tags", "formats", "exclude_formats", "extensions"] as const) {
      const v = (r as MappingRule)[key];
      if (v !== undefined && v !== null && !(Array.isArray(v) && v.every((x) => typeof x === "string"))) throw bad(`mappings[${i}].${key}: must be a list of strings`);
    }
    return r as MappingRule;
  });
  if (c.version_range) validateRange(c.version_range);
  return { ...c, app, version, variant, mappings } as MappingConfig;
}

/** Specificity of a config for a requested version, or null when it does not apply. */
function score(c: LoadedConfig, appVersion: string | null): number | null {
  const { version, version_range, variant } = c.config;
  let s = 0;
  if (version !== "*") {
    if (appVersion === null) return null; // a version-specific config applies only when that version is named
    if (version !== appVersion) return null;
    s += 4;
  } else if (version_range) {
    if (appVersion === null || !satisfies(appVersion, version_range)) return null;
    s += 3;
  }
  if (variant === "custom") s += 2;
  if (c.source !== "builtin") s += 1; // the user's file beats a built-in one of equal specificity
  return s;
}

export interface ResolvedProfile {
  app: string;
  appVersion: string | null;
  /** The rules in effect, one per target_dir. */
  rules: MappingRule[];
  flags: Record<string, string>;
  description: string | null;
  /** Configs that contributed, least specific first. */
  sources: string[];
}

/**
 * The rules for `app` at `appVersion`: configs sorted least specific first, each later (more specific) one
 * replacing the rules of the same target_dir. E_NOT_FOUND when no config names the app.
 */
export function resolveProfile(app: string, appVersion: string | null = null, configDir?: string | null): ResolvedProfile {
  const all = loadAllConfigs(configDir ?? defaultConfigDir());
  const known = new Set(all.map((c) => c.config.app));
  if (!known.has(app)) {
    throw new ModelLibraryError("E_NOT_FOUND", `no mapping profile "${app}" (known: ${[...known].sort().join(", ")}; user configs go in ${configDir ?? defaultConfigDir()})`);
  }
  const scored = all
    .map((c, order) => ({ c, order, s: c.config.app === app ? score(c, appVersion) : null }))
    .filter((x): x is { c: LoadedConfig; order: number; s: number } => x.s !== null)
    .sort((a, b) => a.s - b.s || a.order - b.order);
  const byDir = new Map<string, MappingRule>();
  const flags: Record<string, string> = {};
  let description: string | null = null;
  for (const { c } of scored) {
    for (const r of c.config.mappings) {
      // `checkpoints/` and `./checkpoints` are the folder `checkpoints` (its rule replaces that one; and
      // ComfyUI's config key is the plain name).
      const dir = path.posix.normalize(r.target_dir).replace(/(.)\/+$/, "$1");
      byDir.delete(dir); // keep the more specific rule, in its own position
      byDir.set(dir, dir === r.target_dir ? r : { ...r, target_dir: dir });
    }
    Object.assign(flags, c.config.flags ?? {});
    description = c.config.description ?? description;
  }
  return { app, appVersion, rules: [...byDir.values()], flags, description, sources: scored.map((x) => `${x.c.source}:${x.c.config.app}_${x.c.config.version}_${x.c.config.variant ?? "default"}`) };
}

export interface AppSummary {
  id: string;
  description: string | null;
  builtin: boolean;
  /** target_dirs of the version-independent profile. */
  folders: string[];
  configs: string[];
}

/** The app profiles: built-in ones and every app named by a user config. */
export function listApps(configDir?: string | null): AppSummary[] {
  const all = loadAllConfigs(configDir ?? defaultConfigDir());
  const ids = [...new Set(all.map((c) => c.config.app))];
  return ids.map((id) => {
    const p = resolveProfile(id, null, configDir);
    const mine = all.filter((c) => c.config.app === id);
    return {
      id,
      description: p.description,
      builtin: mine.some((c) => c.source === "builtin"),
      folders: p.rules.map((r) => r.target_dir),
      configs: mine.map((c) => (c.source === "builtin" ? `builtin ${c.config.version}${c.config.version_range ? ` (${c.config.version_range})` : ""} ${c.config.variant ?? "default"}` : c.source)),
    };
  });
}
