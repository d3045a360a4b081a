// Names on disk: folder names made from model names, file names, the base name used for Hub look-ups,
// and the check every relative path from outside (Hub listing, index.json, folder walk) passes through.
import { ModelLibraryError } from "../core/errors.js";

const MAX_NAME = 128;
const WINDOWS_RESERVED = new Set([
  "CON", "PRN", "AUX", "NUL",
  "COM1", "COM2", "COM3", "COM4", "COM5", "COM6", "COM7", "COM8", "COM9",
  "LPT1", "LPT2", "LPT3", "LPT4", "LPT5", "LPT6", "LPT7", "LPT8", "LPT9",
]);

function trimSeparators(s: string): string {
  return s.replace(/^[-_]+|[-_]+$/g, "");
}

/**
 * A model name as a folder name: lowercase, ASCII `[a-z0-9-_]` only, NTFS-reserved characters deleted,
 * separator runs collapsed, at most 128 characters, never a Windows device name, never empty.
 */
export function normalizeName(s: string): string {
  let out = s.toLowerCase().replace(/ /g, "_");
  out = out.replace(/[<>:"/\\|?*]/g, "");
  // Per code point (the `u` flag), so one accented letter or emoji becomes exactly one `_`.
  out = out.replace(/[^a-zA-Z0-9\-_]/gu, "_");
  out = out.replace(/[-_]{2,}/g, "_");
  out = trimSeparators(out);
  if (out.length > MAX_NAME) {
    out = out.slice(0, MAX_NAME);
    const cut = Math.max(out.lastIndexOf("-"), out.lastIndexOf("_"));
    // Cut at a word boundary only when that keeps more than half the name.
    if (cut > 64) out = out.slice(0, cut);
    out = trimSeparators(out);
  }
  if (WINDOWS_RESERVED.has(out.toUpperCase())) out = `${out}_model`;
  return out === "" ? "unnamed_model" : out;
}

/**
 * A file name made safe: the stem normalized as a name, the extension (after the last dot) lowercased.
 * Unlike the original, characters outside `[a-z0-9_-]` are dropped from the extension too, so no
 * extension can carry a `/` or a `..` into a path; an empty extension drops its dot.
 */
export function normalizeFilename(f: string): string {
  const dot = f.lastIndexOf(".");
  if (dot < 0) return normalizeName(f);
  const ext = f
    .slice(dot + 1)
    .toLowerCase()
    .replace(/[^a-z0-9_-]/g, "");
  const stem = normalizeName(f.slice(0, dot));
  return ext === "" ? stem : `${stem}.${ext}`;
}

const QUANT_SUFFIX = /[-_](?:Q\d+_[A-Z0-9_]+|fp16|fp32|bf16|f16|f32)$/i;
const SHARD_SUFFIX = /[-_]?\d{5}-of-\d{5}$/;
const FORMAT_SUFFIX = /[-_](?:gguf|safetensors|pt|bin|onnx)$/i;

/** The model's base name for Hub look-ups: extension, quant suffix, shard suffix and format word removed. */
export function extractBaseName(filename: string): string {
  const dot = filename.lastIndexOf(".");
  let s = dot > 0 ? filename.slice(0, dot) : filename;
  s = s.replace(QUANT_SUFFIX, "");
  s = s.replace(SHARD_SUFFIX, "");
  s = s.replace(FORMAT_SUFFIX, "");
  return trimSeparators(s);
}

/**
 * Checks a relative path that came from outside (Hub file list, index.json weight_map, a folder walk)
 * before it is joined to a folder: no absolute path, drive letter, `..` or `.` segment, empty segment,
 * NUL or backslash. Returns the `/`-joined path; throws E_INVALID saying what is wrong.
 */
export function safeRelativePath(rel: string): string {
  const why = unsafeRelativePathReason(rel);
  if (why !== null) throw new ModelLibraryError("E_INVALID", `unsafe relative path ${JSON.stringify(rel)}: ${why}`);
  return rel;
}

/** Why safeRelativePath refuses `rel` ("it is absolute", ...), or null when it is safe: for callers that word their own error. */
export function unsafeRelativePathReason(rel: string): string | null {
  if (rel === "") return "it is empty";
  if (rel.includes("\0")) return "it contains a NUL character";
  if (rel.includes("\\")) return "it contains a backslash";
  if (rel.startsWith("/")) return "it is absolute";
  if (/^[A-Za-z]:/.test(rel)) return "it starts with a drive letter";
  for (const seg of rel.split("/")) {
    if (seg === "") return "it has an empty segment";
    if (seg === "..") return "it has a '..' segment";
    if (seg === ".") return "it has a '.' segment";
  }
  return null;
}

/** safeRelativePath as a test: whether a name from data (a metadata.json, a registry) stays inside its folder. */
export function isSafeRelativePath(rel: string): boolean {
  return unsafeRelativePathReason(rel) === null;
}

/**
 * A directory entry whose name is not valid UTF-8 (written by another OS or an old tool): Node lists it with U+FFFD
 * in place of the bad bytes and then cannot open it under that name. True when `name` shows that mark.
 */
export function isUndecodableName(name: string): boolean {
  return name.includes("\uFFFD");
}

/** The error for such an entry: names it (as shown) and says what the user can do. */
export function undecodableNameError(path: string): ModelLibraryError {
  return new ModelLibraryError(
    "E_INVALID",
    `${path}: this name is not valid UTF-8 (shown with \uFFFD), so it cannot be opened; rename it (e.g. \`convmv\` or a file manager) and import again`,
    { path },
  );
}
