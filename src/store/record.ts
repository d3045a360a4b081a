// metadata.json → the index row. One place, so reindex, reconcile and every write index a model the same way.
import { statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { ModelLibraryError } from "../core/errors.js";
import { FileTooBigError, fileKind, readTextFile } from "../core/read-text-file.js";
import { backupPathOf } from "../core/atomic-json.js";
import type { IndexRecord } from "../index/index-types.js";
import { isModelFileName } from "../formats/sniff.js";
import { nowIso } from "./metadata.js";
import { METADATA_FILE } from "./layout.js";

/** The error for a metadata.json that does not parse: names the file, its backup and the command to restore it. */
export function corruptMetadata(file: string, id: string, what = "not valid JSON"): ModelLibraryError {
  return new ModelLibraryError(
    "E_CORRUPT",
    `${file}: ${what}; the previous version may be in ${backupPathOf(file)} (restore it with \`mlib restore ${id}\`)`,
    { path: file },
  );
}

/**
 * The most a model's metadata.json may weigh (the largest real ones, of thousand-file models, are a few MB).
 * Larger, it is not read at all: a hostile or damaged 2 GB file would otherwise be read whole by every reindex.
 */
export const MAX_METADATA_BYTES = 32 * 1024 * 1024;

/**
 * A metadata.json's stat and text through one descriptor, or null when there is none. Refused without reading
 * anything: one over MAX_METADATA_BYTES, one that is not a regular file (a FIFO would block the
 * read forever, a device never end it): both E_CORRUPT. Other fs errors as thrown. Also used for metadata.json.bak.
 */
export function readMetadataText(file: string): { st: Stats; text: string } | null {
  let read;
  try {
    read = readTextFile(file, MAX_METADATA_BYTES);
  } catch (e) {
    if (!(e instanceof FileTooBigError)) throw e;
    // E_CORRUPT, as a metadata.json that does not parse: a broken model (listed, verified as failed, removable).
    throw new ModelLibraryError(
      "E_CORRUPT",
      `${file}: ${e.st.size} bytes, too big to be a model's metadata.json (the limit is ${MAX_METADATA_BYTES / 1024 / 1024} MiB); not read, left as it is`,
      { path: file },
    );
  }
  if (read) return read;
  const st = statSync(file, { throwIfNoEntry: false });
  if (!st || st.isDirectory()) return null;
  throw new ModelLibraryError("E_CORRUPT", `${file}: not a regular file (${fileKind(st)}); not read, left as it is`, { path: file });
}

/** The row of the model in `dir`, read from its metadata.json (fs errors as thrown: ENOENT when there is none; E_CORRUPT). */
export async function readRecord(id: string, dir: string): Promise<IndexRecord> {
  // Synchronous (one open, fstat and read of a small file): the same reader as the walks of reconcile and reindex.
  return readRecordSync(id, dir);
}

/** readRecord, synchronously: for reconcile's walk and the refresh of the models a command shows. */
export function readRecordSync(id: string, dir: string): IndexRecord {
  const file = join(dir, METADATA_FILE);
  const read = readMetadataText(file);
  if (!read) throw Object.assign(new Error(`ENOENT: no such file, open '${file}'`), { code: "ENOENT", path: file });
  return recordFromText(id, dir, file, read.text, read.st);
}

function recordFromText(id: string, dir: string, file: string, text: string, st: { mtimeMs: number; size: number }): IndexRecord {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    throw corruptMetadata(file, id);
  }
  // `[]`, `null`, `"x"` (a bad hand edit) parse but hold no model: shown as an empty "unknown" model of 0 B before,
  // while doctor and verify called it damaged. Damaged here too, with the same advice.
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) throw corruptMetadata(file, id, "valid JSON but not an object");
  return recordFromParsed(id, dir, parsed, st);
}

// The same leniency as normalizeMetadata (metadata.ts) for the fields the row needs: wrong types read as
// null, non-string tags dropped, files without a string name dropped. Reading them straight from the parsed
// JSON lets a full reindex skip normalizing all ~36 fields of every file (about a third of its reading CPU).
const str = (v: unknown): string | null => (typeof v === "string" ? v : null);
const num = (v: unknown): number | null => (typeof v === "number" && Number.isFinite(v) ? v : null);
const obj = (v: unknown): Record<string, unknown> | null =>
  v && typeof v === "object" && !Array.isArray(v) ? (v as Record<string, unknown>) : null;

/**
 * The format of a model whose metadata.json does not say (the original writes no `format`): GGUF or ONNX when
 * every weight file listed has that extension — else unknown (null). Not safetensors: the original lists a diffusers
 * folder's nested .safetensors files by bare name, and that folder is not a safetensors checkpoint. Without it an
 * original's GGUF matched no rule of the GGUF apps (llama.cpp, LM Studio) and `list --format gguf` missed it.
 */
function formatFromNames(files: IndexRecord["files"]): string | null {
  const exts = new Set(files.filter((f) => isModelFileName(f.name)).map((f) => f.name.slice(f.name.lastIndexOf(".") + 1).toLowerCase()));
  if (exts.size !== 1) return null;
  const [ext] = exts;
  return ext === "gguf" || ext === "onnx" ? ext : null;
}

/** The row of a metadata.json as parsed (any shape; normalized or not, the result is the same). */
export function recordFromParsed(
  id: string,
  dir: string,
  parsed: unknown,
  metaStat: { mtimeMs: number; size: number },
): IndexRecord {
  const m = obj(parsed) ?? {};
  const last = id.slice(id.lastIndexOf("/") + 1);
  const files: IndexRecord["files"] = [];
  if (Array.isArray(m.files)) {
    for (const raw of m.files) {
      const f = obj(raw);
      if (!f || typeof f.name !== "string") continue;
      files.push({ name: f.name, size: num(f.size) ?? 0, sha256: str(f.sha256) || null, blake3: str(f.blake3) || null, fastHash: str(f.fast_hash) || null });
    }
  }
  const hashes = obj(m.hashes);
  return {
    id,
    path: dir,
    officialName: str(m.official_name) ?? id,
    cleanedName: str(m.cleaned_name) ?? last,
    modelType: (str(m.model_type) ?? "unknown").toLowerCase(),
    subtype: str(m.subtype),
    family: str(m.family),
    format: str(m.format) ?? formatFromNames(files),
    quantization: str(m.quantization),
    architecture: str(m.architecture),
    tags: Array.isArray(m.tags) ? m.tags.filter((t): t is string => typeof t === "string") : [],
    description: [str(m.description), str(m.notes), str(m.repo_id)].filter((x): x is string => !!x).join("\n") || null,
    sizeBytes: num(m.size_bytes) ?? files.reduce((a, f) => a + f.size, 0),
    parameterCount: num(m.parameter_count),
    contextLength: num(m.context_length),
    sha256: str(hashes?.sha256) || null,
    blake3: str(hashes?.blake3) || null,
    addedAt: str(m.added_date),
    updatedAt: str(m.updated_date) ?? nowIso(),
    metaMtimeMs: metaStat.mtimeMs,
    metaSize: metaStat.size,
    files,
  };
}
