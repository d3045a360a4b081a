// verifyModels (`mlib verify`): re-hashes every file of the models and compares with what metadata.json recorded.
// Reads only; a cancellation stops inside the hashing of the current file.
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { hashFile } from "../hashing/index.js";
import type { ModelLibrary } from "../store/model-library.js";
import { rethrowIfCancelled } from "./cancel.js";
import type { OperationOptions } from "./types.js";

export type FileCheck = "ok" | "missing" | "size-mismatch" | "hash-mismatch" | "unhashed";

export interface VerifyFileResult {
  name: string;
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
  const targets = ids.length > 0 ? ids.map((id) => lib.require(id).id) : lib.allIds();
  const plans: { id: string; files: { name: string; size: number | null; sha256: string | null; blake3: string | null }[]; error: string | null }[] = [];
  for (const id of targets) {
    try {
      const m = await lib.getMetadata(id);
      plans.push({ id, files: (m.files ?? []).map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 || null, blake3: f.blake3 || null })), error: null });
    } catch (e) {
      plans.push({ id, files: [], error: (e as Error).message });
    }
  }
  const bytesTotal = plans.flatMap((p) => p.files).reduce((a, f) => a + (f.size ?? 0), 0);
  let bytesBefore = 0;
  const results: VerifyResult[] = [];
  for (const plan of plans) {
    throwIfAborted(signal, "verify");
    const dir = lib.modelDir(plan.id);
    const files: VerifyFileResult[] = [];
    for (const f of plan.files) {
      const abs = join(dir, ...f.name.split("/"));
      const expected = { size: f.size, sha256: f.sha256, blake3: f.blake3 };
      const st = await stat(abs).catch(() => null);
      if (!st || !st.isFile()) {
        files.push({ name: f.name, status: "missing", expected, actual: { size: null, sha256: null, blake3: null } });
        bytesBefore += f.size ?? 0;
        continue;
      }
      if (f.size !== null && st.size !== f.size) {
        files.push({ name: f.name, status: "size-mismatch", expected, actual: { size: st.size, sha256: null, blake3: null } });
        bytesBefore += f.size;
        continue;
      }
      const base = bytesBefore;
      let h;
      try {
        h = await hashFile(abs, { signal, onProgress: (n) => onProgress?.({ id: plan.id, file: f.name, bytesDone: base + n, bytesTotal }) });
      } catch (e) {
        rethrowIfCancelled(e, signal, "verify");
        throw e;
      }
      // An abort the hasher did not see (it can come just as a file is opened) still ends the run here.
      throwIfAborted(signal, "verify");
      bytesBefore += h.size;
      const actual = { size: h.size, sha256: h.sha256, blake3: h.blake3 };
      let status: FileCheck = "ok";
      if (!f.sha256 && !f.blake3) status = "unhashed";
      else if ((f.sha256 && f.sha256 !== h.sha256) || (f.blake3 && f.blake3 !== h.blake3)) status = "hash-mismatch";
      files.push({ name: f.name, status, expected, actual });
    }
    const ok = plan.error === null && files.every((f) => f.status === "ok" || f.status === "unhashed");
    results.push({ id: plan.id, ok, files, error: plan.error });
  }
  return results;
}
