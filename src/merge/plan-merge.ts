// PLAN: what happens to each source model, decided before anything moves (and shown by --dry-run).
//   move       its place in the library is free: it goes there (same `<type>/<family>/<name>` as in the source)
//   duplicate  every file has the SHA-256 and size of a file of a model already here (or planned): not stored twice
//   conflict   its place is taken by a different model: it goes to `<name>-2` (the first free suffix), kept whole
//   error      left in the source: unreadable metadata.json, a listed file missing or changed, a pickle without
//              consent, an incomplete shard set
// Reads only: files without a recorded SHA-256 are hashed here so duplicates are found by content.
import { readdirSync, realpathSync, statSync } from "node:fs";
import { basename, dirname, isAbsolute, join, resolve } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { isModelFileName } from "../formats/sniff.js";
import { unsafeRelativePathReason } from "../formats/naming.js";
import { missingShardNames, shardInfoOf } from "../formats/sharding.js";
import { hashFile } from "../hashing/index.js";
import { identify } from "../identify/identify.js";
import { listFolderFiles } from "../identify/folder.js";
import type { ModelLibrary } from "../store/model-library.js";
import { METADATA_FILE, OVERRIDES_FILE } from "../store/layout.js";
import { filesByBareName } from "../store/bare-name.js";
import type { SourceModel } from "./gather-source.js";
import { isInside, linkProblem, sourceTargetOf, staysInside, type FolderLink } from "./model-links.js";
import type { MergeFile, MergePlanItem } from "./merge-types.js";

export interface PlanOptions {
  /** The source library's folder (as given). */
  source: string;
  allowPickle: boolean;
  destDev: number;
  signal?: AbortSignal;
  onItem?: (rel: string, done: number, total: number) => void;
}

const SHA256 = /^[0-9a-f]{64}$/i;
const obj = (v: unknown): Record<string, unknown> | null => (v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null);

/** A source model that passed the checks, waiting for the duplicate and conflict decisions. */
interface Candidate {
  m: SourceModel;
  base: Omit<MergePlanItem, "action" | "destId" | "reason">;
  key: string;
  largest: string | null;
  /** Relative links out of the folder that reach the same file from where it goes: checked again for a new name. */
  linksOut: FolderLink[];
}

export async function planMerge(lib: ModelLibrary, models: SourceModel[], options: PlanOptions): Promise<MergePlanItem[]> {
  // First pass: each model checked on its own (files, shards, pickles, missing hashes). Second: one index query
  // for the hashes the library already holds, then duplicates and conflicts decided in source order.
  const slots: (MergePlanItem | Candidate)[] = [];
  const places = linkPlaces(lib, options.source, models);
  for (const [i, m] of models.entries()) {
    throwIfAborted(options.signal, "merge");
    options.onItem?.(m.rel, i, models.length);
    if (i % 256 === 255) await new Promise((r) => setImmediate(r));
    const base = { source: m.rel, bytes: 0, crossDevice: m.dev !== options.destDev, files: [] as MergeFile[] };
    // (No closure or arrow made per model here: under tsx, as the tests and benchmarks run, each one costs a
    // defineProperty for its name, ~10% of the plan at 10,000 models.)
    if (m.error) {
      slots.push(errorItem(base, m.error));
      continue;
    }
    const meta = obj(m.parsed);
    if (!meta) {
      // Valid JSON but no object (`null`, `[]`, `"x"`): nothing says this folder is a model; it is not moved blind.
      slots.push(errorItem(base, `${join(m.dir, METADATA_FILE)}: not a model's metadata (a JSON ${m.parsed === null ? "null" : Array.isArray(m.parsed) ? "array" : typeof m.parsed}, not an object)`));
      continue;
    }
    const why = linkProblemOf(m, places, places.destRoot);
    if (why) {
      slots.push(errorItem(base, why));
      continue;
    }
    let files: MergeFile[];
    try {
      // A rename moves whatever the folder holds: the files are looked at only where bytes are read (copies
      // across filesystems, duplicates re-hashed). At 10,000 models a stat per file was a third of the plan.
      files = listedFiles(m.dir, meta, base.crossDevice) ?? (await folderFiles(m.dir));
    } catch (e) {
      slots.push(errorItem(base, (e as Error).message));
      continue;
    }
    base.files = files;
    let bytes = 0;
    const weights: MergeFile[] = [];
    for (const f of files) {
      bytes += f.size;
      if (isModelFileName(f.name)) weights.push(f);
    }
    base.bytes = bytes;
    const missing = missingShards(weights);
    if (missing.length > 0) {
      slots.push(errorItem(base, `incomplete shard set: missing ${missing.join(", ")}`));
      continue;
    }
    const pickle = typeof meta.security_tier === "string" ? meta.security_tier === "pickle" : await identifiesAsPickle(m.dir, weights);
    if (!options.allowPickle && pickle) {
      slots.push(errorItem(base, "pickle format (loading it can run code): left in the source; merge with --allow-pickle to take it"));
      continue;
    }
    for (const f of files) if (!f.sha256) f.sha256 = (await hashFile(join(m.dir, ...f.name.split("/")))).sha256;
    slots.push({ m, base, key: contentKey(files), largest: largestHash(files), linksOut: m.links.filter((l) => !staysInside(l) && !isAbsolute(l.text)) });
  }
  const known = lib.knownHashes(slots.flatMap((s) => ("key" in s && s.largest ? [s.largest] : [])));
  const plan: MergePlanItem[] = [];
  const takenIds = new Set<string>();
  const plannedByContent = new Map<string, string>(); // content key → dest id of the first source model with it
  const listings = new Map<string, Set<string>>();
  for (const s of slots) {
    if (!("key" in s)) {
      plan.push(s);
      continue;
    }
    const { m, base, key, largest } = s;
    const dup = plannedByContent.get(key) ?? (largest && known.has(largest) ? await existingDuplicate(lib, largest, key) : null);
    if (dup) {
      plan.push(planItem(base, "duplicate", dup, null));
      continue;
    }
    let destId = m.rel;
    let reason: string | null = null;
    if (takenIds.has(destId) || existsIn(listings, lib.modelDir(destId))) {
      for (let n = 2; ; n++) {
        const candidate = `${m.rel}-${n}`;
        if (!takenIds.has(candidate) && !existsIn(listings, lib.modelDir(candidate))) {
          destId = candidate;
          break;
        }
      }
      reason = `${m.rel} is already a different model in the library: kept as ${destId}`;
      // Under its new name, a relative link out of the folder must still reach its file (it did from the old one).
      const why = s.linksOut.length > 0 ? linkProblemOf({ ...m, links: s.linksOut }, places, places.destRoot, destId) : null;
      if (why) {
        plan.push(errorItem(base, why));
        continue;
      }
    }
    takenIds.add(destId);
    plannedByContent.set(key, destId);
    plan.push(planItem(base, reason ? "conflict" : "move", destId, reason));
  }
  return plan;
}

/** What the link checks need: the real paths of the source and the library, and the source files links lead to. */
interface LinkPlaces {
  sources: string[];
  destRoot: string;
  /** A file in the source outside the folder of a link to it (real path) → that link: not moved, not removed. */
  linkedTargets: Map<string, string>;
}

function linkPlaces(lib: ModelLibrary, source: string, models: SourceModel[]): LinkPlaces {
  const real = (p: string): string => {
    try {
      return realpathSync(p);
    } catch {
      return resolve(p);
    }
  };
  const sourceReal = real(source);
  const sources = sourceReal === resolve(source) ? [sourceReal] : [sourceReal, resolve(source)];
  const linkedTargets = new Map<string, string>();
  for (const m of models) {
    for (const l of m.links) {
      const t = sourceTargetOf(l, { modelDir: join(sourceReal, ...m.rel.split("/")), sources });
      if (t && !linkedTargets.has(t)) linkedTargets.set(t, join(m.dir, ...l.rel.split("/")));
    }
  }
  return { sources, destRoot: real(lib.root), linkedTargets };
}

/** Why a source model cannot move with its links (or holds what another model's link points at), or null. */
function linkProblemOf(m: SourceModel, places: LinkPlaces, destRoot: string, destId = m.rel): string | null {
  if (m.linksUnreadable) return `left in the source: ${m.linksUnreadable}`;
  const modelDir = join(places.sources[0], ...m.rel.split("/"));
  for (const l of m.links) {
    const why = linkProblem(l, { modelDir, sources: places.sources, destDir: join(destRoot, ...destId.split("/")) });
    if (why) return why;
  }
  for (const [target, link] of places.linkedTargets) {
    if (isInside(modelDir, target)) return `left in the source: it holds ${target}, which ${link} (a link in another folder of the source) points at; moved or removed, that link would break`;
  }
  return null;
}

function errorItem(base: Omit<MergePlanItem, "action" | "destId" | "reason">, reason: string): MergePlanItem {
  return planItem(base, "error", null, reason);
}

/** A plan item, its fields in one order (an object literal, not a spread: ~1 µs less a model). */
function planItem(base: Omit<MergePlanItem, "action" | "destId" | "reason">, action: MergePlanItem["action"], destId: string | null, reason: string | null): MergePlanItem {
  return { source: base.source, bytes: base.bytes, crossDevice: base.crossDevice, files: base.files, action, destId, reason };
}

function readdirOrNone(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/**
 * The files metadata.json lists, each checked present with its size where it must be (see planMerge), or null when
 * it lists none (the folder's files are then taken: folderFiles).
 */
function listedFiles(dir: string, meta: Record<string, unknown>, statEach: boolean): MergeFile[] | null {
  const listed: Record<string, unknown>[] = [];
  if (Array.isArray(meta.files)) {
    for (const v of meta.files) {
      const f = obj(v);
      if (f && typeof f.name === "string") listed.push(f);
    }
  }
  if (listed.length === 0) return null;
  const out: MergeFile[] = [];
  for (const f of listed) {
    const name = f.name as string;
    const why = unsafeRelativePathReason(name);
    if (why !== null) throw new Error(`${join(dir, METADATA_FILE)}: file name ${JSON.stringify(name)} is not a name inside the model folder (${why})`);
    const sha256 = typeof f.sha256 === "string" && SHA256.test(f.sha256) ? f.sha256.toLowerCase() : null;
    const size = typeof f.size === "number" ? f.size : null;
    if (!statEach && size !== null && sha256) {
      out.push({ name, size, sha256 });
      continue;
    }
    let rel = name;
    let st = statSync(join(dir, ...name.split("/")), { throwIfNoEntry: false });
    if (!st?.isFile() && !name.includes("/")) {
      // The original's in-place import lists a file of a sub-folder by its bare name: the one file so named is it.
      const found = filesByBareName(dir, name, size);
      if (found.length > 1) throw new Error(`${join(dir, name)}: listed in metadata.json by a name several sub-folders hold (${found.join(", ")})`);
      if (found.length === 1) {
        rel = found[0];
        st = statSync(join(dir, ...rel.split("/")), { throwIfNoEntry: false });
      }
    }
    if (!st?.isFile()) throw new Error(`${join(dir, name)}: listed in metadata.json but missing`);
    if (size !== null && size !== st.size) throw new Error(`${join(dir, rel)}: size changed since it was recorded (${size} → ${st.size} bytes); run mlib verify in the source`);
    out.push({ name: rel, size: st.size, sha256 });
  }
  return out;
}

/** A model folder's own files (metadata.json, overrides and backups aside), for a metadata.json that lists none. */
async function folderFiles(dir: string): Promise<MergeFile[]> {
  const found = await listFolderFiles(dir, 4);
  return found.filter((f) => f.rel !== METADATA_FILE && f.rel !== OVERRIDES_FILE && !f.rel.endsWith(".bak")).map((f) => ({ name: f.rel, size: f.size, sha256: null }));
}

/** For a metadata.json with no security tier: whether a weight file identifies as a pickle. */
async function identifiesAsPickle(dir: string, weights: MergeFile[]): Promise<boolean> {
  for (const w of weights) {
    const file = join(dir, ...w.name.split("/"));
    // Only a regular file is opened: opening a named pipe waits for a writer, for ever.
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) continue;
    const ident = await identify(file).catch(() => null);
    if (ident?.securityTier === "pickle") return true;
  }
  return false;
}

export function contentKey(files: MergeFile[]): string {
  if (files.length === 1) return `${files[0].sha256}:${files[0].size}`;
  return files.map((f) => `${f.sha256}:${f.size}`).sort().join(",");
}

/** The SHA-256 of the largest file: what a model already in the library is looked up by. */
export function largestHash(files: MergeFile[]): string | null {
  let largest: MergeFile | null = null;
  for (const f of files) if (!largest || f.size > largest.size) largest = f;
  return largest?.sha256 ?? null;
}

/** A model already in the library whose files have exactly these hashes and sizes (largest: its largest file's SHA-256). */
export async function existingDuplicate(lib: ModelLibrary, largest: string, key: string): Promise<string | null> {
  const hit = lib.findByHash(largest);
  if (!hit) return null;
  const meta = await lib.getMetadata(hit.id).catch(() => null);
  const theirs = (meta?.files ?? []).map((f) => ({ name: f.name, size: f.size ?? -1, sha256: f.sha256 }));
  return contentKey(theirs) === key ? hit.id : null;
}

function missingShards(weights: MergeFile[]): string[] {
  const sets = new Map<string, string[]>();
  for (const { name: n } of weights) {
    const info = shardInfoOf(n.slice(n.lastIndexOf("/") + 1));
    if (!info || info.total === null) continue;
    const k = `${n.slice(0, n.lastIndexOf("/") + 1)}${info.setKey}`;
    sets.set(k, [...(sets.get(k) ?? []), n]);
  }
  if (sets.size === 0) return [];
  return [...sets.values()].flatMap((names) => missingShardNames(names));
}

/** One listing per destination folder instead of a stat per planned model. */
function existsIn(listings: Map<string, Set<string>>, p: string): boolean {
  const parent = dirname(p);
  let names = listings.get(parent);
  if (!names) listings.set(parent, (names = new Set(readdirOrNone(parent))));
  return names.has(basename(p));
}

