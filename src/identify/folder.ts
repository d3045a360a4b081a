// Folders that hold ONE model: a diffusers pipeline (model_index.json + component folders), a Hugging Face
// snapshot (config.json + weights), or a shard set (`-00001-of-00003` names, or a `*.index.json` weight map).
// Any other folder is not a model: callers walk it and take each model file on its own.
import { lstat, readFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { isUndecodableName, undecodableNameError } from "../formats/naming.js";
import { listFiles } from "../core/walk.js";
import { readSafetensorsHeader, summarizeSafetensors } from "../formats/safetensors.js";
import { dtypeFromConfig, readHfConfig } from "../formats/hf-config.js";
import { describingShard, foreignShards, foreignShardsMessage } from "./shard-consistency.js";
import { groupShards, missingShardNames, readShardIndex } from "../formats/sharding.js";
import { isModelFileName, sniffFormat } from "../formats/sniff.js";
import { readHead } from "../formats/file-bytes.js";
import { hfSnapshotOf, statBlobLink } from "./hf-cache.js";
import { blankIdentification, mergeIdentification, securityTierOf, type FolderInfo, type Identification } from "../formats/types.js";

export type IdentifyFileFn = (path: string) => Promise<Identification>;

const MAX_WALK_DEPTH = 4;
const MAX_FILES = 20_000;
const SHARD_INDEX_NAMES = /(^|\.)(safetensors|bin|pt|pth|ckpt)\.index\.json$/i;

export interface WalkedFile {
  rel: string; // `/`-separated, relative to the folder
  size: number;
}

/**
 * Every regular file under `dir` (hidden entries, `.part` downloads and symlinks skipped — except, in a Hugging
 * Face snapshot, links into the repo's own blobs/), bounded in depth and count. An unreadable sub-folder is an
 * error, unless `onUnreadable` takes it (then it is skipped and the rest listed).
 */
export async function listFolderFiles(
  dir: string,
  maxDepth = MAX_WALK_DEPTH,
  onUnreadable?: (path: string, error: ModelLibraryError) => void,
): Promise<WalkedFile[]> {
  const snapshot = hfSnapshotOf(dir);
  const files = await listFiles(dir, {
    maxDepth,
    skip: (e) => e.name.startsWith(".") || e.name.endsWith(".part"),
    maxFiles: { count: MAX_FILES, error: () => new ModelLibraryError("E_TOO_LARGE", `${dir}: more than ${MAX_FILES} files; not one model folder`, { path: dir }) },
    followLink: snapshot ? (abs) => statBlobLink(abs, snapshot) : undefined,
    onUnreadable,
  });
  const out: WalkedFile[] = [];
  for (const f of files) {
    if (f.target) {
      out.push({ rel: f.rel, size: f.target.size });
      continue;
    }
    const st = await lstat(f.abs).catch((e: NodeJS.ErrnoException) => {
      if (e.code !== "ENOENT") throw ioError(f.abs, "read", e);
      if (!isUndecodableName(f.rel)) return null; // removed since it was listed: not part of the folder any more
      // Listed, but not openable by that name: one such file must not make the whole folder fail.
      const error = undecodableNameError(f.abs);
      if (!onUnreadable) throw error;
      onUnreadable(f.abs, error);
      return null;
    });
    if (st) out.push({ rel: f.rel, size: st.size });
  }
  return out;
}

/** Whether `dir` holds exactly one model (and which kind), judged from names and small JSON files only. */
export async function detectModelFolder(dir: string, onUnreadable?: (path: string, error: ModelLibraryError) => void): Promise<FolderInfo | null> {
  return detectFromFiles(dir, await listFolderFiles(dir, MAX_WALK_DEPTH, onUnreadable));
}

/** detectModelFolder on a listing already made (identifyFolder needs the sizes too: one walk, not two). */
async function detectFromFiles(dir: string, files: WalkedFile[]): Promise<FolderInfo | null> {
  const top = files.filter((f) => !f.rel.includes("/"));
  const names = new Set(top.map((f) => f.rel));
  const allRels = files.map((f) => f.rel);

  if (names.has("model_index.json")) {
    const components = await diffusersComponents(join(dir, "model_index.json"));
    const weightFiles = allRels.filter((r) => r.includes("/") && isModelFileName(r) && components.includes(r.split("/")[0]));
    // A component model_index.json names whose folder is not there (text_encoder/ left out of a copy): the
    // pipeline cannot load, however many weights the other components have.
    const missingFiles = components.filter((c) => !allRels.some((r) => r.startsWith(`${c}/`))).map((c) => `${c}/`);
    return { kind: "diffusers", weightFiles, files: allRels, complete: weightFiles.length > 0 && missingFiles.length === 0, missingFiles, components };
  }

  const indexFile = top.find((f) => SHARD_INDEX_NAMES.test(f.rel));
  if (indexFile) {
    const index = await readShardIndex(join(dir, indexFile.rel));
    const missingFiles = index.files.filter((f) => !names.has(f));
    return {
      kind: names.has("config.json") ? "hf-snapshot" : "shard-set",
      weightFiles: index.files.filter((f) => names.has(f)),
      files: allRels,
      complete: missingFiles.length === 0,
      missingFiles,
      components: null,
    };
  }

  const topWeights = top.filter((f) => isModelFileName(f.rel)).map((f) => f.rel);
  if (topWeights.length === 0) return null;
  const sets = groupShards(topWeights);
  const isOneShardSet = sets.length === 1 && sets[0].setKey !== null;
  if (isOneShardSet) {
    const missingFiles = missingShardNames(topWeights);
    const modelFiles = names.has("config.json") ? allRels : topWeights;
    return {
      kind: names.has("config.json") ? "hf-snapshot" : "shard-set",
      weightFiles: topWeights,
      files: modelFiles,
      complete: missingFiles.length === 0,
      missingFiles,
      components: null,
    };
  }
  // A snapshot: config.json beside one set of weights in one format (e.g. model.safetensors, or pytorch_model.bin).
  if (names.has("config.json") && sets.length >= 1) {
    const byExt = new Map<string, string[]>();
    for (const w of topWeights) {
      const ext = w.slice(w.lastIndexOf(".") + 1).toLowerCase();
      byExt.set(ext, [...(byExt.get(ext) ?? []), w]);
    }
    // Snapshots often carry the same weights twice (safetensors + bin): still one model.
    const preferred = byExt.get("safetensors") ?? byExt.get("bin") ?? byExt.get("pt") ?? topWeights;
    if (groupShards(preferred).length === 1) {
      return {
        kind: "hf-snapshot",
        weightFiles: topWeights,
        files: allRels,
        complete: missingShardNames(preferred).length === 0,
        missingFiles: missingShardNames(preferred),
        components: null,
      };
    }
  }
  return null;
}

async function diffusersComponents(modelIndexPath: string): Promise<string[]> {
  const text = await readSmallText(modelIndexPath, 1 << 20);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw new ModelLibraryError("E_INVALID", `${modelIndexPath}: not valid JSON`, { path: modelIndexPath });
  }
  if (!parsed || typeof parsed !== "object") return [];
  return Object.entries(parsed as Record<string, unknown>)
    .filter(([k, v]) => !k.startsWith("_") && Array.isArray(v) && v.length === 2 && v[0] !== null)
    .map(([k]) => k)
    .sort();
}

async function readSmallText(path: string, cap: number): Promise<string> {
  const st = await lstat(path);
  if (st.size > cap) throw new ModelLibraryError("E_TOO_LARGE", `${path}: ${st.size} bytes, more than the ${cap} expected`, { path });
  return readFile(path, "utf8");
}

/** Identification of a folder holding one model; E_INVALID when the folder is not one model. */
export async function identifyFolder(dir: string, identifyFile: IdentifyFileFn): Promise<Identification> {
  const files = await listFolderFiles(dir);
  const folder = await detectFromFiles(dir, files);
  if (!folder) {
    throw new ModelLibraryError(
      "E_INVALID",
      `${dir}: not a single-model folder (no model_index.json, config.json with weights, or shard set); import walks such a folder model by model`,
      { path: dir },
    );
  }
  const fileSize = files.filter((f) => folder.files.includes(f.rel)).reduce((a, f) => a + f.size, 0);
  const result = blankIdentification(dir, fileSize);

  const pickleFiles: string[] = [];
  if (folder.kind === "diffusers") {
    mergeIdentification(result, await describeDiffusers(dir));
    // The components are not read for meaning, but each weight file's first bytes say whether it is a pickle.
    const pointerFiles: string[] = [];
    for (const w of folder.weightFiles) {
      const { bytes, size } = await readHead(join(dir, ...w.split("/")), 64);
      const format = sniffFormat(bytes, size, w);
      if (securityTierOf(format) === "pickle") pickleFiles.push(w);
      if (format === "lfs-pointer") pointerFiles.push(w);
    }
    if (pointerFiles.length > 0) {
      // A pipeline cloned without git-lfs: its weights are pointers, the model was never downloaded.
      result.format = "lfs-pointer";
      folder.complete = false;
      result.warnings.push(
        `${dir}: ${pointerFiles.length} of ${folder.weightFiles.length} weight files are Git LFS pointers: the model was never downloaded ` +
          `(run \`git lfs pull\` or download it again): ${pointerFiles.slice(0, 3).join(", ")}${pointerFiles.length > 3 ? ", ..." : ""}`,
      );
    }
  } else if (folder.weightFiles.length > 0) {
    const idents: Identification[] = [];
    for (const w of folder.weightFiles) idents.push(await identifyFile(join(dir, w)));
    folder.weightFiles.forEach((w, i) => idents[i].securityTier === "pickle" && pickleFiles.push(w));
    const foreign = foreignShards(folder.weightFiles, idents);
    if (foreign.length > 0) folder.foreignShards = foreign;
    // The primary file: the safetensors set when a snapshot carries both formats, else the largest.
    const safetensors = idents.filter((i) => i.format === "safetensors");
    const chosen = safetensors.length > 0 ? safetensors : idents;
    const primary = describingShard(chosen);
    Object.assign(result, primary, { path: dir, fileSize, shard: null, warnings: [...primary.warnings] });
    if (chosen.length > 1 && chosen.every((i) => i.format === "gguf" && i.shard !== null)) {
      // A split GGUF: the model's parameters are every shard's tensors, not the describing shard's alone.
      const params = chosen.map((i) => i.parameterCount);
      if (params.every((p) => p !== null)) result.parameterCount = params.reduce((a, b) => a! + b!, 0);
    }
    if (safetensors.length > 1) {
      // Classify from every shard's tensor names together: one shard alone may lack the telling keys.
      const headers = await Promise.all(safetensors.map((s) => readSafetensorsHeader(s.path)));
      const merged = { ...headers[0], tensors: headers.flatMap((h) => h.tensors) };
      const config = await readHfConfig(dir, result.warnings);
      mergeIdentification(result, summarizeSafetensors(merged, { config }));
    }
    const pointers = idents.filter((i) => i.format === "lfs-pointer");
    if (pointers.length > 0) {
      // Weights that are LFS pointers: the model was never downloaded. Describe it from config.json instead.
      result.format = "lfs-pointer";
      result.lfsPointer = null;
      result.warnings = [
        `${dir}: ${pointers.length} of ${idents.length} weight files are Git LFS pointers: the model was never downloaded (run \`git lfs pull\` or download it again)`,
      ];
      await describeFromConfig(dir, result);
      folder.complete = false;
    }
  } else {
    // An index or config with none of its weights present: the model is described but absent.
    await describeFromConfig(dir, result);
  }
  if (folder.kind !== "diffusers" && (result.parameterCount === null || result.format === "lfs-pointer" || folder.weightFiles.length < countIndexed(folder))) {
    await sizeFromShardIndex(dir, files, result);
  }
  if (folder.missingFiles.length > 0) {
    result.warnings.push(
      `${dir}: incomplete: missing ${folder.missingFiles.length} file(s): ${folder.missingFiles.slice(0, 5).join(", ")}${folder.missingFiles.length > 5 ? ", ..." : ""}`,
    );
  } else if (!folder.complete && result.format !== "lfs-pointer") {
    result.warnings.push(`${dir}: incomplete model folder (no weight files found)`);
  }
  if (folder.foreignShards) result.warnings.push(foreignShardsMessage(dir, folder.foreignShards));
  result.folder = folder;
  if (folder.kind === "diffusers" && result.format !== "lfs-pointer") {
    result.format = "diffusers";
  }
  // A folder is as safe as its worst file: one pickle among safetensors makes the model "pickle".
  folder.pickleFiles = pickleFiles;
  result.securityTier = pickleFiles.length > 0 ? "pickle" : securityTierOf(result.format);
  return result;
}

function countIndexed(folder: FolderInfo): number {
  return folder.weightFiles.length + folder.missingFiles.length;
}

/**
 * A sharded folder whose weights are not all here (LFS pointers, missing shards): the index's `total_size`
 * (bytes of every tensor) over the width of the config's dtype is the model's parameter count.
 */
async function sizeFromShardIndex(dir: string, files: WalkedFile[], result: Identification): Promise<void> {
  const indexFile = files.find((f) => !f.rel.includes("/") && SHARD_INDEX_NAMES.test(f.rel));
  if (!indexFile) return;
  const index = await readShardIndex(join(dir, indexFile.rel)).catch(() => null);
  const dtype = dtypeFromConfig(await readHfConfig(dir));
  if (!index || index.totalSize === null || !dtype) return;
  result.parameterCount = Math.round(index.totalSize / dtype.bytes);
  result.quantization ??= dtype.name;
}

/** Type, family and architecture from config.json alone (no weights to read). */
async function describeFromConfig(dir: string, result: Identification): Promise<void> {
  const config = await readHfConfig(dir, result.warnings);
  if (!config) return;
  const hints = summarizeSafetensors({ headerLength: 0, tensors: [], metadata: null, dataSize: 0, warnings: [] }, { config });
  result.modelType = hints.modelType ?? "unknown";
  result.family = hints.family ?? null;
  result.architecture = hints.architecture ?? null;
  result.contextLength = hints.contextLength ?? result.contextLength;
}

/** A diffusers pipeline: family from the pipeline class and the unet's cross-attention width. */
async function describeDiffusers(dir: string): Promise<Partial<Identification>> {
  const index = JSON.parse(await readSmallText(join(dir, "model_index.json"), 1 << 20)) as Record<string, unknown>;
  const cls = typeof index._class_name === "string" ? index._class_name : "";
  let family: string | null = null;
  if (/Flux/i.test(cls)) family = "flux";
  else if (/StableDiffusion3/i.test(cls)) family = "sd3";
  else if (/StableDiffusionXL|SDXL/i.test(cls)) family = "sdxl";
  else if (/StableDiffusion/i.test(cls)) {
    const unet = await readJsonIfSmall(join(dir, "unet", "config.json"));
    const width = Array.isArray(unet?.cross_attention_dim) ? unet?.cross_attention_dim[0] : unet?.cross_attention_dim;
    family = width === 768 ? "sd1" : width === 1024 ? "sd2" : width === 2048 ? "sdxl" : "sd";
  } else if (/PixArt/i.test(cls)) family = "pixart";
  else if (/Kolors/i.test(cls)) family = "kolors";
  return { modelType: "diffusion", subtype: "checkpoints", family, architecture: cls || null, name: null };
}

async function readJsonIfSmall(path: string): Promise<Record<string, unknown> | null> {
  try {
    const parsed = JSON.parse(await readSmallText(path, 1 << 20)) as unknown;
    return parsed && typeof parsed === "object" ? (parsed as Record<string, unknown>) : null;
  } catch {
    return null;
  }
}
