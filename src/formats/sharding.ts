// Shard sets: files that together make one model (`model-00001-of-00003.safetensors`, gguf-split's
// `name-00001-of-00003.gguf`, `model.safetensors.part1`, `model_00001.safetensors`), whether a set is
// complete, and the Hugging Face index files (`*.index.json`) that name a set's files.
import { ModelLibraryError } from "../core/errors.js";
import { safeRelativePath } from "./naming.js";
import type { ShardInfo } from "./types.js";
import { openForReading } from "../core/open-for-reading.js";

// Applied to the file name, in this order (the first match wins).
const PATTERN_OF_TOTAL = /^(.+)-(\d+)-of-(\d+)(\.[^.]+)$/;
const PATTERN_PART = /^(.+\.[^.]+)\.part(\d+)$/;
const PATTERN_UNDERSCORE = /^(.+)_(\d{5})(\.[^.]+)$/;
const TOTAL_IN_NAME = /-(\d+)-of-(\d+)\./;

/** More shards than this is a hostile name, not a model: no missing list that long is built. */
export const MAX_SHARDS = 100_000;
/** Index files are JSON maps of tensor names; the largest real ones are a few MiB. */
export const MAX_INDEX_BYTES = 64 * 1024 * 1024;

export interface ExtractedShardInfo {
  /** The set's key: base name + extension, e.g. `model.safetensors`. */
  baseKey: string;
  index: number;
  /** Only the `-NNNNN-of-NNNNN` pattern declares a total. */
  total: number | null;
}

function fileNameOf(p: string): string {
  return p.slice(p.lastIndexOf("/") + 1);
}

function dirPrefixOf(p: string): string {
  return p.slice(0, p.lastIndexOf("/") + 1);
}

/** The set key, index and declared total of a shard file name, or null when the name is no shard. */
export function extractShardInfo(name: string): ExtractedShardInfo | null {
  let m = PATTERN_OF_TOTAL.exec(name);
  if (m) return { baseKey: m[1] + m[4], index: Number(m[2]), total: Number(m[3]) };
  m = PATTERN_PART.exec(name);
  if (m) return { baseKey: m[1], index: Number(m[2]), total: null };
  m = PATTERN_UNDERSCORE.exec(name);
  if (m) return { baseKey: m[1] + m[3], index: Number(m[2]), total: null };
  return null;
}

/** The shard position of a file (by its name; a path's folders are ignored), or null. */
export function shardInfoOf(fileName: string): ShardInfo | null {
  const info = extractShardInfo(fileNameOf(fileName));
  return info && { index: info.index, total: info.total, setKey: info.baseKey };
}

export interface ShardGroup {
  /** The set key with the files' folder in front (`sub/model.safetensors`), or null for a file that is no shard. */
  setKey: string | null;
  /** The files, in the order given. */
  names: string[];
  /** A real set: several shards, or one shard that declares more (`-00001-of-00003`). A lone `_00001` is no set. */
  isSet: boolean;
}

/**
 * The one shard grouping: files (names or `/`-separated relative paths) grouped by shard set, in the order each
 * group is first seen. Shards in different folders never share a set; a file that is no shard is a group of its
 * own. Used to plan imports, to tell a shard-set folder, to find the missing shards of orphan folders, and by
 * detectShardedSets.
 */
export function groupShards(files: string[]): ShardGroup[] {
  const groups: ShardGroup[] = [];
  const bySet = new Map<string, ShardGroup>();
  for (const f of files) {
    const info = extractShardInfo(fileNameOf(f));
    if (!info) {
      groups.push({ setKey: null, names: [f], isSet: false });
      continue;
    }
    const key = dirPrefixOf(f) + info.baseKey;
    // Shards that declare different totals are different sets (a model split in 2 beside one split in 3 under
    // the same base name: two quantizations, or a re-split), never one model of five files.
    const mapKey = info.total === null ? key : `${key}\0${info.total}`;
    let group = bySet.get(mapKey);
    if (!group) {
      const taken = groups.some((g) => g.setKey === key);
      const m = PATTERN_OF_TOTAL.exec(fileNameOf(f));
      group = { setKey: taken && m ? `${dirPrefixOf(f)}${m[1]}-of-${m[3]}${m[4]}` : key, names: [], isSet: false };
      bySet.set(mapKey, group);
      groups.push(group);
    }
    group.names.push(f);
    group.isSet ||= group.names.length > 1 || (info.total ?? 1) > 1;
  }
  return groups;
}

/**
 * Groups paths into shard sets. Keys are the set key (`model.safetensors`) with the paths' folder in front
 * (`sub/model.safetensors`), so shards in different folders never share a set. Each set is sorted by file
 * name. A "set" of one file is not a set: it stays a standalone entry keyed by its own path, like every
 * file that matches no pattern. When a standalone file has the very name of a set's key, the set's key gets
 * the suffix ` (shards)` so neither hides the other.
 */
export function detectShardedSets(paths: string[]): Map<string, string[]> {
  const groups = groupShards(paths);
  const sets = groups.filter((g) => g.setKey !== null && g.names.length >= 2);
  // Files that are no shard first, then shards alone in their set (the order callers have always seen).
  const standalone = [...groups.filter((g) => g.setKey === null), ...groups.filter((g) => g.setKey !== null && g.names.length < 2)];
  const result = new Map<string, string[]>();
  for (const g of standalone) result.set(g.names[0], [g.names[0]]);
  for (const g of sets) {
    const members = [...g.names].sort((a, b) => compareNames(fileNameOf(a), fileNameOf(b)));
    result.set(result.has(g.setKey!) ? `${g.setKey} (shards)` : g.setKey!, members);
  }
  return result;
}

function compareNames(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

export interface ShardValidation {
  isComplete: boolean;
  totalShards: number;
  /** Indices present, sorted, without duplicates. */
  foundShards: number[];
  /** Indices 1..total that no file has, sorted. */
  missingShards: number[];
  /** Absent when there is nothing wrong beyond missing shards. */
  error?: string;
}

/**
 * Checks that a set's files cover 1..total, using the `-N-of-M.` in their names. Files that declare no
 * total (`.partN`, `_00001`) leave the set "assumed complete" with one shard per file, as the original did.
 */
export function validateShardCompleteness(files: string[]): ShardValidation {
  if (files.length === 0) return { isComplete: false, totalShards: 0, foundShards: [], missingShards: [] };
  let total: number | null = null;
  const found = new Set<number>();
  const sorted = (): number[] => [...found].sort((a, b) => a - b);
  for (const f of files) {
    const m = TOTAL_IN_NAME.exec(fileNameOf(f));
    if (!m) continue;
    const t = Number(m[2]);
    if (total === null) {
      total = t;
    } else if (t !== total) {
      return { isComplete: false, totalShards: total, foundShards: sorted(), missingShards: [], error: "Inconsistent shard counts in filenames" };
    }
    found.add(Number(m[1]));
  }
  if (total === null) {
    return { isComplete: true, totalShards: files.length, foundShards: files.map((_, i) => i + 1), missingShards: [] };
  }
  if (total > MAX_SHARDS) {
    return { isComplete: false, totalShards: total, foundShards: sorted(), missingShards: [], error: `A shard set of ${total} files is beyond the ${MAX_SHARDS}-file limit` };
  }
  const missing: number[] = [];
  for (let i = 1; i <= total; i++) if (!found.has(i)) missing.push(i);
  const result: ShardValidation = { isComplete: missing.length === 0, totalShards: total, foundShards: sorted(), missingShards: missing };
  // An index of 0 or past the total belongs to no 1..total set (the original counted such a set complete).
  const outside = result.foundShards.filter((i) => i < 1 || i > total);
  if (outside.length > 0) {
    result.isComplete = false;
    result.error = `Shard index ${outside.join(", ")} outside 1..${total}`;
  }
  return result;
}

/**
 * The file names missing from shard sets that declare their total (`-NNNNN-of-NNNNN`), built with the
 * set's own zero padding, e.g. `model-00002-of-00003.safetensors`. Files of different sets (base, extension
 * or total differ) are checked set by set; files that declare no total add nothing.
 */
export function missingShardNames(files: string[]): string[] {
  const sets = new Map<string, { base: string; width: number; totalText: string; ext: string; total: number; found: Set<number> }>();
  for (const f of files) {
    const m = PATTERN_OF_TOTAL.exec(fileNameOf(f));
    if (!m) continue;
    const [, base, indexText, totalText, ext] = m;
    const total = Number(totalText);
    const key = `${base}\0${total}\0${ext}`;
    let set = sets.get(key);
    if (!set) {
      set = { base, width: indexText.length, totalText, ext, total, found: new Set() };
      sets.set(key, set);
    }
    set.found.add(Number(indexText));
  }
  const missing: string[] = [];
  for (const set of sets.values()) {
    if (set.total > MAX_SHARDS) {
      throw new ModelLibraryError("E_TOO_LARGE", `${set.base}-…-of-${set.totalText}${set.ext}: a set of ${set.total} shards is beyond the ${MAX_SHARDS}-file limit`);
    }
    for (let i = 1; i <= set.total; i++) {
      if (!set.found.has(i)) missing.push(`${set.base}-${String(i).padStart(set.width, "0")}-of-${set.totalText}${set.ext}`);
    }
  }
  return missing;
}

/** The files an index names that are not among `present` (file names or relative paths). */
export function missingIndexedFiles(indexFiles: string[], present: Iterable<string>): string[] {
  const have = new Set(present);
  return indexFiles.filter((f) => !have.has(f));
}

export interface ShardIndex {
  /** `metadata.total_size` in bytes, when the index declares it. */
  totalSize: number | null;
  /** Distinct shard file names (relative paths), sorted. */
  files: string[];
  /** Number of tensors in `weight_map`. */
  tensorCount: number;
}

/** Reads `model.safetensors.index.json` / `pytorch_model.bin.index.json`, bounded, checking every shard name. */
export async function readShardIndex(path: string): Promise<ShardIndex> {
  const text = await readBoundedText(path, MAX_INDEX_BYTES);
  const invalid = (why: string): never => {
    throw new ModelLibraryError("E_INVALID", `${path}: ${why}`, { path });
  };
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return invalid(`not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(json)) return invalid("not a JSON object");
  const weightMap = json.weight_map;
  if (!isPlainObject(weightMap)) return invalid('no "weight_map" object');
  const files = new Set<string>();
  let tensorCount = 0;
  for (const [tensor, file] of Object.entries(weightMap)) {
    if (typeof file !== "string") return invalid(`weight_map entry ${JSON.stringify(tensor)} is not a file name`);
    if (!files.has(file)) {
      try {
        safeRelativePath(file);
      } catch (e) {
        return invalid(`weight_map names a file outside its folder: ${(e as Error).message}`);
      }
      files.add(file);
    }
    tensorCount++;
  }
  let totalSize: number | null = null;
  const metadata = json.metadata;
  if (isPlainObject(metadata)) {
    const t = metadata.total_size;
    if (typeof t === "number" && Number.isSafeInteger(t) && t >= 0) totalSize = t;
    else if (typeof t === "string" && /^\d{1,16}$/.test(t)) totalSize = Number(t);
  }
  return { totalSize, files: [...files].sort(compareNames), tensorCount };
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

async function readBoundedText(path: string, max: number): Promise<string> {
  const fh = await openForReading(path);
  try {
    const size = (await fh.stat()).size;
    if (size > max) throw new ModelLibraryError("E_TOO_LARGE", `${path}: ${size} bytes, beyond the ${max}-byte cap for an index file`, { path });
    const buf = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const { bytesRead } = await fh.read(buf, done, size - done, done);
      if (bytesRead === 0) break;
      done += bytesRead;
    }
    try {
      return new TextDecoder("utf-8", { fatal: true }).decode(buf.subarray(0, done));
    } catch {
      throw new ModelLibraryError("E_INVALID", `${path}: not valid UTF-8`, { path });
    }
  } finally {
    await fh.close();
  }
}
