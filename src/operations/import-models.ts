// Importing models into the library. Each unit (see import-plan.ts) goes through:
//   identify → refuse what must be refused (LFS pointer, pickle without consent, incomplete shard set, unknown bytes)
//   → dedup by content (size + fast hash pre-check, then SHA-256) → stage inside the library root (copy, move,
//   hardlink or reflink, hashing every file as it is transferred) → commit under the library lock: pick the
//   folder, write metadata.json, one rename into place, index.
// The source is never changed, except by `move`, which deletes it only after the stored copy is verified and committed.
import { constants as fsc } from "node:fs";
import { copyFile, link, mkdir, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { identifyFile } from "../identify/identify.js";
import { identifyFolder } from "../identify/folder.js";
import { missingShardNames } from "../formats/sharding.js";
import { safeRelativePath } from "../formats/naming.js";
import { normalizeName } from "../formats/naming.js";
import type { Identification } from "../formats/types.js";
import { copyWhileHashing, fastHashFile, hashFile, type FileHashes } from "../hashing/index.js";
import { writeJsonAtomic } from "../core/atomic-json.js";
import { withLock } from "../core/lock.js";
import { applyIdentification, blankMetadata, nowIso, serializeMetadata, type MetadataFile, type ModelMetadata } from "../store/metadata.js";
import type { ModelLibrary } from "../store/model-library.js";
import { COMMIT_LOCK, METADATA_FILE } from "../store/layout.js";
import { planImport, type ImportUnit } from "./plan-import.js";
import { makeStagingDir, releaseStaging } from "../store/staging.js";

export type ImportMode = "copy" | "move" | "hardlink" | "reflink";

export interface ImportOptions {
  mode?: ImportMode;
  /** Pickle can run code when loaded: it is stored only when the caller says they know (CLI: --allow-pickle). */
  securityAcknowledged?: boolean;
  /** Store content that is already in the library (default: refuse and name the model that has it). */
  allowDuplicate?: boolean;
  /** Store a shard set with missing shards (default: refuse and name them). */
  allowIncomplete?: boolean;
  /** Overrides of what identification found (apply to every unit of this call). */
  modelType?: string;
  family?: string;
  subtype?: string;
  /** Display name; only used when the call imports a single unit. */
  name?: string;
  tags?: string[];
  onProgress?: (event: ImportProgress) => void;
}

export type ImportStage = "planning" | "identifying" | "checking" | "copying" | "hashing" | "committing" | "done";

export interface ImportProgress {
  stage: ImportStage;
  source: string;
  unitIndex: number;
  unitCount: number;
  /** Files and bytes processed over the whole call, and the totals (every unit's files). */
  filesDone: number;
  filesTotal: number;
  bytesDone: number;
  bytesTotal: number;
}

export type ImportStatus = "imported" | "duplicate" | "failed";

export interface ImportResult {
  source: string;
  status: ImportStatus;
  modelId: string | null;
  path: string | null;
  /** For a duplicate: the model that already holds this content. */
  duplicateOf: string | null;
  error: { code: string; message: string } | null;
  format: string | null;
  securityTier: string | null;
  modelType: string | null;
  family: string | null;
  files: number;
  bytes: number;
  warnings: string[];
}

interface StagedFile {
  rel: string;
  size: number;
  hashes: FileHashes;
}

export async function importModels(lib: ModelLibrary, paths: string[], options: ImportOptions = {}): Promise<ImportResult[]> {
  const mode = options.mode ?? "copy";
  if (!["copy", "move", "hardlink", "reflink"].includes(mode)) {
    throw new ModelLibraryError("E_USAGE", `unknown import mode "${mode}" (copy, move, hardlink, reflink)`);
  }
  // A path that cannot be planned (missing, unreadable) fails on its own; the other paths still import.
  const units: ImportUnit[] = [];
  const planFailures: ImportResult[] = [];
  const taken = new Set<string>(); // files already in a unit: shard 1 and shard 2 named together are one set
  for (const p of paths) {
    try {
      for (const u of await planImport([p])) {
        const files = u.files.map((f) => join(u.baseDir, f));
        if (files.every((f) => taken.has(f))) continue;
        files.forEach((f) => taken.add(f));
        units.push(u);
      }
    } catch (e) {
      planFailures.push(failed({ source: p, kind: "file", baseDir: p, files: [], weightFiles: [], defaultName: p }, e, null));
    }
  }
  const sizes = await Promise.all(units.map(async (u) => Promise.all(u.files.map(async (f) => (await stat(join(u.baseDir, f))).size))));
  const bytesTotal = sizes.flat().reduce((a, b) => a + b, 0);
  const filesTotal = units.reduce((a, u) => a + u.files.length, 0);
  let bytesBefore = 0;
  let filesBefore = 0;
  const results: ImportResult[] = [...planFailures];
  for (let i = 0; i < units.length; i++) {
    const unit = units[i];
    const emit = (stage: ImportStage, unitBytes = 0, unitFiles = 0) =>
      options.onProgress?.({
        stage,
        source: unit.source,
        unitIndex: i,
        unitCount: units.length,
        filesDone: filesBefore + (stage === "done" ? unit.files.length : unitFiles),
        filesTotal,
        bytesDone: bytesBefore + unitBytes,
        bytesTotal,
      });
    const result = await importUnit(lib, unit, { ...options, mode, name: units.length === 1 ? options.name : undefined }, emit);
    results.push(result);
    bytesBefore += sizes[i].reduce((a, b) => a + b, 0);
    emit("done");
    filesBefore += unit.files.length;
  }
  return results;
}

function failed(unit: ImportUnit, err: unknown, ident: Identification | null): ImportResult {
  const e = err instanceof ModelLibraryError ? err : ioError(unit.source, "import", err);
  return {
    source: unit.source,
    status: "failed",
    modelId: null,
    path: null,
    duplicateOf: null,
    error: { code: e.code, message: e.message },
    format: ident?.format ?? null,
    securityTier: ident?.securityTier ?? null,
    modelType: ident?.modelType ?? null,
    family: ident?.family ?? null,
    files: unit.files.length,
    bytes: 0,
    warnings: ident?.warnings ?? [],
  };
}

async function identifyUnit(unit: ImportUnit): Promise<Identification> {
  if (unit.kind === "folder") return identifyFolder(unit.baseDir, identifyFile);
  const idents = await Promise.all(unit.weightFiles.map((f) => identifyFile(join(unit.baseDir, f))));
  const primary = idents.reduce((a, b) => (b.fileSize > a.fileSize ? b : a));
  if (unit.kind === "file") return primary;
  // A shard set: one model whose size and parameters are the sum of its shards (not the first shard's).
  const merged: Identification = { ...primary, path: unit.source, shard: null, warnings: [...primary.warnings] };
  merged.fileSize = idents.reduce((a, b) => a + b.fileSize, 0);
  const params = idents.map((i) => i.parameterCount);
  merged.parameterCount = params.every((p) => p !== null) ? params.reduce((a, b) => a! + b!, 0) : primary.parameterCount;
  const pointers = idents.filter((i) => i.format === "lfs-pointer");
  if (pointers.length > 0) merged.format = "lfs-pointer";
  const missing = missingShardNames(unit.weightFiles);
  merged.folder = {
    kind: "shard-set",
    weightFiles: unit.weightFiles,
    files: unit.files,
    complete: missing.length === 0,
    missingFiles: missing,
    components: null,
  };
  return merged;
}

/** The reasons a unit is refused before any byte is copied. */
function gate(unit: ImportUnit, ident: Identification, options: ImportOptions): ModelLibraryError | null {
  if (ident.format === "lfs-pointer" || ident.lfsPointer) {
    return new ModelLibraryError(
      "E_LFS_POINTER",
      ident.warnings.find((w) => w.includes("LFS")) ??
        `${unit.source}: a Git LFS pointer, not the model: it was never downloaded (run \`git lfs pull\` or download it again)`,
      { path: unit.source },
    );
  }
  if (ident.folder && !ident.folder.complete && !options.allowIncomplete) {
    const missing = ident.folder.missingFiles;
    return new ModelLibraryError(
      "E_INCOMPLETE",
      `${unit.source}: incomplete shard set: missing ${missing.length} file(s): ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", ..." : ""}` +
        ` (pass --allow-incomplete to store it anyway)`,
      { path: unit.source },
    );
  }
  if (ident.format === "unknown") {
    const why = ident.folder && ident.folder.weightFiles.length === 0
      ? "the folder holds no weight files"
      : "not a recognised model file (its bytes are not GGUF, GGML, safetensors, pickle/zip or ONNX)";
    return new ModelLibraryError("E_INVALID", `${unit.source}: ${why}`, { path: unit.source });
  }
  if (ident.securityTier === "pickle" && !options.securityAcknowledged) {
    return new ModelLibraryError(
      "E_PICKLE",
      `${unit.source}: pickle format (${ident.pickleEntries ? "a zip holding a pickle" : "raw pickle"}): loading it can run arbitrary code. ` +
        `Prefer a safetensors version; to store it anyway pass --allow-pickle (API: securityAcknowledged: true)`,
      { path: unit.source },
    );
  }
  return null;
}

/** Size + fast-hash pre-check (reads at most 16 MiB a file), then full SHA-256: the id of a model holding all these weights, or null. */
async function findDuplicate(lib: ModelLibrary, unit: ImportUnit): Promise<string | null> {
  const perFile: { abs: string; matches: { modelId: string; sha256: string | null }[] }[] = [];
  for (const rel of unit.weightFiles) {
    const abs = join(unit.baseDir, rel);
    const matches = lib.index.findFilesBySizeAndFastHash((await stat(abs)).size, await fastHashFile(abs));
    if (matches.length === 0) return null;
    perFile.push({ abs, matches });
  }
  // Same size and same head/tail bytes: confirm with the whole content before calling it a duplicate.
  let candidates = null as Set<string> | null;
  for (const { abs, matches } of perFile) {
    const sha256 = (await hashFile(abs)).sha256;
    const ids = new Set(matches.filter((m) => m.sha256 === sha256).map((m) => m.modelId));
    candidates = candidates === null ? ids : new Set([...candidates].filter((id) => ids.has(id)));
    if (candidates.size === 0) return null;
  }
  return candidates ? ([...candidates][0] ?? null) : null;
}

async function importUnit(
  lib: ModelLibrary,
  unit: ImportUnit,
  options: ImportOptions & { mode: ImportMode },
  emit: (stage: ImportStage, unitBytes?: number, unitFiles?: number) => void,
): Promise<ImportResult> {
  let ident: Identification | null = null;
  let staging: string | null = null;
  let stagingMade: string | null = null; // its lease ends in finally, committed or not
  try {
    emit("identifying");
    ident = await identifyUnit(unit);
    const refusal = gate(unit, ident, options);
    if (refusal) return failed(unit, refusal, ident);
    for (const f of unit.files) safeRelativePath(f);

    emit("checking");
    if (!options.allowDuplicate) {
      const dup = await findDuplicate(lib, unit);
      if (dup) return duplicateResult(unit, ident, dup);
    }

    staging = stagingMade = await makeStagingDir(lib.root);
    const warnings = [...ident.warnings];
    const staged: StagedFile[] = [];
    let unitBytes = 0;
    for (const rel of unit.files) {
      const src = join(unit.baseDir, rel);
      const dst = join(staging, ...rel.split("/"));
      await mkdir(dirname(dst), { recursive: true });
      const before = unitBytes;
      const filesDone = staged.length;
      const onProgress = (n: number) => emit(options.mode === "copy" ? "copying" : "hashing", before + n, filesDone);
      const hashes = await transferFile(src, dst, options.mode, onProgress, warnings);
      unitBytes += hashes.size;
      staged.push({ rel, size: hashes.size, hashes });
    }

    emit("committing", unitBytes, staged.length);
    const committed = await withLock(join(lib.root, COMMIT_LOCK), async () => {
      if (!options.allowDuplicate) {
        // Another process may have committed the same content while we copied.
        const primary = primaryOf(staged, unit);
        const other = lib.index.findByHash(primary.hashes.sha256);
        if (other) return { kind: "duplicate" as const, duplicateOf: other.id };
      }
      const name = options.name ?? unit.defaultName;
      const modelType = options.modelType ?? ident!.modelType;
      const family = options.family ?? ident!.family;
      const id = await freeModelId(lib, lib.buildModelId(modelType, family, name));
      const metadata = buildMetadata(id, name, ident!, unit, staged, options);
      await writeJsonAtomic(join(staging!, METADATA_FILE), serializeMetadata(metadata), { backup: false });
      const target = lib.modelDir(id);
      await mkdir(dirname(target), { recursive: true });
      await rename(staging!, target);
      staging = null;
      await lib.indexModel(id);
      return { kind: "committed" as const, id, target };
    });
    if (committed.kind === "duplicate") return duplicateResult(unit, ident, committed.duplicateOf);

    if (options.mode === "move") {
      // Only now, with the copy verified and committed, does the source go.
      for (const rel of unit.files) await unlink(join(unit.baseDir, rel)).catch(() => undefined);
    }
    return {
      source: unit.source,
      status: "imported",
      modelId: committed.id,
      path: committed.target,
      duplicateOf: null,
      error: null,
      format: ident.format,
      securityTier: ident.securityTier,
      modelType: options.modelType ?? ident.modelType,
      family: options.family ?? ident.family,
      files: staged.length,
      bytes: unitBytes,
      warnings,
    };
  } catch (e) {
    return failed(unit, e, ident);
  } finally {
    if (staging) await rm(staging, { recursive: true, force: true }).catch(() => undefined);
    if (stagingMade) releaseStaging(stagingMade);
  }
}

function duplicateResult(unit: ImportUnit, ident: Identification, modelId: string): ImportResult {
  return {
    source: unit.source,
    status: "duplicate",
    modelId: null,
    path: null,
    duplicateOf: modelId,
    error: null,
    format: ident.format,
    securityTier: ident.securityTier,
    modelType: ident.modelType,
    family: ident.family,
    files: unit.files.length,
    bytes: 0,
    warnings: [`${unit.source}: already in the library as ${modelId} (same SHA-256); not stored again (--allow-duplicate to store it anyway)`],
  };
}

/**
 * Puts one file into staging and returns its hashes, reading the data once:
 *   copy     — the kernel copies while the hasher reads alongside (see copy-while-hashing.ts);
 *   hardlink — a hard link (no data copied), then hash; across filesystems, a copy (with a warning);
 *   reflink  — a copy-on-write clone where the filesystem can, then hash; else a copy as in copy mode;
 *   move     — a hard link now (the source goes only after commit); across filesystems, copy, then verify the copy.
 */
async function transferFile(
  src: string,
  dst: string,
  mode: ImportMode,
  onProgress: (bytes: number) => void,
  warnings: string[],
): Promise<FileHashes> {
  if (mode === "copy") return copyWhileHashing(src, dst, { onProgress });
  if (mode === "reflink") {
    try {
      const before = await stat(src);
      await copyFile(src, dst, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE_FORCE);
      // The clone is the source's bytes at this instant; hash the source (likely in the page cache, unlike the new
      // clone) and make sure it did not change meanwhile, so the hashes describe the clone.
      const hashes = await hashFile(src, { onProgress });
      const after = await stat(src);
      if (after.mtimeMs !== before.mtimeMs || after.size !== before.size || hashes.size !== (await stat(dst)).size) {
        throw new ModelLibraryError("E_IO", `${src}: changed while being imported; try again when nothing writes to it`, { path: src });
      }
      return hashes;
    } catch (e) {
      if (e instanceof ModelLibraryError) throw e;
      if (!isNoCloneError(e)) throw ioError(dst, "clone", e);
      await rm(dst, { force: true });
      if (!warnings.some((w) => w.includes("reflink"))) warnings.push("this filesystem has no reflink (copy-on-write) support: the files were copied");
      return copyWhileHashing(src, dst, { onProgress });
    }
  }
  // hardlink and move
  try {
    await link(src, dst);
    return await hashFile(dst, { onProgress });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw e instanceof ModelLibraryError ? e : ioError(dst, "link", e);
    await rm(dst, { force: true });
    const copied = await copyWhileHashing(src, dst, { onProgress });
    if (mode === "move") {
      const check = await hashFile(dst);
      if (check.sha256 !== copied.sha256) {
        throw new ModelLibraryError("E_HASH_MISMATCH", `${dst}: the copy of ${src} does not match it (sha256 ${check.sha256} vs ${copied.sha256}); the source is kept`, { path: dst });
      }
    } else if (!warnings.some((w) => w.includes("hard link"))) {
      warnings.push("the source is on another filesystem: a hard link is impossible, the files were copied");
    }
    return copied;
  }
}

function isNoCloneError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "ENOTSUP" || code === "EOPNOTSUPP" || code === "EXDEV" || code === "EINVAL" || code === "ENOSYS" || code === "ERR_FS_CP_EINVAL";
}

function primaryOf(staged: StagedFile[], unit: ImportUnit): StagedFile {
  const weights = staged.filter((s) => unit.weightFiles.includes(s.rel));
  return (weights.length > 0 ? weights : staged).reduce((a, b) => (b.size > a.size ? b : a));
}

/** `id`, or `id_2`, `id_3`... when a different model already has that folder. */
async function freeModelId(lib: ModelLibrary, id: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? id : `${id}_${n}`;
    const exists = await stat(lib.modelDir(candidate)).then(() => true, () => false);
    if (!exists) return candidate;
  }
}

function buildMetadata(
  id: string,
  name: string,
  ident: Identification,
  unit: ImportUnit,
  staged: StagedFile[],
  options: ImportOptions,
): ModelMetadata {
  const m = blankMetadata();
  const primary = primaryOf(staged, unit);
  const now = nowIso();
  const files: MetadataFile[] = staged.map((s) => ({
    name: s.rel,
    original_name: s.rel,
    size: s.size,
    sha256: s.hashes.sha256,
    blake3: s.hashes.blake3,
    fast_hash: s.hashes.fastHash,
  }));
  m.model_id = id;
  m.family = options.family ?? ident.family;
  m.model_type = options.modelType ?? ident.modelType;
  m.subtype = options.subtype ?? ident.subtype;
  m.official_name = name;
  m.cleaned_name = normalizeName(name);
  m.tags = options.tags && options.tags.length > 0 ? [...new Set(options.tags)] : [];
  m.hashes = { sha256: primary.hashes.sha256, blake3: primary.hashes.blake3 };
  m.added_date = now;
  m.updated_date = now;
  m.size_bytes = staged.reduce((a, s) => a + s.size, 0);
  m.files = files;
  m.match_source = "import";
  m.pending_online_lookup = true;
  m.lookup_attempts = 0;
  applyIdentification(m, ident);
  m.description = ident.name && ident.name !== name ? ident.name : null;
  m.expected_files = ident.folder && !ident.folder.complete ? [...unit.files, ...ident.folder.missingFiles].sort() : null;
  return m;
}
