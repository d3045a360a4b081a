// verifyModels (`mlib verify`): re-hashes every file of the models and compares with what metadata.json recorded.
// Reads only; a cancellation stops inside the hashing of the current file.
import { existsSync, statSync } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { hashFile } from "../hashing/index.js";
import { METADATA_FILE } from "../store/layout.js";
import type { ModelLibrary } from "../store/model-library.js";
import { rethrowIfCancelled } from "./cancel.js";
import type { OperationOptions } from "./types.js";
import { planVerify, type FileToCheck } from "./verify-files.js";

/** "ambiguous": metadata lists a bare name that several sub-folders hold (the original's in-place listing). */
export type FileCheck = "ok" | "missing" | "size-mismatch" | "hash-mismatch" | "unhashed" | "ambiguous";

export interface VerifyFileResult {
  name: string;
  /** The file checked, relative to the model folder (a bare name resolved), or null when missing/ambiguous. */
  path: string | null;
  status: FileCheck;
  expected: { size: number | null; sha256: string | null; blake3: string | null };
  actual: { size: number | null; sha256: string | null; blake3: string | null };
}

export interface VerifyResult {
  id: string;
  ok: boolean;
  files: VerifyFileResult[];
  /** A model whose metadata.json cannot be read is reported here, not thrown. */
  error: string | null;
}

export interface VerifyParams {
  /** Model ids; all models when absent or empty. */
  ids?: string[];
}

export interface VerifySummary {
  results: VerifyResult[];
  /** How many models are intact, and how many are not. */
  ok: number;
  failed: number;
}

/** The old call shape's progress report (the new one reports ProgressEvent with op "verify"). */
export interface VerifyProgress {
  id: string;
  file: string;
  bytesDone: number;
  bytesTotal: number;
}

/** Verifies the given models (all when `params.ids` is empty). */
export async function verifyModels(library: ModelLibrary, params: VerifyParams, options?: OperationOptions): Promise<VerifySummary>;
/** @deprecated the old call shape: use `verifyModels(library, { ids }, { signal, onProgress })`. */
export async function verifyModels(library: ModelLibrary, ids?: string[], onProgress?: (p: VerifyProgress) => void): Promise<VerifyResult[]>;
export async function verifyModels(
  library: ModelLibrary,
  params?: VerifyParams | string[],
  options?: OperationOptions | ((p: VerifyProgress) => void),
): Promise<VerifySummary | VerifyResult[]> {
  if (params === undefined || Array.isArray(params)) return runVerify(library, params ?? [], typeof options === "function" ? options : undefined, undefined);
  const { signal, onProgress } = (options ?? {}) as OperationOptions;
  const report = onProgress && ((p: VerifyProgress) => onProgress({ op: "verify", phase: "hash", item: `${p.id}/${p.file}`, done: p.bytesDone, total: p.bytesTotal, unit: "bytes" }));
  const results = await runVerify(library, params.ids ?? [], report, signal);
  const failed = results.filter((r) => !r.ok).length;
  return { results, ok: results.length - failed, failed };
}

async function runVerify(
  lib: ModelLibrary,
  ids: string[],
  onProgress: ((p: VerifyProgress) => void) | undefined,
  signal: AbortSignal | undefined,
): Promise<VerifyResult[]> {
  throwIfAborted(signal, "verify");
  const targets = ids.length > 0 ? ids.map((id) => knownOrBroken(lib, id)) : withBroken(lib, lib.allIds());
  const plans: { id: string; files: FileToCheck[]; error: string | null; folder: string | null }[] = [];
  for (const id of targets) {
    try {
      const m = await lib.getMetadata(id);
      plans.push({ id, ...(await planVerify(lib.modelDir(id), m)), folder: folderIdentity(lib.modelDir(id)) });
    } catch (e) {
      plans.push({ id, files: [], error: (e as Error).message, folder: null });
    }
  }
  const bytesTotal = plans.flatMap((p) => p.files).reduce((a, f) => a + (f.size ?? 0), 0);
  let bytesBefore = 0;
  const results: VerifyResult[] = [];
  // A model listed at the start whose metadata.json has gone since, or whose folder is another one now: deleted
  // meanwhile by another process (`mlib rm`), not damaged. Left out of a run over every model; named as such when
  // asked for by id. Checked before its files are hashed and after: one deleted while it was hashed was read
  // through the files still open, and would read as intact.
  const removed = (plan: (typeof plans)[number]): boolean => {
    const dir = lib.modelDir(plan.id);
    if (plan.error !== null || (existsSync(join(dir, METADATA_FILE)) && folderIdentity(dir) === plan.folder)) return false;
    if (ids.length > 0) results.push({ id: plan.id, ok: false, files: [], error: `${plan.id}: removed from the library while verify ran (by another process)` });
    return true;
  };
  for (const plan of plans) {
    throwIfAborted(signal, "verify");
    if (removed(plan)) continue;
    const dir = lib.modelDir(plan.id);
    const files: VerifyFileResult[] = [];
    for (const f of plan.files) {
      const base = bytesBefore;
      const r = await verifyFile(dir, f, { signal, onBytes: onProgress && ((n) => onProgress({ id: plan.id, file: f.path!, bytesDone: base + n, bytesTotal })) });
      bytesBefore += r.actual.sha256 !== null ? (r.actual.size ?? 0) : (f.size ?? 0);
      files.push(r);
    }
    const ok = plan.error === null && files.every((f) => f.status === "ok" || f.status === "unhashed" || f.status === "ambiguous");
    if (removed(plan)) continue;
    results.push({ id: plan.id, ok, files, error: plan.error });
  }
  return results;
}

/**
 * A folder's identity (device, inode): a folder deleted and made again under the same name differs. Not its times:
 * the folder's own ctime changes whenever metadata.json is rewritten, and birthtime falls back to it where the
 * filesystem has none.
 */
function folderIdentity(dir: string): string | null {
  const st = statSync(dir, { throwIfNoEntry: false });
  return st ? `${st.dev}:${st.ino}` : null;
}

/**
 * One file of a model re-hashed and compared with what its metadata.json records (planVerify says which file and
 * against what): the one place that does it, for `mlib verify` and for the merge (a library model that stands for
 * a source copy about to be removed).
 */
export async function verifyFile(
  dir: string,
  f: FileToCheck,
  options: { signal?: AbortSignal; onBytes?: (n: number) => void } = {},
): Promise<VerifyFileResult> {
  const { signal } = options;
  const expected = { size: f.size, sha256: f.sha256, blake3: f.blake3 };
  const none = { size: null, sha256: null, blake3: null };
  if (f.state === "ambiguous" || f.path === null) return { name: f.name, path: null, status: f.state === "ambiguous" ? "ambiguous" : "missing", expected, actual: none };
  const abs = join(dir, ...f.path.split("/"));
  const st = await stat(abs).catch(() => null);
  if (!st || !st.isFile()) return { name: f.name, path: f.path, status: "missing", expected, actual: none };
  if (f.size !== null && st.size !== f.size) return { name: f.name, path: f.path, status: "size-mismatch", expected, actual: { size: st.size, sha256: null, blake3: null } };
  let h;
  try {
    h = await hashFile(abs, { signal, onProgress: options.onBytes });
  } catch (e) {
    rethrowIfCancelled(e, signal, "verify");
    // Deleted between the stat and the open (`mlib rm` in another process): missing, not the end of the run.
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return { name: f.name, path: f.path, status: "missing", expected, actual: none };
    throw e;
  }
  // An abort the hasher did not see (it can come just as a file is opened) still ends the run here.
  throwIfAborted(signal, "verify");
  const actual = { size: h.size, sha256: h.sha256, blake3: h.blake3 };
  let status: FileCheck = "ok";
  if (!f.sha256 && !f.blake3) status = "unhashed";
  else if ((f.sha256 && f.sha256 !== h.sha256) || (f.blake3 && f.blake3 !== h.blake3)) status = "hash-mismatch";
  return { name: f.name, path: f.path, status, expected, actual };
}

/**
 * Every indexed model, plus the ones whose metadata.json the last reconcile could not read: they are not in
 * the index (a reindex leaves them out), but their weights are on disk, so verify must fail on them, not skip them.
 */
function withBroken(lib: ModelLibrary, ids: string[]): string[] {
  const broken = (lib.lastReconcile?.problems ?? []).map((p) => p.id);
  return [...new Set([...ids, ...broken])].sort();
}

/** An indexed id, or one whose folder still holds a metadata.json (unreadable, so not indexed); else E_NOT_FOUND. */
function knownOrBroken(lib: ModelLibrary, id: string): string {
  const clean = id.replace(/\/+$/, "");
  if (lib.get(clean)) return clean;
  if (existsSync(join(lib.modelDir(clean), METADATA_FILE))) return clean;
  return lib.require(clean).id;
}
