// importModels: stores model files in the library. Each unit (see plan-import.ts) goes through:
//   identify → refuse what must be refused (LFS pointer, pickle without consent, incomplete shard set, unknown bytes)
//   → dedup by content (size + fast hash pre-check, then SHA-256) → stage inside the library root (copy, move,
//   hardlink or reflink, hashing every file as it is transferred) → commit under the library lock: pick the
//   folder, write metadata.json, one rename into place, index.
// The source is never changed, except by `move`, which deletes it only after the stored copy is verified and committed.
// Cancellation (options.signal): checked before each unit, between its steps and files, and inside hashing; the
// unit in progress removes its staging folder before E_CANCELLED is thrown. Units already committed stay (each is
// a whole model); once a unit's commit has begun it is finished, so a model is never half in place.
import { constants as fsc } from "node:fs";
import { copyFile, link, mkdir, realpath, rename, rm, stat, unlink } from "node:fs/promises";
import { dirname, join } from "node:path";
import { ModelLibraryError, ioError, throwIfAborted } from "../core/errors.js";
import { identifyFile } from "../identify/identify.js";
import { identifyFolder } from "../identify/folder.js";
import { describingShard, foreignShards, foreignShardsMessage } from "../identify/shard-consistency.js";
import { missingShardNames } from "../formats/sharding.js";
import { safeRelativePath } from "../formats/naming.js";
import type { Identification } from "../formats/types.js";
import { copyAndHash, fastHashFile, hashFile, type FileHashes } from "../hashing/index.js";
import { writeJsonAtomic } from "../core/atomic-json.js";
import { withLock } from "../core/lock.js";
import { serializeMetadata } from "../store/metadata.js";
import type { ModelLibrary } from "../store/model-library.js";
import { COMMIT_LOCK, METADATA_FILE } from "../store/layout.js";
import { planUnits, type ImportUnit } from "./plan-import.js";
import { makeStagingDir, releaseStaging } from "../store/staging.js";
import { buildModelMetadata } from "./build-metadata.js";
import { cancelledAfter, rethrowIfCancelled } from "./cancel.js";
import { linkedSource, linkedSourcesWarning, symlinkTarget, type LinkedSource } from "./moved-links.js";
import { decidePickles, skippedPicklesWarning } from "./pickle-policy.js";
import { modelHoldingAll } from "./find-duplicate.js";
import { libraryOverlap } from "./library-overlap.js";
import { securityTierOf } from "../formats/types.js";
import type { OperationOptions, ProgressEvent } from "./types.js";

export type ImportMode = "copy" | "move" | "hardlink" | "reflink";

/** What an import is asked to do, besides which paths (the same for both call shapes). */
export interface ImportSettings {
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
}

/** The params of `importModels(library, params, options)`. */
export interface ImportParams extends ImportSettings {
  /** Files or folders (a folder is searched for models). */
  paths: string[];
}

/** What `importModels(library, params, options)` returns: one result per unit, and the counts. */
export interface ImportSummary {
  results: ImportResult[];
  imported: number;
  duplicates: number;
  failed: number;
}

/** The options of the old call shape `importModels(library, paths, options)` (kept as a wrapper). */
export interface ImportOptions extends ImportSettings {
  onProgress?: (event: ImportProgress) => void;
  signal?: AbortSignal;
}

export type ImportStage = "planning" | "identifying" | "checking" | "copying" | "hashing" | "committing" | "done";

/** The old call shape's progress report (the new one reports ProgressEvent with op "import"). */
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
  /** The stored file's mtime when hashed (metadata.json `files[].mtime`: doctor tells a file changed since). */
  mtimeMs: number;
}

// ProgressEvent phases of op "import", by the stage names of the old progress report.
const PHASE: Record<ImportStage, string> = {
  planning: "plan",
  identifying: "identify",
  checking: "check",
  copying: "copy",
  hashing: "hash",
  committing: "commit",
  done: "done",
};

/** Imports the models found at `params.paths`; a path or unit that fails is a "failed" result, the others go on. */
export async function importModels(library: ModelLibrary, params: ImportParams, options?: OperationOptions): Promise<ImportSummary>;
/** @deprecated the old call shape: use `importModels(library, { paths, ...settings }, { signal, onProgress })`. */
export async function importModels(library: ModelLibrary, paths: string[], options?: ImportOptions): Promise<ImportResult[]>;
export async function importModels(
  library: ModelLibrary,
  params: ImportParams | string[],
  options: OperationOptions | ImportOptions = {},
): Promise<ImportSummary | ImportResult[]> {
  if (Array.isArray(params)) {
    const legacy = options as ImportOptions;
    return runImport(library, params, legacy, legacy.signal, legacy.onProgress);
  }
  const { paths, ...settings } = params;
  const { signal, onProgress } = options as OperationOptions;
  const toEvent = (p: ImportProgress): ProgressEvent => ({
    op: "import",
    phase: PHASE[p.stage],
    item: p.source,
    done: p.bytesDone,
    total: p.bytesTotal,
    unit: "bytes",
  });
  const results = await runImport(library, paths, settings, signal, onProgress && ((p) => onProgress(toEvent(p))));
  const count = (s: ImportStatus) => results.filter((r) => r.status === s).length;
  return { results, imported: count("imported"), duplicates: count("duplicate"), failed: count("failed") };
}

async function runImport(
  lib: ModelLibrary,
  paths: string[],
  settings: ImportSettings,
  signal: AbortSignal | undefined,
  onProgress: ((p: ImportProgress) => void) | undefined,
): Promise<ImportResult[]> {
  const mode = settings.mode ?? "copy";
  if (!["copy", "move", "hardlink", "reflink"].includes(mode)) {
    throw new ModelLibraryError("E_USAGE", `unknown import mode "${mode}" (copy, move, hardlink, reflink)`);
  }
  throwIfAborted(signal, "import");
  // A path that cannot be planned (missing, unreadable) fails on its own; the other paths still import.
  const units: ImportUnit[] = [];
  const planFailures: ImportResult[] = [];
  const taken = new Set<string>(); // files already in a unit: shard 1 and shard 2 named together are one set
  const pathUnit = (path: string, kind: ImportUnit["kind"]): ImportUnit => ({ source: path, kind, baseDir: path, files: [], weightFiles: [], defaultName: path });
  for (const p of paths) {
    throwIfAborted(signal, "import");
    const overlap = await libraryOverlap(lib.root, p);
    if (overlap) {
      planFailures.push(failed(pathUnit(p, "file"), overlap, null));
      continue;
    }
    const plan = await planUnits([p], signal);
    // The path itself, or a sub-folder the walk could not read (the rest of the walk was still planned).
    for (const f of plan.failures) planFailures.push(failed(pathUnit(f.path, f.path === p ? "file" : "folder"), f.error, null));
    // A walk that found nothing to import is not a success: say why (a folder of non-model files, say).
    if (plan.units.length === 0 && plan.failures.length === 0) planFailures.push(failed(pathUnit(p, "file"), nothingFound(p), null));
    for (const u of plan.units) {
      const files = u.files.map((f) => join(u.baseDir, f));
      if (files.every((f) => taken.has(f))) continue;
      files.forEach((f) => taken.add(f));
      units.push(u);
    }
  }
  const sizes = await Promise.all(units.map(async (u) => Promise.all(u.files.map(async (f) => (await stat(join(u.baseDir, f))).size))));
  const results: ImportResult[] = [...planFailures];
  try {
    await importUnits(lib, units, sizes, settings, mode, signal, onProgress, results);
  } catch (e) {
    // A cancel after some units were committed: those stay in the library, and the cancellation says so.
    throw cancelledAfter(
      e,
      results.filter((r) => r.status === "imported").map((r) => `imported ${r.source} as ${r.modelId} (${r.path})`),
    );
  }
  return results;
}

/** Imports the planned units in turn, appending each one's result to `results` as it is done. */
async function importUnits(
  lib: ModelLibrary,
  units: ImportUnit[],
  sizes: number[][],
  settings: ImportSettings,
  mode: ImportMode,
  signal: AbortSignal | undefined,
  onProgress: ((p: ImportProgress) => void) | undefined,
  results: ImportResult[],
): Promise<void> {
  const bytesTotal = sizes.flat().reduce((a, b) => a + b, 0);
  const filesTotal = units.reduce((a, u) => a + u.files.length, 0);
  let bytesBefore = 0;
  let filesBefore = 0;
  for (let i = 0; i < units.length; i++) {
    throwIfAborted(signal, "import");
    const unit = units[i];
    const emit = (stage: ImportStage, unitBytes = 0, unitFiles = 0) =>
      onProgress?.({
        stage,
        source: unit.source,
        unitIndex: i,
        unitCount: units.length,
        filesDone: filesBefore + (stage === "done" ? unit.files.length : unitFiles),
        filesTotal,
        bytesDone: bytesBefore + unitBytes,
        bytesTotal,
      });
    const result = await importUnit(lib, unit, { ...settings, mode, name: units.length === 1 ? settings.name : undefined }, signal, emit);
    results.push(result);
    bytesBefore += sizes[i].reduce((a, b) => a + b, 0);
    emit("done");
    filesBefore += unit.files.length;
  }
}

function nothingFound(path: string): ModelLibraryError {
  return new ModelLibraryError(
    "E_NOT_FOUND",
    `${path}: no model files found (looked for .gguf, .safetensors, .ckpt, .pt, .pth, .bin, .onnx, .ggml; hidden entries ` +
      `are skipped, and symlinks too, except a Hugging Face snapshot's links into its own blobs/)`,
    { path },
  );
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
  if (unit.kind === "file") return idents.reduce((a, b) => (b.fileSize > a.fileSize ? b : a));
  const primary = describingShard(idents);
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
  const foreign = foreignShards(unit.weightFiles, idents);
  if (foreign.length > 0) merged.folder.foreignShards = foreign;
  return merged;
}

/** The reasons a unit is refused before any byte is copied. */
function gate(unit: ImportUnit, ident: Identification, options: ImportSettings): ModelLibraryError | null {
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
      `${unit.source}: ${ident.folder.kind === "diffusers" ? "incomplete diffusers pipeline" : "incomplete shard set"}: ` +
        `missing ${missing.length} ${ident.folder.kind === "diffusers" ? "component folder(s)" : "file(s)"}: ${missing.slice(0, 8).join(", ")}${missing.length > 8 ? ", ..." : ""}` +
        ` (pass --allow-incomplete to store it anyway)`,
      { path: unit.source },
    );
  }
  if (ident.folder?.foreignShards?.length) {
    return new ModelLibraryError(
      "E_INVALID",
      `${foreignShardsMessage(unit.source, ident.folder.foreignShards)}; the set is not stored (import the right shards, or each file on its own)`,
      { path: unit.source },
    );
  }
  if (ident.format === "unknown") {
    const why = ident.folder && ident.folder.weightFiles.length === 0
      ? "the folder holds no weight files"
      : ident.fileSize === 0 && !ident.folder
        ? "the file is empty (0 bytes)"
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

/**
 * An ONNX model whose weights live in files beside it (external data): those files are part of the model, stored
 * (and, with --mode move, moved) with it. A location outside the model's folder, or a missing file, is refused.
 */
async function withOnnxExternalData(unit: ImportUnit, ident: Identification, options: ImportSettings): Promise<ImportUnit | ModelLibraryError> {
  const locations = ident.onnx?.externalData ?? [];
  if (unit.kind !== "file" || locations.length === 0) return unit;
  const modelDir = unit.files[0].includes("/") ? unit.files[0].slice(0, unit.files[0].lastIndexOf("/") + 1) : "";
  const extra: string[] = [];
  const missing: string[] = [];
  for (const location of locations) {
    let rel: string;
    try {
      rel = modelDir + safeRelativePath(location);
    } catch (e) {
      return new ModelLibraryError(
        "E_INVALID",
        `${unit.source}: its external data location ${JSON.stringify(location)} is not a file beside the model (${(e as Error).message}); not stored`,
        { path: unit.source },
      );
    }
    const st = await stat(join(unit.baseDir, rel)).catch(() => null);
    if (st?.isFile()) extra.push(rel);
    else missing.push(location);
  }
  if (missing.length > 0 && !options.allowIncomplete) {
    return new ModelLibraryError(
      "E_INCOMPLETE",
      `${unit.source}: its weights are in external data file(s) that are not beside it: ${missing.slice(0, 8).join(", ")}` +
        ` (pass --allow-incomplete to store it anyway)`,
      { path: unit.source },
    );
  }
  const files = [...unit.files, ...extra.filter((f) => !unit.files.includes(f))];
  return { ...unit, files };
}

/**
 * aria2 (and tools built on it) preallocates the whole file and fills it in place, with `<name>.aria2` beside it
 * until it is done: the file has its full size and a valid header long before its last bytes are there.
 */
async function downloadInProgress(unit: ImportUnit, options: ImportSettings): Promise<ModelLibraryError | null> {
  if (options.allowIncomplete) return null;
  const controls: string[] = [];
  for (const f of unit.weightFiles) {
    const control = `${join(unit.baseDir, f)}.aria2`;
    if (await stat(control).then((s) => s.isFile(), () => false)) controls.push(control);
  }
  if (controls.length === 0) return null;
  return new ModelLibraryError(
    "E_INCOMPLETE",
    `${unit.source}: still being downloaded (aria2 control file ${controls.slice(0, 3).join(", ")}${controls.length > 3 ? ", ..." : ""} beside it); ` +
      `import it once the download has finished (--allow-incomplete to store it as it is)`,
    { path: unit.source },
  );
}

/** Size + fast-hash pre-check (reads at most 16 MiB a file), then full SHA-256: the id of a model holding all these weights, or null. */
async function findDuplicate(lib: ModelLibrary, unit: ImportUnit, signal: AbortSignal | undefined): Promise<string | null> {
  const perFile: { abs: string; matches: { modelId: string; sha256: string | null }[] }[] = [];
  for (const rel of unit.files) { // every file: configs too (two pipelines may differ only there)
    throwIfAborted(signal, "import");
    const abs = join(unit.baseDir, rel);
    const matches = lib.findFilesBySizeAndFastHash((await stat(abs)).size, await fastHashFile(abs));
    if (matches.length === 0) return null;
    perFile.push({ abs, matches });
  }
  // Same size and same head/tail bytes: confirm with the whole content before calling it a duplicate.
  let candidates = null as Set<string> | null;
  for (const { abs, matches } of perFile) {
    const sha256 = (await hashFile(abs, { signal })).sha256;
    const ids = new Set(matches.filter((m) => m.sha256 === sha256).map((m) => m.modelId));
    candidates = candidates === null ? ids : new Set([...candidates].filter((id) => ids.has(id)));
    if (candidates.size === 0) return null;
  }
  return candidates ? ([...candidates][0] ?? null) : null;
}

async function importUnit(
  lib: ModelLibrary,
  unit: ImportUnit,
  options: ImportSettings & { mode: ImportMode },
  signal: AbortSignal | undefined,
  emit: (stage: ImportStage, unitBytes?: number, unitFiles?: number) => void,
): Promise<ImportResult> {
  let ident: Identification | null = null;
  let staging: string | null = null;
  let stagingMade: string | null = null; // its lease ends in finally, committed or not
  try {
    emit("identifying");
    ident = await identifyUnit(unit);
    const pickles = decidePickles(unit.source, ident, unit.weightFiles, Boolean(options.securityAcknowledged));
    if (pickles.refusal) return failed(unit, pickles.refusal, ident);
    if (pickles.skip.length > 0) {
      const keep = (f: string) => !pickles.skip.includes(f);
      unit = { ...unit, files: unit.files.filter(keep), weightFiles: unit.weightFiles.filter(keep) };
      ident.warnings.push(skippedPicklesWarning(unit.source, pickles.skip));
      ident.securityTier = securityTierOf(ident.format);
    }
    const refusal = gate(unit, ident, options) ?? (await downloadInProgress(unit, options));
    if (refusal) return failed(unit, refusal, ident);
    const external = await withOnnxExternalData(unit, ident, options);
    if (external instanceof ModelLibraryError) return failed(unit, external, ident);
    unit = external;
    for (const f of unit.files) safeRelativePath(f);

    throwIfAborted(signal, "import");
    emit("checking");
    // A model committed earlier whose index row could not be written (disk full) is indexed first: the
    // duplicate check below asks the index.
    await lib.catchUpIndex();
    if (!options.allowDuplicate) {
      const dup = await findDuplicate(lib, unit, signal);
      if (dup) return duplicateResult(unit, ident, dup);
    }

    throwIfAborted(signal, "import");
    staging = stagingMade = await makeStagingDir(lib.root);
    const warnings = [...ident.warnings];
    const staged: StagedFile[] = [];
    let unitBytes = 0;
    for (const rel of unit.files) {
      throwIfAborted(signal, "import");
      const src = join(unit.baseDir, rel);
      const dst = join(staging, ...rel.split("/"));
      await mkdir(dirname(dst), { recursive: true });
      const before = unitBytes;
      const filesDone = staged.length;
      const onProgress = (n: number) => emit(options.mode === "copy" ? "copying" : "hashing", before + n, filesDone);
      const hashes = await transferFile(src, dst, options.mode, { onProgress, signal }, warnings);
      unitBytes += hashes.size;
      staged.push({ rel, size: hashes.size, hashes, mtimeMs: (await stat(dst)).mtimeMs });
    }

    // The last safe point: from here on the unit is committed whole.
    throwIfAborted(signal, "import");
    emit("committing", unitBytes, staged.length);
    const committed = await withLock(join(lib.root, COMMIT_LOCK), async () => {
      const files = staged.map((s) => ({
        name: s.rel,
        original_name: s.rel,
        size: s.size,
        sha256: s.hashes.sha256,
        blake3: s.hashes.blake3,
        fast_hash: s.hashes.fastHash,
        mtime: s.mtimeMs,
      }));
      await lib.catchUpIndex();
      if (!options.allowDuplicate) {
        // Another process may have committed the same content while we copied: the whole model, every file.
        const other = modelHoldingAll(lib, staged.map((s) => s.hashes));
        if (other) return { kind: "duplicate" as const, duplicateOf: other };
      }
      const name = options.name ?? unit.defaultName;
      const modelType = options.modelType ?? ident!.modelType;
      const family = options.family ?? ident!.family;
      const id = await freeModelId(lib, lib.buildModelId(modelType, family, name));
      const metadata = buildModelMetadata({
        id,
        name,
        ident: ident!,
        files,
        weightFiles: unit.weightFiles,
        modelType: options.modelType,
        family: options.family,
        subtype: options.subtype,
        tags: options.tags,
        matchSource: "import",
        repoId: unit.repoId,
        description: ident!.name && ident!.name !== name ? ident!.name : null,
        expectedFiles: ident!.folder && !ident!.folder.complete ? [...unit.files, ...ident!.folder.missingFiles].sort() : null,
      });
      await writeJsonAtomic(join(staging!, METADATA_FILE), serializeMetadata(metadata), { backup: false });
      const target = lib.modelDir(id);
      await mkdir(dirname(target), { recursive: true });
      await rename(staging!, target);
      staging = null;
      // From here the model is in the library. An index that cannot be written now (a full disk) is derived
      // data: the next open finds the new folder and indexes it, so the result says so rather than "failed".
      const indexError = await lib.indexModel(id).then(() => null, (e: unknown) => (e as Error).message);
      return { kind: "committed" as const, id, target, indexError };
    });
    if (committed.kind === "duplicate") return duplicateResult(unit, ident, committed.duplicateOf);

    if (committed.indexError) {
      warnings.push(`${committed.target}: stored, but the index could not be updated (${committed.indexError}); it catches up on the next open (or \`mlib reindex\`)`);
    }
    if (options.mode === "move") {
      // Only now, with the copy verified and committed, does the source go.
      // One that cannot go (a read-only or immutable folder) stays, and the result says so: the user asked for a move.
      // A source that is a symbolic link (a Hugging Face snapshot's file): the link goes, the file it points to
      // stays (moved-links.ts), and the result says what space it still holds.
      const linked: LinkedSource[] = [];
      for (const rel of unit.files) {
        const file = join(unit.baseDir, rel);
        const target = await symlinkTarget(file);
        const removed = await unlink(file).then(
          () => true,
          (e: NodeJS.ErrnoException) => {
            if (e.code === "ENOENT") return false; // gone already
            warnings.push(`${ioError(file, "remove", e).message}: the model is stored in the library all the same, and this source file is still there`);
            return false;
          },
        );
        const left = removed && target ? await linkedSource(file, target, join(committed.target, ...rel.split("/"))) : null;
        if (left) linked.push(left);
      }
      const note = linkedSourcesWarning(linked);
      if (note) warnings.push(note);
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
    // A cancellation ends the whole call (after the finally below removed the staging); any other error fails this unit only.
    rethrowIfCancelled(e, signal, "import");
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
 *   copy     — the kernel copies while the hasher reads alongside (see hashing/copy-and-hash.ts);
 *   hardlink — a hard link (no data copied), then hash; across filesystems, a copy (with a warning);
 *   reflink  — a copy-on-write clone where the filesystem can, then hash; else a copy as in copy mode;
 *   move     — a hard link now (the source goes only after commit); across filesystems, copy, then verify the copy.
 */
async function transferFile(
  src: string,
  dst: string,
  mode: ImportMode,
  hashOptions: { onProgress: (bytes: number) => void; signal: AbortSignal | undefined },
  warnings: string[],
): Promise<FileHashes> {
  const { signal } = hashOptions;
  if (mode === "copy") return copyAndHash(src, dst, hashOptions);
  if (mode === "reflink") {
    try {
      const before = await stat(src);
      await copyFile(src, dst, fsc.COPYFILE_EXCL | fsc.COPYFILE_FICLONE_FORCE);
      // The clone is the source's bytes at this instant; hash the source (likely in the page cache, unlike the new
      // clone) and make sure it did not change meanwhile, so the hashes describe the clone.
      const hashes = await hashFile(src, hashOptions);
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
      return copyAndHash(src, dst, hashOptions);
    }
  }
  // hardlink and move
  try {
    // A link to the file itself, never to a symlink (a Hugging Face snapshot's file is a link into its blobs/).
    await link(await realpath(src), dst);
    return await hashFile(dst, hashOptions).catch((e: unknown) => {
      // The link is the source's bytes under a staging name: an error about it is about the user's file.
      if (e instanceof ModelLibraryError && e.path === dst && e.code === "E_IO" && e.message.includes("changed while hashing")) {
        const detail = /\(([^)]*)\)/.exec(e.message)?.[1];
        throw new ModelLibraryError(
          "E_IO",
          `${src}: changed while being imported${detail ? ` (${detail})` : ""}; try again when nothing writes to it (a download or copy still running?)`,
          { path: src, cause: e },
        );
      }
      throw e;
    });
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK") throw e instanceof ModelLibraryError ? e : ioError(dst, "link", e);
    await rm(dst, { force: true });
    const copied = await copyAndHash(src, dst, hashOptions);
    if (mode === "move") {
      const check = await hashFile(dst, { signal });
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

/** `id`, or `id_2`, `id_3`... when a different model already has that folder. */
async function freeModelId(lib: ModelLibrary, id: string): Promise<string> {
  for (let n = 1; ; n++) {
    const candidate = n === 1 ? id : `${id}_${n}`;
    const exists = await stat(lib.modelDir(candidate)).then(() => true, () => false);
    if (!exists) return candidate;
  }
}
