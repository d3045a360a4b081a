// LM Studio pairs a vision model with its projector (the mmproj GGUF) only when both sit in one folder. With a
// repo_id both land in <owner>/<repo>/; without one the folder is local/<family>, and a projector's family is
// its own architecture ("clip"), so it went to local/clip/, beside no model. This finds, for a projector without
// a repo_id, the LLMs it belongs to by the name they share: a projector is named after its model
// (`mmproj-Qwen2.5-VL-7B-Instruct-f16.gguf` beside `Qwen2.5-VL-7B-Instruct-Q4_K_M.gguf`), and llama.cpp's converter
// writes the model's general.name into both files (recorded as official_name, or as description when the model
// was named after its file). Names are compared whole, never by prefix: a 7B projector does not fit a 3B model.
import type { ModelFilesRecord } from "../index/index-types.js";

// The words that tell quantizations, precisions and the projector itself apart, not the model: `mmproj`, `f16`,
// `bf16`, `Q4_K_M`, `IQ2_XS`, `Q8_0`... (a word: between separators or at either end).
const NOT_THE_MODEL = /(?:^|[-_.\s])(?:mmproj|i?q\d+(?:_[a-z0-9]+)*|f16|f32|bf16|fp16|fp32)(?=$|[-_.\s])/g;
const SHARD = /[-_.]\d{5}-of-\d{5}$/;

/** The model name in a file or model name, to compare with another's; null when nothing but generic words is left. */
export function pairingKey(name: string): string | null {
  let k = name.toLowerCase();
  k = k.slice(k.lastIndexOf("/") + 1).replace(/\.gguf$/, "").replace(SHARD, "");
  k = k.replace(NOT_THE_MODEL, "-").replace(/[-_.\s]+/g, "-").replace(/^-|-$/g, "");
  // `mmproj-model-f16.gguf`, `mmproj-F16.gguf`: named after no model.
  return k === "" || k === "model" ? null : k;
}

/** Every key of a model: its GGUF files' names, its official name, its recorded description (general.name). */
export function pairingKeys(fileNames: readonly string[], names: readonly (string | null)[]): Set<string> {
  const keys = new Set<string>();
  for (const n of [...fileNames.filter((f) => f.toLowerCase().endsWith(".gguf")), ...names]) {
    const k = n === null ? null : pairingKey(n);
    if (k !== null) keys.add(k);
  }
  return keys;
}

/** A GGUF vision or audio model is a projector (an mmproj): the GGUF apps take no other kind of vision GGUF. */
export function isProjector(m: Pick<ModelFilesRecord, "modelType" | "format">): boolean {
  return (m.modelType === "vision" || m.modelType === "audio") && (m.format ?? "").toLowerCase() === "gguf";
}

/** The folders of the LLMs planned under one rule, by their pairing keys. */
export class ModelFolders {
  private readonly byKey = new Map<string, Set<string>>();

  add(keys: Iterable<string>, folder: string): void {
    for (const k of keys) {
      let set = this.byKey.get(k);
      if (!set) this.byKey.set(k, (set = new Set()));
      set.add(folder);
    }
  }

  /** The folders of every LLM sharing a key with the projector, sorted; empty when none. */
  foldersFor(keys: Iterable<string>): string[] {
    const out = new Set<string>();
    for (const k of keys) for (const f of this.byKey.get(k) ?? []) out.add(f);
    return [...out].sort();
  }
}
