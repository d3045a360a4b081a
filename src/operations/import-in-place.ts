// Models whose files are already inside the library root: a finished download (import in place), folders
// without metadata.json (orphan adoption), and shard sets left incomplete (recovery report). Original §9.4-§9.6,
// with its quirks fixed: every shard set is checked (not only the first), a known sha256 is verified rather than
// trusted, model_id is the folder's real id, and no repo id is invented from a folder name.
import { existsSync, readdirSync, type Dirent } from "node:fs";
import { stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { ModelLibraryError } from "../core/errors.js";
import { listFolderFiles } from "../identify/folder.js";
import { identify } from "../identify/identify.js";
import { normalizeName } from "../formats/naming.js";
import { missingShardNames, shardInfoOf } from "../formats/sharding.js";
import { isModelFileName } from "../formats/sniff.js";
import { hashFile } from "../hashing/index.js";
import { writeJsonAtomic } from "../core/atomic-json.js";
import { withLock } from "../core/lock.js";
import { applyIdentification, blankMetadata, nowIso, serializeMetadata, type MetadataFile } from "../store/metadata.js";
import type { ModelLibrary } from "../store/model-library.js";
import { COMMIT_LOCK, METADATA_FILE, OVERRIDES_FILE, STAGING_DIR } from "../store/layout.js";

export interface InPlaceImportSpec {
  /** Absolute folder inside the library root. */
  modelDir: string;
  officialName: string;
  family?: string | null;
  modelType?: string | null;
  repoId?: string | null;
  /** SHA-256 the source announced for the primary file: checked against the bytes, never just copied. */
  knownSha256?: string | null;
  /** Hash every file (default true). Without hashes, verify and dedup cannot work for this model. */
  computeHashes?: boolean;
  expectedFiles?: string[] | null;
  allowIncomplete?: boolean;
}

export interface InPlaceResult {
  modelId: string;
  created: boolean;
  securityTier: string | null;
}

/** Writes metadata.json for a folder already in place and indexes it. Idempotent: an existing metadata.json is kept. */
export async function importInPlace(lib: ModelLibrary, spec: InPlaceImportSpec): Promise<InPlaceResult> {
  const rel = relative(lib.root, spec.modelDir);
  if (!rel || rel.startsWith("..") || rel.startsWith(sep) || rel.split(sep).some((p) => p.startsWith("."))) {
    throw new ModelLibraryError("E_INVALID", `${spec.modelDir}: not a folder inside the library ${lib.root}`, { path: spec.modelDir });
  }
  const id = rel.split(sep).join("/");
  const st = await stat(spec.modelDir).catch(() => null);
  if (!st?.isDirectory()) throw new ModelLibraryError("E_NOT_FOUND", `${spec.modelDir}: no such folder`, { path: spec.modelDir });
  if (await stat(join(spec.modelDir, METADATA_FILE)).catch(() => null)) {
    await lib.indexModel(id);
    return { modelId: id, created: false, securityTier: null };
  }
  const files = (await listFolderFiles(spec.modelDir, 2)).filter((f) => f.rel !== METADATA_FILE && f.rel !== OVERRIDES_FILE && !f.rel.endsWith(".bak"));
  const weights = files.filter((f) => isModelFileName(f.rel));
  if (weights.length === 0) {
    throw new ModelLibraryError("E_NOT_FOUND", `${spec.modelDir}: no model files found in the folder`, { path: spec.modelDir });
  }
  const missing = incompleteSets(weights.map((w) => w.rel));
  if (missing.length > 0 && !spec.allowIncomplete) {
    throw new ModelLibraryError("E_INCOMPLETE", `${spec.modelDir}: incomplete shard set: missing ${missing.join(", ")}`, { path: spec.modelDir });
  }
  const primary = weights.reduce((a, b) => (b.size > a.size ? b : a));
  const ident = await identify(join(spec.modelDir, ...primary.rel.split("/")));
  const metaFiles: MetadataFile[] = [];
  for (const f of files) {
    const h = spec.computeHashes === false ? null : await hashFile(join(spec.modelDir, ...f.rel.split("/")));
    metaFiles.push({ name: f.rel, original_name: f.rel, size: f.size, sha256: h?.sha256 ?? null, blake3: h?.blake3 ?? null, fast_hash: h?.fastHash ?? null });
  }
  const primaryMeta = metaFiles.find((f) => f.name === primary.rel)!;
  if (spec.knownSha256) {
    const actual = primaryMeta.sha256 ?? (await hashFile(join(spec.modelDir, ...primary.rel.split("/")))).sha256;
    if (actual !== spec.knownSha256.toLowerCase()) {
      throw new ModelLibraryError(
        "E_HASH_MISMATCH",
        `${join(spec.modelDir, primary.rel)}: sha256 ${actual} does not match the expected ${spec.knownSha256}`,
        { path: spec.modelDir },
      );
    }
    primaryMeta.sha256 = actual;
  }
  const m = blankMetadata();
  const now = nowIso();
  m.model_id = id;
  m.official_name = spec.officialName;
  m.cleaned_name = normalizeName(spec.officialName);
  m.family = spec.family ?? ident.family;
  m.model_type = spec.modelType ?? ident.modelType;
  m.subtype = ident.subtype;
  m.tags = [];
  m.hashes = { sha256: primaryMeta.sha256, blake3: primaryMeta.blake3 };
  m.added_date = now;
  m.updated_date = now;
  m.size_bytes = files.reduce((a, f) => a + f.size, 0);
  m.files = metaFiles;
  m.match_source = spec.repoId ? "download" : "orphan_recovery";
  m.pending_online_lookup = true;
  m.lookup_attempts = 0;
  m.repo_id = spec.repoId ?? null;
  m.expected_files = spec.expectedFiles ?? null;
  applyIdentification(m, ident);
  await withLock(join(lib.root, COMMIT_LOCK), async () => {
    if (await stat(join(spec.modelDir, METADATA_FILE)).catch(() => null)) return; // another process was first
    await writeJsonAtomic(join(spec.modelDir, METADATA_FILE), serializeMetadata(m), { backup: true });
  });
  await lib.indexModel(id);
  return { modelId: id, created: true, securityTier: ident.securityTier };
}

function incompleteSets(weightNames: string[]): string[] {
  const sets = new Map<string, string[]>();
  for (const n of weightNames) {
    const info = shardInfoOf(n.slice(n.lastIndexOf("/") + 1));
    if (!info || info.total === null) continue;
    const key = `${n.slice(0, n.lastIndexOf("/") + 1)}${info.setKey}`;
    sets.set(key, [...(sets.get(key) ?? []), n]);
  }
  return [...sets.values()].flatMap((names) => missingShardNames(names));
}

export interface OrphanFolder {
  dir: string;
  id: string;
  modelType: string | null;
  family: string;
  officialName: string;
  weightFiles: string[];
  missingFiles: string[];
}

/** Folders at depth 1-3 under the root with model files but no metadata.json (skipping hidden, staging and in-progress downloads). */
export async function findOrphans(lib: ModelLibrary): Promise<OrphanFolder[]> {
  const out: OrphanFolder[] = [];
  // A synchronous walk (100k async readdirs left the thread idle most of the time), and a model folder
  // costs one stat of its metadata.json instead of a listing: about a plain stat walk of the library.
  function walk(dir: string, parts: string[]): void {
    if (parts.length > 3) return;
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    const names = entries.map((e) => e.name);
    if (names.includes(METADATA_FILE)) return; // a model: never look inside
    if (parts.length >= 1 && !names.some((n) => n.endsWith(".part"))) {
      const weights = entries.filter((e) => e.isFile() && isModelFileName(e.name)).map((e) => e.name).sort();
      if (weights.length > 0) {
        const inferred = inferSpec(parts);
        out.push({ dir, id: parts.join("/"), ...inferred, weightFiles: weights, missingFiles: incompleteSets(weights) });
        return;
      }
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith(".") || e.name === STAGING_DIR) continue;
      // (plain concatenation: path.join's normalization, 100k times, was a visible part of the walk)
      const child = `${dir}${sep}${e.name}`;
      if (parts.length < 3 && existsSync(`${child}${sep}${METADATA_FILE}`)) continue; // a model: never look inside
      walk(child, [...parts, e.name]);
    }
  }
  walk(lib.root, []);
  return out;
}

function inferSpec(parts: string[]): { modelType: string | null; family: string; officialName: string } {
  const name = parts[parts.length - 1].replace(/_/g, " ");
  if (parts.length === 3) return { modelType: parts[0], family: parts[1], officialName: name };
  if (parts.length === 2) return { modelType: null, family: parts[0], officialName: name };
  return { modelType: null, family: "unknown", officialName: name };
}

export interface AdoptResult {
  orphansFound: number;
  adopted: string[];
  incomplete: { dir: string; missingFiles: string[] }[];
  errors: { dir: string; error: string }[];
}

/** Gives every complete orphan folder a metadata.json (hashing its files) and indexes it; incomplete sets are reported, not adopted. */
export async function adoptOrphans(lib: ModelLibrary, options: { computeHashes?: boolean } = {}): Promise<AdoptResult> {
  const orphans = await findOrphans(lib);
  const result: AdoptResult = { orphansFound: orphans.length, adopted: [], incomplete: [], errors: [] };
  for (const o of orphans) {
    if (o.missingFiles.length > 0) {
      result.incomplete.push({ dir: o.dir, missingFiles: o.missingFiles });
      continue;
    }
    try {
      const r = await importInPlace(lib, {
        modelDir: o.dir,
        officialName: o.officialName,
        family: o.family === "unknown" ? null : o.family,
        modelType: o.modelType,
        computeHashes: options.computeHashes ?? true,
      });
      result.adopted.push(r.modelId);
    } catch (e) {
      result.errors.push({ dir: o.dir, error: (e as Error).message });
    }
  }
  return result;
}

/** Orphan folders holding an incomplete shard set: what is there and what is missing (for a later download to finish). */
export async function incompleteShardReport(lib: ModelLibrary): Promise<OrphanFolder[]> {
  return (await findOrphans(lib)).filter((o) => o.missingFiles.length > 0);
}
