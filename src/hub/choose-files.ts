// Which files of a repo a download takes (as the original chose, made stricter): named files exactly; a quant = every
// file of that quant (all shards of a split GGUF) plus, for a transformers/diffusers repo, the small files a
// runtime loads beside the weights (config, tokenizer, index). Without either: the one download option when
// there is one, else the whole repo's weights for a transformers/diffusers snapshot — a GGUF repo with several
// quants asks which (the original fetched every quant: tens of GB nobody asked for). Every Hub path is checked:
// `..`, absolute paths and backslashes are refused before anything is fetched.
import { ModelLibraryError } from "../core/errors.js";
import { unsafeRelativePathReason } from "../formats/naming.js";
import { downloadOptions, quantsInName, type RepoFile } from "./convert-model.js";

const WEIGHT = /\.(gguf|safetensors|bin|pt|pth|ckpt|onnx|h5|msgpack|ot)$/i;
// Files a transformers/diffusers runtime reads beside the weights.
const RUNTIME_FILE =
  /(^|\/)(config\.json|generation_config\.json|tokenizer(_config)?\.json|tokenizer\.model|special_tokens_map\.json|added_tokens\.json|vocab\.(json|txt)|merges\.txt|preprocessor_config\.json|processor_config\.json|chat_template\.(json|jinja)|model_index\.json|scheduler_config\.json|params\.json|tekken\.json|[^/]*\.index\.json)$/i;

export interface FileChoice {
  files: RepoFile[];
  /** The option chosen (quant or name), null for named files or a whole snapshot. */
  quant: string | null;
}

export interface ChooseParams {
  files: RepoFile[];
  quant?: string | null;
  paths?: string[] | null;
  /** library_name of the repo ("transformers", "diffusers"...). */
  libraryName?: string | null;
  repoId: string;
}

export function isSnapshotRepo(files: RepoFile[], libraryName: string | null | undefined): boolean {
  if (libraryName === "transformers" || libraryName === "diffusers" || libraryName === "sentence-transformers") return true;
  return files.some((f) => f.path === "config.json" || f.path === "model_index.json");
}

export function chooseFiles(p: ChooseParams): FileChoice {
  const choice = choose(p);
  for (const f of choice.files) checkHubPath(f.path, p.repoId);
  return choice;
}

function choose(p: ChooseParams): FileChoice {
  const snapshot = isSnapshotRepo(p.files, p.libraryName);
  const runtime = snapshot ? p.files.filter((f) => !f.lfs && RUNTIME_FILE.test(f.path)) : [];
  if (p.paths && p.paths.length > 0) {
    const chosen: RepoFile[] = [];
    for (const want of p.paths) {
      const f = p.files.find((x) => x.path === want);
      if (!f) throw new ModelLibraryError("E_NOT_FOUND", `${p.repoId}: no file "${want}" in the repo${commaHint(p.files, want)} (see \`mlib hub files ${p.repoId}\`)`);
      chosen.push(f);
    }
    return { files: unique(chosen), quant: null };
  }
  const weights = p.files.filter((f) => WEIGHT.test(f.path));
  if (p.quant) {
    // A quant named as one of the repo's options: that option's files (every shard). The original took every file
    // whose path contains the words, so Q4_0 also brought Q4_0_4_4 and Q4_0_8_8, and Q6_K brought Q6_K_L.
    const options = downloadOptions(p.files, []);
    const named = options.find((o) => o.quant === p.quant) ?? onlyOne(options.filter((o) => o.quant.toLowerCase() === p.quant!.toLowerCase()));
    if (named) return { files: unique([...preferSafe(p.files.filter((f) => named.files.includes(f.path))), ...runtime]), quant: p.quant };
    let hits = weights.filter((f) => f.path.includes(p.quant!));
    if (hits.length === 0) hits = weights.filter((f) => f.path.toLowerCase().includes(p.quant!.toLowerCase()));
    if (hits.length === 0) {
      const opts = options.map((o) => o.quant);
      throw new ModelLibraryError("E_NOT_FOUND", `${p.repoId}: no file for quant "${p.quant}"${opts.length ? ` (available: ${opts.join(", ")})` : ""}`);
    }
    // Part of several quants' names (Q4_K: Q4_K_M and Q4_K_S): ask which, rather than fetch them all into one model.
    // (Files named without a quant, a vision model's mmproj beside its weights, still come along as before.)
    const want = p.quant.toLowerCase();
    const spanned = [...new Set(hits.flatMap((f) => quantsInName(f.path.slice(f.path.lastIndexOf("/") + 1))).filter((q) => q.toLowerCase().includes(want)))];
    if (spanned.length > 1) {
      throw new ModelLibraryError("E_USAGE", `${p.repoId}: --quant "${p.quant}" is part of several quants (${spanned.join(", ")}): choose one`);
    }
    return { files: unique([...preferSafe(hits), ...runtime]), quant: p.quant };
  }
  const options = downloadOptions(p.files, []);
  const ggufOptions = options.filter((o) => o.files.every((f) => f.toLowerCase().endsWith(".gguf")));
  if (ggufOptions.length > 1) {
    const list = ggufOptions.map((o) => `${o.quant} (${o.sizeBytes ?? "?"} bytes)`).join(", ");
    throw new ModelLibraryError("E_USAGE", `${p.repoId} has ${ggufOptions.length} quants: choose one with --quant (${list})`);
  }
  if (options.length === 1) {
    const files = p.files.filter((f) => options[0].files.includes(f.path));
    return { files: unique([...preferSafe(files), ...runtime]), quant: options[0].quant };
  }
  // A snapshot: its weights — safetensors only when the repo has them (the .bin/.h5 copies are the same
  // weights); in a diffusers pipeline, per component folder (a unet shipped only as .bin keeps its .bin).
  const hasSafetensors = weights.some((f) => f.path.endsWith(".safetensors"));
  const chosen = p.files.some((f) => f.path === "model_index.json")
    ? preferSafe(weights)
    : weights.filter((f) => !hasSafetensors || f.path.endsWith(".safetensors"));
  if (chosen.length === 0) throw new ModelLibraryError("E_NOT_FOUND", `${p.repoId}: no model weights in the repo`);
  return { files: unique([...chosen, ...runtime]), quant: null };
}

/**
 * In each folder holding safetensors, only those: the pickle (.bin/.pt/.pth/.ckpt) and .h5/.msgpack/.ot copies
 * beside them are the same weights in another format (and a pickle can run code when loaded).
 */
export function preferSafe(files: RepoFile[]): RepoFile[] {
  const folderOf = (path: string): string => path.slice(0, Math.max(0, path.lastIndexOf("/")));
  const safeFolders = new Set(files.filter((f) => /\.safetensors$/i.test(f.path)).map((f) => folderOf(f.path)));
  return files.filter((f) => !safeFolders.has(folderOf(f.path)) || !/\.(bin|pt|pth|ckpt|h5|msgpack|ot)$/i.test(f.path));
}

/** A Hub path safe to create under the model folder; E_INVALID naming the repo and the path otherwise. */
export function checkHubPath(path: string, repoId: string): string {
  const refuse = (why: string): never => {
    throw new ModelLibraryError("E_INVALID", `${repoId}: refusing the Hub file name ${JSON.stringify(path)}: ${why}`);
  };
  const unsafe = unsafeRelativePathReason(path);
  if (unsafe !== null) refuse(unsafe);
  // A newline or another control character would land in the library as it is, breaking every listing and script.
  const control = [...path].find((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
  if (control) refuse(`it contains a control character (U+${control.charCodeAt(0).toString(16).toUpperCase().padStart(4, "0")})`);
  // "...": a name of dots only is no file or folder name anyone means; and the library skips a folder so named
  // (hidden), so the download landed, then failed with "no model files found", leaving its files in the library.
  const dots = path.split("/").find((part) => /^\.+$/.test(part));
  if (dots !== undefined) refuse(`it has a part made of dots only ("${dots}")`);
  // Found now, not as an ENAMETOOLONG once the download has begun.
  const parts = path.split("/");
  const name = parts.pop()!;
  if (parts.some((part) => Buffer.byteLength(part) > MAX_NAME_BYTES)) refuse(`a folder name in it is longer than ${MAX_NAME_BYTES} bytes, more than a filesystem takes`);
  if (Buffer.byteLength(name) > MAX_NAME_BYTES - PART_JSON_TEMP_BYTES) {
    refuse(`its name is longer than ${MAX_NAME_BYTES - PART_JSON_TEMP_BYTES} bytes: with the names the download writes beside it (\`.<name>.part.json.<pid>.<random>.tmp\`), more than the ${MAX_NAME_BYTES} bytes a filesystem takes`);
  }
  return path;
}

/** The longest name of one file or folder that Linux and macOS filesystems take (bytes, in UTF-8). */
const MAX_NAME_BYTES = 255;
/** What the temp name of a file's `.part.json` adds to its name: `.` + `.part.json` + `.<pid, 7 digits>.<12 hex>.tmp`. */
const PART_JSON_TEMP_BYTES = 36;

/** A name that is one piece of a repo path holding a comma was likely split by the CLI's comma list: say how to write it. */
function commaHint(files: RepoFile[], want: string): string {
  const whole = files.find((f) => f.path.includes(",") && f.path.split(",").some((piece) => piece.trim() === want));
  return whole ? `; did you mean "${whole.path}"? (on the command line a comma separates files: write it as --file '${whole.path.replaceAll(",", "\\,")}')` : "";
}

function onlyOne<T>(xs: T[]): T | undefined {
  return xs.length === 1 ? xs[0] : undefined;
}

function unique(files: RepoFile[]): RepoFile[] {
  const seen = new Set<string>();
  return files.filter((f) => (seen.has(f.path) ? false : (seen.add(f.path), true)));
}
