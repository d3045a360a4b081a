// importInPlace: a model whose files are already inside the library root (a finished download, an orphan folder
// being adopted) gets its metadata.json and its index row. The original's import_in_place, with its quirks fixed:
// every shard set is checked (not only the first), a known sha256 is verified rather than trusted, model_id is the
// folder's real id, and no repo id is invented from a folder name. Nothing is written before every file is hashed,
// so a cancellation (checked between files and inside hashing) leaves the folder as it was.
import { stat } from "node:fs/promises";
import { join, relative, sep } from "node:path";
import { ModelLibraryError, throwIfAborted } from "../core/errors.js";
import { listFolderFiles } from "../identify/folder.js";
import { identify } from "../identify/identify.js";
import { isModelFileName, sniffFormat } from "../formats/sniff.js";
import { readHead } from "../formats/file-bytes.js";
import { securityTierOf } from "../formats/types.js";
import { fastHashFile, hashFile, type FileHashes, type HashFileOptions } from "../hashing/index.js";
import { writeJsonAtomic } from "../core/atomic-json.js";
import { withLock } from "../core/lock.js";
import { serializeMetadata, type MetadataFile } from "../store/metadata.js";
import type { ModelLibrary } from "../store/model-library.js";
import { COMMIT_LOCK, METADATA_FILE, OVERRIDES_FILE } from "../store/layout.js";
import { buildModelMetadata } from "./build-metadata.js";
import { rethrowIfCancelled } from "./cancel.js";
import { incompleteSets } from "./find-orphans.js";
import type { OperationOptions } from "./types.js";

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
  /** Index a folder holding pickle weights (default: refuse it, leaving its files as they are; see pickle-policy.ts). */
  allowPickle?: boolean;
  /** Hashes already computed while the files were written (a download): these files are not read again. */
  knownHashes?: Record<string, { sha256: string; blake3: string }> | null;
}

export interface InPlaceResult {
  modelId: string;
  created: boolean;
  securityTier: string | null;
  /** What the caller should tell the user: e.g. metadata.json written but the index write failed (it catches up). */
  warnings?: string[];
}

/** Writes metadata.json for a folder already in place and indexes it. Idempotent: an existing metadata.json is kept. */
export async function importInPlace(lib: ModelLibrary, spec: InPlaceImportSpec, options: OperationOptions = {}): Promise<InPlaceResult> {
  const { signal, onProgress } = options;
  throwIfAborted(signal, "import in place");
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
  if (!spec.allowPickle) {
    // The files are already here: none is removed, but a folder holding pickles is not taken in without consent.
    const pickles = await pickleFilesAmong(spec.modelDir, weights.map((w) => w.rel));
    if (pickles.length > 0) {
      throw new ModelLibraryError(
        "E_PICKLE",
        `${spec.modelDir}: ${pickles.slice(0, 5).join(", ")} ${pickles.length === 1 ? "is a pickle" : "are pickles"}: loading it can run arbitrary code; ` +
          `left as it is, not indexed (pass --allow-pickle to index it anyway)`,
        { path: spec.modelDir },
      );
    }
  }
  const primary = weights.reduce((a, b) => (b.size > a.size ? b : a));
  const ident = await identify(join(spec.modelDir, ...primary.rel.split("/")));
  const metaFiles: MetadataFile[] = [];
  const total = files.reduce((a, f) => a + f.size, 0);
  let done = 0;
  for (const f of files) {
    throwIfAborted(signal, "import in place");
    const before = done;
    const progress = (n: number) => onProgress?.({ op: "import-in-place", phase: "hash", item: f.rel, done: before + n, total, unit: "bytes" });
    const abs = join(spec.modelDir, ...f.rel.split("/"));
    const known = spec.knownHashes?.[f.rel];
    const h = known
      ? { ...known, fastHash: await fastHashFile(abs, { signal }) }
      : spec.computeHashes === false
        ? null
        : await hashCancellable(abs, { signal, onProgress: progress });
    done += f.size;
    const mtime = h ? (await stat(abs)).mtimeMs : null; // doctor: changed since hashed?
    metaFiles.push({ name: f.rel, original_name: f.rel, size: f.size, sha256: h?.sha256 ?? null, blake3: h?.blake3 ?? null, fast_hash: h?.fastHash ?? null, mtime });
  }
  const primaryMeta = metaFiles.find((f) => f.name === primary.rel)!;
  if (spec.knownSha256) {
    const actual = primaryMeta.sha256 ?? (await hashCancellable(join(spec.modelDir, ...primary.rel.split("/")), { signal })).sha256;
    if (actual !== spec.knownSha256.toLowerCase()) {
      throw new ModelLibraryError(
        "E_HASH_MISMATCH",
        `${join(spec.modelDir, primary.rel)}: sha256 ${actual} does not match the expected ${spec.knownSha256}`,
        { path: spec.modelDir },
      );
    }
    primaryMeta.sha256 = actual;
  }
  const m = buildModelMetadata({
    id,
    name: spec.officialName,
    ident,
    files: metaFiles,
    weightFiles: weights.map((w) => w.rel),
    modelType: spec.modelType,
    family: spec.family,
    matchSource: spec.repoId ? "download" : "orphan_recovery",
    repoId: spec.repoId,
    expectedFiles: spec.expectedFiles,
  });
  throwIfAborted(signal, "import in place");
  // The row is written before the lock is let go: another process's import that takes it next (its duplicate
  // check reads the index) sees this model. Written after, an import of the same bytes stored them a second time.
  const indexError = await withLock(join(lib.root, COMMIT_LOCK), async () => {
    // (Another process may have been first: its metadata.json stays, and is indexed here all the same.)
    if (!(await stat(join(spec.modelDir, METADATA_FILE)).catch(() => null))) await writeJsonAtomic(join(spec.modelDir, METADATA_FILE), serializeMetadata(m), { backup: true });
    // metadata.json is the truth and is written: a failed index write (a full disk) does not undo the model, it is
    // reported as what happened, and the next open (or `mlib reindex`) indexes it.
    return lib.indexModel(id).then(
      () => null,
      (e: unknown) => (e instanceof Error ? e.message : String(e)),
    );
  });
  if (indexError !== null) {
    const warning = `${spec.modelDir}: metadata.json written, but the index could not be updated (${indexError}); it catches up on the next open (or \`mlib reindex\`)`;
    return { modelId: id, created: true, securityTier: ident.securityTier, warnings: [warning] };
  }
  return { modelId: id, created: true, securityTier: ident.securityTier };
}

/** hashFile, whose abort (however the hasher reports it) is E_CANCELLED. */
async function hashCancellable(path: string, options: HashFileOptions): Promise<FileHashes> {
  try {
    return await hashFile(path, options);
  } catch (e) {
    rethrowIfCancelled(e, options.signal, "import in place");
    throw e;
  }
}

/** The weight files (relative names) whose bytes are a pickle. */
async function pickleFilesAmong(dir: string, rels: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const rel of rels) {
    const { bytes, size } = await readHead(join(dir, ...rel.split("/")), 64);
    if (securityTierOf(sniffFormat(bytes, size, rel)) === "pickle") out.push(rel);
  }
  return out;
}
