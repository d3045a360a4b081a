// The mapper's data: mapping configs in the original's format (`{app, version, variant?, mappings}`, with a few
// added optional fields), and the choices a caller makes when linking.

/** One rule: the models it takes and the folder (relative to the app's models root) they go to. */
export interface MappingRule {
  target_dir: string;
  model_types?: string[] | null;
  subtypes?: string[] | null;
  families?: string[] | null;
  /** At least one of these tags (any). */
  tags?: string[] | null;
  exclude_tags?: string[] | null;
  // Added by model-library (the original ignores unknown fields):
  /** Families the rule never takes (an A1111 ESRGAN folder refuses SwinIR weights). */
  exclude_families?: string[] | null;
  /** metadata `format` values the rule takes (gguf, safetensors, diffusers...). */
  formats?: string[] | null;
  exclude_formats?: string[] | null;
  /** File extensions (without dot) linked from each model; default: the usual weight extensions. */
  extensions?: string[] | null;
  /**
   * Where each file goes under target_dir: "files" keeps the model's own relative names (default), "flat" keeps
   * only the base name, "publisher-repo" puts them in `<owner>/<repo>/` of the model's repo_id (LM Studio;
   * without one `local/<family>/`, and an mmproj beside the LLMs it is named after: projector-pairing.ts),
   * "folder" links the model's whole folder as `<target_dir>/<folder name>` (a diffusers folder).
   */
  layout?: "files" | "flat" | "publisher-repo" | "folder" | null;
}

export interface MappingConfig {
  app: string;
  /** An exact app version, or "*". */
  version: string;
  variant?: string | null;
  mappings: MappingRule[];
  // Added by model-library:
  /** A semver range of app versions this config applies to (scored between "*" and an exact version). */
  version_range?: string | null;
  /** One line for `mlib apps`. */
  description?: string | null;
  /** Flags of a web UI that reads folders given on its command line (A1111/Forge): target_dir → flag. */
  flags?: Record<string, string> | null;
}

export type LinkMethod = "symlink" | "hardlink" | "reflink" | "copy";
export type LinkChoice = "auto" | LinkMethod;
export type ConflictPolicy = "skip" | "rename" | "overwrite";

/** The app a mapping operation works on. */
export interface AppTarget {
  /** Profile id: comfyui, a1111, forge, llamacpp, lmstudio, or a user-defined one. */
  app: string;
  /** The app's models folder (`~/ComfyUI/models`); nothing is made outside its parent folder. */
  root: string;
  /** Selects version-specific configs and overrides.json version_ranges. */
  appVersion?: string | null;
  /** Folder of user mapping configs (default `$XDG_CONFIG_HOME/model-library/mapping`). */
  configDir?: string | null;
}
