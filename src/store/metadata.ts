// metadata.json: the source of truth for each model, compatible with the original's file (snake_case,
// absent values written as null, every original field present). Fields added here come after the original's.
// Unknown fields found on load are kept, so a newer writer's data survives a round-trip through us.
import type { Identification } from "../formats/types.js";

export interface MetadataFile {
  name: string; // relative to the model folder, `/`-separated
  original_name: string | null;
  size: number | null;
  sha256: string | null;
  blake3: string | null;
  fast_hash?: string | null;
  /** mtime (ms) of the file when it was hashed: a later size or mtime says it changed since (mlib doctor). */
  mtime?: number | null;
  /** Keys other writers put in a file entry, kept as they were. */
  [extra: string]: unknown;
}

/** Hashes of the primary (largest) file; other keys another writer put here are kept. */
export interface MetadataHashes {
  sha256: string | null;
  blake3: string | null;
  [extra: string]: unknown;
}

export interface ModelMetadata {
  // The original's metadata.json fields (snake_case), in its order, so either program reads the other's.
  model_id: string | null;
  family: string | null;
  model_type: string | null;
  subtype: string | null;
  official_name: string | null;
  cleaned_name: string | null;
  tags: string[] | null;
  base_model: string[] | null;
  preview_image: string | null;
  release_date: string | null;
  download_url: string | null;
  model_card: Record<string, unknown> | null;
  /** Free-form JSON: an object, or (the original since early 2026) an array of per-app settings. */
  inference_settings: Record<string, unknown> | unknown[] | null;
  compatible_apps: string[] | null;
  hashes: MetadataHashes | null;
  notes: string | null;
  added_date: string | null;
  updated_date: string | null;
  size_bytes: number | null;
  files: MetadataFile[] | null;
  match_source: string | null;
  match_method: string | null;
  match_confidence: number | null;
  pending_online_lookup: boolean | null;
  lookup_attempts: number | null;
  last_lookup_attempt: string | null;
  conversion_source: Record<string, unknown> | null;
  repo_id: string | null;
  expected_files: string[] | null;
  // Added by model-library (from identification of the model's own bytes).
  format: string | null;
  security_tier: string | null;
  quantization: string | null;
  parameter_count: number | null;
  context_length: number | null;
  architecture: string | null;
  description: string | null;
  /** Unknown fields from other writers, kept as they were. */
  [extra: string]: unknown;
}

const ORIGINAL_FIELDS = [
  "model_id", "family", "model_type", "subtype", "official_name", "cleaned_name", "tags", "base_model", "preview_image",
  "release_date", "download_url", "model_card", "inference_settings", "compatible_apps", "hashes", "notes", "added_date",
  "updated_date", "size_bytes", "files", "match_source", "match_method", "match_confidence", "pending_online_lookup",
  "lookup_attempts", "last_lookup_attempt", "conversion_source", "repo_id", "expected_files",
] as const;
const ADDED_FIELDS = ["format", "security_tier", "quantization", "parameter_count", "context_length", "architecture", "description"] as const;
export const METADATA_FIELDS: readonly string[] = [...ORIGINAL_FIELDS, ...ADDED_FIELDS];

export function blankMetadata(): ModelMetadata {
  const m: Record<string, unknown> = {};
  for (const k of METADATA_FIELDS) m[k] = null;
  return m as ModelMetadata;
}

const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const strList = (v: unknown): string[] | null =>
  Array.isArray(v) ? v.filter((x): x is string => typeof x === "string") : null;
const obj = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/**
 * Reads a parsed metadata.json leniently, as the original does: every field optional, wrong types dropped to null,
 * `base_model` as a string, a list, or null (a string becomes a one-element list, an empty list null).
 */
export function normalizeMetadata(raw: unknown): ModelMetadata {
  const src = obj(raw) ?? {};
  const m = blankMetadata();
  for (const [k, v] of Object.entries(src)) if (!METADATA_FIELDS.includes(k)) m[k] = v;
  for (const k of ["model_id", "family", "model_type", "subtype", "official_name", "cleaned_name", "preview_image",
    "release_date", "download_url", "notes", "added_date", "updated_date", "match_source", "match_method",
    "last_lookup_attempt", "repo_id", "format", "security_tier", "quantization", "architecture", "description"] as const) {
    m[k] = str(src[k]);
  }
  m.tags = strList(src.tags);
  m.compatible_apps = strList(src.compatible_apps);
  m.expected_files = strList(src.expected_files);
  const base = typeof src.base_model === "string" ? [src.base_model] : strList(src.base_model);
  m.base_model = base && base.length > 0 ? base : null;
  m.model_card = obj(src.model_card);
  m.inference_settings = Array.isArray(src.inference_settings) ? src.inference_settings : obj(src.inference_settings);
  m.conversion_source = obj(src.conversion_source);
  const hashes = obj(src.hashes);
  m.hashes = hashes ? { ...hashes, sha256: str(hashes.sha256), blake3: str(hashes.blake3) } : null;
  m.size_bytes = num(src.size_bytes);
  m.match_confidence = num(src.match_confidence);
  m.lookup_attempts = num(src.lookup_attempts);
  m.parameter_count = num(src.parameter_count);
  m.context_length = num(src.context_length);
  m.pending_online_lookup = typeof src.pending_online_lookup === "boolean" ? src.pending_online_lookup : null;
  m.files = Array.isArray(src.files)
    ? src.files
        .map(obj)
        .filter((f): f is Record<string, unknown> => f !== null && typeof f.name === "string")
        .map((f) => {
          const file: MetadataFile = {
            ...f, // keys we do not know stay; the ones we do are read as their types below
            name: f.name as string,
            original_name: str(f.original_name),
            size: num(f.size),
            sha256: str(f.sha256),
            blake3: str(f.blake3),
          };
          if ("fast_hash" in f) file.fast_hash = str(f.fast_hash);
          if ("mtime" in f) file.mtime = num(f.mtime);
          return file;
        })
    : null;
  return m;
}

/** The object written to disk: original fields first, then ours, then unknown fields kept from load. */
export function serializeMetadata(m: ModelMetadata): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const k of METADATA_FIELDS) out[k] = m[k] ?? null;
  for (const [k, v] of Object.entries(m)) if (!(k in out)) out[k] = v;
  return out;
}

export function nowIso(): string {
  return new Date().toISOString();
}

/** Copies what identification found in the model's bytes into the fields we add to metadata.json. */
export function applyIdentification(m: ModelMetadata, ident: Identification): void {
  m.format = ident.format;
  m.security_tier = ident.securityTier;
  m.quantization = ident.quantization;
  m.parameter_count = ident.parameterCount;
  m.context_length = ident.contextLength;
  m.architecture = ident.architecture;
}
