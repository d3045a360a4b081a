// How one IndexRecord becomes rows: shared by ModelIndex.upsert (one model) and BulkLoader (a full
// reindex), so both write exactly the same rows for the same record. prepareRows() is plain data work with
// no database (a reindex runs it in its reading thread); writeRows() only runs the statements.
import type Database from "better-sqlite3";
import { ModelLibraryError } from "../core/errors.js";
import type { IndexRecord } from "./index-types.js";

/**
 * The one list of a models row's columns after id, each with the IndexRecord field it holds, in row order:
 * MODEL_COLUMNS, the INSERT/UPDATE statements and the record SELECT are made from it, and modelValues (kept
 * as a plain array literal: a keyed loop per record costs a 100k reindex ~0.1 s) is checked against it by a test.
 */
export const ROW_FIELDS = [
  ["path", "path"],
  ["official_name", "officialName"],
  ["cleaned_name", "cleanedName"],
  ["model_type", "modelType"],
  ["subtype", "subtype"],
  ["family", "family"],
  ["format", "format"],
  ["quantization", "quantization"],
  ["architecture", "architecture"],
  ["tags_json", "tags"],
  ["size_bytes", "sizeBytes"],
  ["parameter_count", "parameterCount"],
  ["context_length", "contextLength"],
  ["sha256", "sha256"],
  ["blake3", "blake3"],
  ["added_at", "addedAt"],
  ["updated_at", "updatedAt"],
  ["meta_mtime_ms", "metaMtimeMs"],
  ["meta_size", "metaSize"],
] as const satisfies readonly (readonly [string, keyof IndexRecord])[];

/** The models columns after id, in ROW_FIELDS order. */
export const MODEL_COLUMNS = ROW_FIELDS.map(([column]) => column).join(", ");

/** One `?` per ROW_FIELDS column, comma-separated. */
export const MODEL_MARKS = ROW_FIELDS.map(() => "?").join(",");

/** The values of ROW_FIELDS for a record, in that order (tags as JSON, hashes lowercased). */
export function modelValues(r: IndexRecord): unknown[] {
  return [
    r.path,
    r.officialName,
    r.cleanedName,
    r.modelType,
    r.subtype,
    r.family,
    r.format,
    r.quantization,
    r.architecture,
    JSON.stringify(r.tags),
    r.sizeBytes,
    r.parameterCount,
    r.contextLength,
    lowerOrNull(r.sha256),
    lowerOrNull(r.blake3),
    r.addedAt,
    r.updatedAt,
    r.metaMtimeMs,
    r.metaSize,
  ];
}

/** The statements that write everything of a model but its models row. */
export interface DerivedStatements {
  fts: Database.Statement;
  names: Database.Statement;
  tag: Database.Statement;
  file: Database.Statement;
  hash: Database.Statement;
}

export function prepareDerived(prepare: (sql: string) => Database.Statement): DerivedStatements {
  return {
    fts: prepare("INSERT INTO model_fts (rowid, name, tags, family, body) VALUES (?,?,?,?,?)"),
    names: prepare("INSERT INTO model_names (rowid, name) VALUES (?,?)"),
    tag: prepare("INSERT INTO model_tags (tag, doc_id) VALUES (?, ?)"),
    file: prepare("INSERT OR REPLACE INTO model_files (doc_id, name, size, sha256, blake3, fast_hash) VALUES (?,?,?,?,?,?)"),
    hash: prepare("INSERT INTO model_hashes (hash, doc_id) VALUES (?, ?)"),
  };
}

/** Every value a model's rows hold, in statement order: what prepareRows makes and writeRows writes. */
export interface PreparedRows {
  id: string;
  /** The models columns after id (MODEL_COLUMNS). */
  model: unknown[];
  /** name, tags, family, body of model_fts (name alone goes to model_names). */
  text: [string, string, string, string];
  /** name, size, sha256, blake3, fast_hash of each file. */
  files: [string, number, string | null, string | null, string | null][];
  tags: string[];
  hashes: string[];
}

/** Checks a record (see checkRecord) and turns it into the values of its rows. */
export function prepareRows(dbPath: string, r: IndexRecord): PreparedRows {
  checkRecord(dbPath, r);
  const text = ftsText(r);
  return {
    id: r.id,
    model: modelValues(r),
    text: [text.name, text.tags, text.family, text.body],
    files: r.files.map((f) => [f.name, f.size, lowerOrNull(f.sha256), lowerOrNull(f.blake3), lowerOrNull(f.fastHash)]),
    tags: tagKeys(r.tags),
    hashes: hashKeys(r),
  };
}

/** Writes both FTS rows, files, tags and hashes of the model at docId (everything but its models row). */
export function writeRows(s: DerivedStatements, docId: number, p: PreparedRows): void {
  const [name, tags, family, body] = p.text;
  s.fts.run(docId, name, tags, family, body);
  s.names.run(docId, name);
  for (const [file, size, sha, b3, fast] of p.files) s.file.run(docId, file, size, sha, b3, fast);
  for (const t of p.tags) s.tag.run(t, docId);
  for (const h of p.hashes) s.hash.run(h, docId);
}

/** The model_tags keys of a model: its tags trimmed and lowercased, empty ones dropped, each once. */
export function tagKeys(tags: readonly string[]): string[] {
  const out = new Set<string>();
  for (const tag of tags) {
    const t = tag.trim().toLowerCase();
    if (t) out.add(t);
  }
  return [...out];
}

/**
 * The model_hashes keys of a model: its primary sha256/blake3 and every file's sha256, blake3 and fast hash,
 * lowercased, each once. model_hashes has no index by doc_id: a model's rows are found again from these.
 */
export function hashKeys(r: {
  sha256: string | null;
  blake3: string | null;
  files: readonly { sha256: string | null; blake3: string | null; fastHash: string | null }[];
}): string[] {
  const out = new Set<string>();
  const keep = (h: string | null | undefined): void => {
    if (h) out.add(h.toLowerCase());
  };
  keep(r.sha256);
  keep(r.blake3);
  for (const f of r.files) {
    keep(f.sha256);
    keep(f.blake3);
    keep(f.fastHash);
  }
  return [...out];
}

export function ftsText(r: IndexRecord): { name: string; tags: string; family: string; body: string } {
  const join = (parts: (string | null | undefined)[]): string => parts.filter((p): p is string => !!p).join(" ");
  // The cleaned name usually holds the same words as the official one; index it only when it adds some,
  // so that doubled words do not inflate bm25 for most rows.
  const words = (s: string): string => s.toLowerCase().replace(/[^\p{L}\p{N}]+/gu, " ").trim();
  const cleanedAdds = words(r.cleanedName) !== words(r.officialName);
  return {
    name: join([r.officialName, cleanedAdds ? r.cleanedName : null]),
    tags: join([...r.tags, r.quantization, r.format]),
    family: join([r.family, r.architecture, r.modelType, r.subtype]),
    body: join([r.description, r.notes, r.repoId]),
  };
}

/**
 * Rejects a record that would fail half-way through an upsert (wrong types), before anything is written.
 * Plain property reads and module-level checks: a reindex checks 100k records, where keyed loops over field
 * names and a closure per call cost ~2 µs a record.
 */
export function checkRecord(dbPath: string, r: IndexRecord): void {
  if (typeof r?.id !== "string" || r.id.length === 0) badRecord(dbPath, r, "id must be a non-empty string");
  needString(dbPath, r, r.path, "path", false);
  needString(dbPath, r, r.officialName, "officialName", false);
  needString(dbPath, r, r.cleanedName, "cleanedName", false);
  needString(dbPath, r, r.modelType, "modelType", false);
  needString(dbPath, r, r.updatedAt, "updatedAt", false);
  needString(dbPath, r, r.subtype, "subtype", true);
  needString(dbPath, r, r.family, "family", true);
  needString(dbPath, r, r.format, "format", true);
  needString(dbPath, r, r.quantization, "quantization", true);
  needString(dbPath, r, r.architecture, "architecture", true);
  needString(dbPath, r, r.description, "description", true);
  needString(dbPath, r, r.notes, "notes", true);
  needString(dbPath, r, r.repoId, "repoId", true);
  needString(dbPath, r, r.sha256, "sha256", true);
  needString(dbPath, r, r.blake3, "blake3", true);
  needString(dbPath, r, r.addedAt, "addedAt", true);
  needNumber(dbPath, r, r.sizeBytes, "sizeBytes", false);
  needNumber(dbPath, r, r.metaMtimeMs, "metaMtimeMs", false);
  needNumber(dbPath, r, r.metaSize, "metaSize", false);
  needNumber(dbPath, r, r.parameterCount, "parameterCount", true);
  needNumber(dbPath, r, r.contextLength, "contextLength", true);
  if (!Array.isArray(r.tags) || r.tags.some((t) => typeof t !== "string")) badRecord(dbPath, r, "tags must be a list of strings");
  if (!Array.isArray(r.files)) badRecord(dbPath, r, "files must be a list");
  for (const f of r.files) {
    if (typeof f?.name !== "string" || f.name.length === 0) badRecord(dbPath, r, "every file needs a name");
    needNumber(dbPath, r, f.size, "size", false, f.name);
    needString(dbPath, r, f.sha256, "sha256", true, f.name);
    needString(dbPath, r, f.blake3, "blake3", true, f.name);
    needString(dbPath, r, f.fastHash, "fastHash", true, f.name);
  }
}

function badRecord(dbPath: string, r: IndexRecord, what: string): never {
  throw new ModelLibraryError("E_USAGE", `${dbPath}: cannot index ${JSON.stringify(r?.id)}: ${what}`, { path: dbPath });
}

/** `field` of the record, or of its file `ofFile`, must be a string (or null/undefined when nullable). */
function needString(dbPath: string, r: IndexRecord, v: unknown, field: string, nullable: boolean, ofFile?: string): void {
  if (typeof v === "string" || (nullable && (v === null || v === undefined))) return;
  badRecord(dbPath, r, `${field}${ofFile === undefined ? "" : ` of ${ofFile}`} must be a string${nullable ? " or null" : ""}`);
}

/** `field` of the record, or of its file `ofFile`, must be a finite number (or null/undefined when nullable). */
function needNumber(dbPath: string, r: IndexRecord, v: unknown, field: string, nullable: boolean, ofFile?: string): void {
  if ((typeof v === "number" && Number.isFinite(v)) || (nullable && (v === null || v === undefined))) return;
  badRecord(dbPath, r, `${field}${ofFile === undefined ? "" : ` of ${ofFile}`} must be a finite number${nullable ? " or null" : ""}`);
}

export function lowerOrNull(s: string | null | undefined): string | null {
  return s ? s.toLowerCase() : null;
}
