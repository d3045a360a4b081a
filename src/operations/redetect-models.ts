// redetectModels (`mlib redetect`): identifies stored models again from their bytes (after an upgrade of the
// readers, say). Unlike the original, a manual choice (match_source "manual") is kept, and an "unknown" answer
// never overwrites a known type. Every model identified gets the current identify revision recorded (the doctor
// names the models older than it), a model whose answer did not change without its updated_date moving.
// A cancellation stops between models (each update is one atomic write).
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { identify } from "../identify/identify.js";
import { familyAfterRedetect } from "../identify/family.js";
import { IDENTIFY_VERSION, IDENTIFY_VERSION_FIELD, recordedIdentifyVersion } from "../identify/identify-version.js";
import { listFolderFiles } from "../identify/folder.js";
import { isModelFileName } from "../formats/sniff.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";
import { cancelledAfter } from "./cancel.js";

export interface RedetectResult {
  id: string;
  changed: boolean;
  before: RedetectFields;
  after: RedetectFields;
  error: string | null;
}

export interface RedetectFields {
  modelType: string | null;
  family: string | null;
  format: string | null;
  subtype: string | null;
}

export interface RedetectParams {
  /** Model ids; all models when absent or empty. */
  ids?: string[];
}

export interface RedetectSummary {
  results: RedetectResult[];
  changed: number;
  errors: number;
}

/** Re-identifies the given models (all when `params.ids` is empty) and updates what changed. */
export async function redetectModels(library: ModelLibrary, params: RedetectParams, options?: OperationOptions): Promise<RedetectSummary>;
/** @deprecated the old call shape: use `redetectModels(library, { ids }, { signal, onProgress })`. */
export async function redetectModels(library: ModelLibrary, ids?: string[]): Promise<RedetectResult[]>;
export async function redetectModels(
  library: ModelLibrary,
  params?: RedetectParams | string[],
  options: OperationOptions = {},
): Promise<RedetectSummary | RedetectResult[]> {
  if (params === undefined || Array.isArray(params)) return runRedetect(library, params ?? [], {});
  const results = await runRedetect(library, params.ids ?? [], options);
  return { results, changed: results.filter((r) => r.changed).length, errors: results.filter((r) => r.error !== null).length };
}

async function runRedetect(lib: ModelLibrary, ids: string[], { signal, onProgress }: OperationOptions): Promise<RedetectResult[]> {
  throwIfAborted(signal, "redetect");
  const targets = ids.length > 0 ? ids.map((id) => lib.require(id).id) : lib.allIds();
  const out: RedetectResult[] = [];
  try {
    for (const [i, id] of targets.entries()) {
      onProgress?.({ op: "redetect", phase: "identify", item: id, done: i, total: targets.length, unit: "items" });
      throwIfAborted(signal, "redetect");
      try {
        const m = await lib.getMetadata(id);
        const before = { modelType: m.model_type, family: m.family, format: m.format, subtype: m.subtype };
        // The folder's own files, not the names metadata lists: an original library may list none, or a nested
        // file by its bare name (`model.onnx` for `onnx/model.onnx`).
        const dir = lib.modelDir(id);
        const weights = (await listFolderFiles(dir)).filter((f) => isModelFileName(f.rel)).map((f) => ({ name: f.rel, size: f.size }));
        if (weights.length === 0 || m.match_source === "manual") {
          out.push({ id, changed: false, before, after: before, error: null });
          continue;
        }
        // A folder model (diffusers, snapshot, shard set) is identified as a whole; a single file as itself.
        const target = weights.length > 1 || weights.some((w) => w.name.includes("/")) ? dir : join(dir, weights[0].name);
        const ident = await identify(target).catch(() => identify(join(dir, weights.reduce((a, b) => ((b.size ?? 0) > (a.size ?? 0) ? b : a)).name)));
        const next = {
          modelType: ident.modelType !== "unknown" ? ident.modelType : m.model_type,
          family: familyAfterRedetect(m.family, ident.family),
          format: ident.format !== "unknown" ? ident.format : m.format,
          // A subtype identify has no answer for (an LLM) keeps the recorded one.
          subtype: ident.subtype ?? m.subtype,
        };
        // The subtype counts: a FLUX transformer recorded as `checkpoints` before identify called it
        // `diffusion_models` was "unchanged" and kept the old subtype for ever.
        const changed =
          next.modelType !== before.modelType || next.family !== before.family || next.format !== before.format || next.subtype !== before.subtype ||
          (ident.quantization ?? m.quantization) !== m.quantization || (ident.parameterCount ?? m.parameter_count) !== m.parameter_count;
        if (changed) {
          await lib.updateMetadata(id, (meta) => {
            meta.model_type = next.modelType;
            meta.family = next.family;
            meta.format = next.format;
            meta.subtype = next.subtype;
            meta.quantization = ident.quantization ?? meta.quantization;
            meta.parameter_count = ident.parameterCount ?? meta.parameter_count;
            meta.context_length = ident.contextLength ?? meta.context_length;
            meta.architecture = ident.architecture ?? meta.architecture;
            meta.security_tier = ident.securityTier;
            meta[IDENTIFY_VERSION_FIELD] = IDENTIFY_VERSION;
          });
        } else if (recordedIdentifyVersion(m) < IDENTIFY_VERSION) {
          // Checked by the current identify, nothing to change: recorded as such, the model's updated_date kept.
          await lib.updateMetadata(id, (meta) => void (meta[IDENTIFY_VERSION_FIELD] = IDENTIFY_VERSION), { touch: false });
        }
        out.push({ id, changed, before, after: next, error: null });
      } catch (e) {
        const none = { modelType: null, family: null, format: null, subtype: null };
        out.push({ id, changed: false, before: none, after: none, error: (e as Error).message });
      }
    }
  } catch (e) {
    // The models changed before a cancel keep their new metadata.json: the cancellation names them.
    throw cancelledAfter(e, out.filter((r) => r.changed).map(describeChange));
  }
  onProgress?.({ op: "redetect", phase: "done", done: targets.length, total: targets.length, unit: "items" });
  return out;
}

/** "re-detected ID: format a → b, family c → d" (the fields a redetect reports), for a cancellation's completed list. */
function describeChange(r: RedetectResult): string {
  const fields = (["modelType", "family", "format", "subtype"] as const)
    .filter((k) => r.before[k] !== r.after[k])
    .map((k) => `${k === "modelType" ? "type" : k} ${r.before[k] ?? "none"} → ${r.after[k] ?? "none"}`);
  return `re-detected ${r.id}${fields.length > 0 ? `: ${fields.join(", ")}` : ""}`;
}
