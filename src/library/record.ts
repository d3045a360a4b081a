// metadata.json → the index row. One place, so reindex, reconcile and every write index a model the same way.
import type { IndexRecord } from "../storage/index-types.js";
import type { ModelMetadata } from "./metadata.js";
import { nowIso } from "./metadata.js";

export function recordFromMetadata(
  id: string,
  dir: string,
  m: ModelMetadata,
  metadataJson: string,
  metaStat: { mtimeMs: number; size: number },
): IndexRecord {
  const last = id.slice(id.lastIndexOf("/") + 1);
  const files = (m.files ?? []).map((f) => ({
    name: f.name,
    size: f.size ?? 0,
    sha256: f.sha256 || null,
    blake3: f.blake3 || null,
    fastHash: f.fast_hash || null,
  }));
  return {
    id,
    path: dir,
    officialName: m.official_name ?? id,
    cleanedName: m.cleaned_name ?? last,
    modelType: (m.model_type ?? "unknown").toLowerCase(),
    subtype: m.subtype,
    family: m.family,
    format: m.format,
    quantization: m.quantization,
    architecture: m.architecture,
    tags: m.tags ?? [],
    description: [m.description, m.notes, m.repo_id].filter((x): x is string => !!x).join("\n") || null,
    sizeBytes: m.size_bytes ?? files.reduce((a, f) => a + f.size, 0),
    parameterCount: m.parameter_count,
    contextLength: m.context_length,
    sha256: m.hashes?.sha256 || null,
    blake3: m.hashes?.blake3 || null,
    addedAt: m.added_date,
    updatedAt: m.updated_date ?? nowIso(),
    metadataJson,
    metaMtimeMs: metaStat.mtimeMs,
    metaSize: metaStat.size,
    files,
  };
}
