// Safetensors: an 8-byte little-endian header length N, then N bytes of JSON describing every tensor
// ({dtype, shape, data_offsets} relative to the data area that follows), then the data.
// We read only the header, bounded by the file size and a cap, and check every entry against the
// data area so a truncated or hostile file gives a clear error instead of a wrong answer.
import type { FileHandle } from "node:fs/promises";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { readExactly } from "./file-bytes.js";
import { classifyTensors, type ClassifyContext } from "./classify-tensors.js";
import type { Identification } from "./types.js";
import { openForReading } from "../core/open-for-reading.js";

/** The original's limit; real headers are a few MB at most (a 1000-tensor header is ~100 KB). */
export const SAFETENSORS_HEADER_CAP = 100_000_000;

/** Bits per element of every dtype the safetensors spec names (sub-byte ones count bits). */
export const SAFETENSORS_DTYPE_BITS: Readonly<Record<string, number>> = {
  F64: 64,
  F32: 32,
  F16: 16,
  BF16: 16,
  I64: 64,
  I32: 32,
  I16: 16,
  I8: 8,
  U64: 64,
  U32: 32,
  U16: 16,
  U8: 8,
  BOOL: 8,
  F8_E4M3: 8,
  F8_E5M2: 8,
  F8_E8M0: 8,
  F6_E2M3: 6,
  F6_E3M2: 6,
  F4: 4,
};

export interface SafetensorsTensor {
  name: string;
  dtype: string;
  shape: number[];
  /** [begin, end) relative to the start of the data area (8 + headerLength). */
  dataOffsets: [number, number];
}

export interface SafetensorsHeader {
  /** N, the JSON header's length in bytes. */
  headerLength: number;
  /** In header order, `__metadata__` excluded. */
  tensors: SafetensorsTensor[];
  /** `__metadata__` as a string map; null when absent or written as `null`. */
  metadata: Record<string, string> | null;
  /** Bytes after the header: fileSize - 8 - headerLength. */
  dataSize: number;
  /** Oddities that do not stop reading (unknown dtypes, holes or trailing bytes in the data area). */
  warnings?: string[];
}

/** Cheap sniff from the first bytes: a sane header length that fits the file, and JSON that opens with `{`. */
export function looksLikeSafetensors(head: Buffer, fileSize: number): boolean {
  if (head.length < 9) return false;
  const n = head.readBigUInt64LE(0);
  if (n < 2n || n > BigInt(SAFETENSORS_HEADER_CAP)) return false;
  if (8n + n > BigInt(fileSize)) return false;
  return head[8] === 0x7b; // "{"
}

/** Reads and validates the header of a safetensors file. Never reads the tensor data. */
export async function readSafetensorsHeader(path: string): Promise<SafetensorsHeader> {
  const fh = await openForReading(path);
  try {
    return await readOpened(fh, path);
  } catch (e) {
    // OS errors mid-read (EISDIR, EIO) name the file like every other error here.
    throw e instanceof ModelLibraryError ? e : ioError(path, "read", e);
  } finally {
    await fh.close();
  }
}

async function readOpened(fh: FileHandle, path: string): Promise<SafetensorsHeader> {
  let size: number;
  try {
    size = (await fh.stat()).size;
  } catch (e) {
    throw ioError(path, "stat", e);
  }
  if (size < 8) {
    throw new ModelLibraryError(
      "E_TRUNCATED",
      `${path}: truncated: a safetensors file starts with an 8-byte header length, the file has ${size} bytes`,
      { path },
    );
  }
  const lengthBytes = await readExactly(fh, path, 0, 8, "safetensors header length");
  const declared = lengthBytes.readBigUInt64LE(0);
  // Both checks come before any allocation sized by the declared length.
  if (declared > BigInt(SAFETENSORS_HEADER_CAP)) {
    throw new ModelLibraryError(
      "E_TOO_LARGE",
      `${path}: safetensors header length ${declared} is beyond the ${SAFETENSORS_HEADER_CAP}-byte cap`,
      { path },
    );
  }
  const headerLength = Number(declared);
  if (8 + headerLength > size) {
    throw new ModelLibraryError(
      "E_TRUNCATED",
      `${path}: truncated: the safetensors header declares ${headerLength} bytes, the file has ${size - 8} after the length`,
      { path },
    );
  }
  const json = await readExactly(fh, path, 8, headerLength, "safetensors header");
  return parseSafetensorsHeader(path, json, size - 8 - headerLength);
}

/**
 * Validates header JSON bytes against a data area of `dataSize` bytes. Exposed so a header fetched
 * another way (e.g. an HTTP Range request) goes through the same checks.
 */
export function parseSafetensorsHeader(path: string, json: Buffer, dataSize: number): SafetensorsHeader {
  const invalid = (what: string) => new ModelLibraryError("E_INVALID", `${path}: invalid safetensors header: ${what}`, { path });
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(json);
  } catch {
    throw invalid("not valid UTF-8");
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw invalid(`not valid JSON (${(e as Error).message})`);
  }
  if (!isPlainObject(parsed)) throw invalid(`the JSON is ${describe(parsed)}, not an object`);

  const warnings: string[] = [];
  let metadata: Record<string, string> | null = null;
  const tensors: SafetensorsTensor[] = [];
  for (const [name, entry] of Object.entries(parsed)) {
    if (name === "__metadata__") {
      metadata = readMetadata(entry, invalid);
      continue;
    }
    tensors.push(readTensor(path, name, entry, dataSize, invalid, warnings));
  }
  checkLayout(path, tensors, dataSize, warnings);
  return { headerLength: json.length, tensors, metadata, dataSize, warnings };
}

function readMetadata(entry: unknown, invalid: (what: string) => ModelLibraryError): Record<string, string> | null {
  // Real files (MLX adapters) write `"__metadata__": null`; the spec says object of strings.
  if (entry === null) return null;
  if (!isPlainObject(entry)) throw invalid(`__metadata__ is ${describe(entry)}, not an object of strings`);
  for (const [key, value] of Object.entries(entry)) {
    if (typeof value !== "string") throw invalid(`__metadata__["${key}"] is ${describe(value)}, not a string`);
  }
  // fromEntries defines own properties, so a key named "__proto__" stays data.
  return Object.fromEntries(Object.entries(entry as Record<string, string>));
}

function readTensor(
  path: string,
  name: string,
  entry: unknown,
  dataSize: number,
  invalid: (what: string) => ModelLibraryError,
  warnings: string[],
): SafetensorsTensor {
  if (!isPlainObject(entry)) throw invalid(`tensor "${name}" is ${describe(entry)}, not an object`);
  const { dtype, shape, data_offsets: offsets } = entry as Record<string, unknown>;
  if (typeof dtype !== "string" || dtype.length === 0) throw invalid(`tensor "${name}": dtype is ${describe(dtype)}, not a dtype name`);
  if (!Array.isArray(shape)) throw invalid(`tensor "${name}": shape is ${describe(shape)}, not an array`);
  for (const d of shape) {
    if (!isSize(d)) throw invalid(`tensor "${name}": shape has ${describe(d)}, not a non-negative integer`);
  }
  if (!Array.isArray(offsets) || offsets.length !== 2) {
    throw invalid(`tensor "${name}": data_offsets is ${describe(offsets)}, not [begin, end]`);
  }
  const [begin, end] = offsets as unknown[];
  if (!isSize(begin) || !isSize(end)) {
    throw invalid(`tensor "${name}": data_offsets [${describe(begin)}, ${describe(end)}] are not non-negative integers`);
  }
  if (end < begin) throw invalid(`tensor "${name}": data_offsets end ${end} is before begin ${begin}`);
  if (end > dataSize) {
    throw new ModelLibraryError(
      "E_TRUNCATED",
      `${path}: truncated: tensor "${name}" ends at data offset ${end}, the data area has ${dataSize} bytes`,
      { path },
    );
  }
  const bits = SAFETENSORS_DTYPE_BITS[dtype];
  if (bits === undefined) {
    warnings.push(`tensor "${name}" has dtype ${dtype}, which this reader does not know; its size was not checked`);
  } else {
    // BigInt: a product of 48-bit dimensions overflows a double long before it overflows the check.
    const totalBits = (shape as number[]).reduce((acc, d) => acc * BigInt(d), 1n) * BigInt(bits);
    if (totalBits % 8n !== 0n) throw invalid(`tensor "${name}": ${dtype} ${JSON.stringify(shape)} is not a whole number of bytes`);
    if (totalBits / 8n !== BigInt(end - begin)) {
      throw invalid(
        `tensor "${name}": ${dtype} ${JSON.stringify(shape)} needs ${totalBits / 8n} bytes, data_offsets give ${end - begin}`,
      );
    }
  }
  return { name, dtype, shape: shape as number[], dataOffsets: [begin, end] };
}

/** Overlapping tensors alias each other's bytes: refused. Holes and trailing bytes are only odd. */
function checkLayout(path: string, tensors: SafetensorsTensor[], dataSize: number, warnings: string[]): void {
  const sorted = tensors.filter((t) => t.dataOffsets[1] > t.dataOffsets[0]).sort((a, b) => a.dataOffsets[0] - b.dataOffsets[0]);
  let covered = 0;
  let holes = 0;
  for (let i = 0; i < sorted.length; i++) {
    const [begin, end] = sorted[i].dataOffsets;
    if (i > 0 && begin < sorted[i - 1].dataOffsets[1]) {
      throw new ModelLibraryError(
        "E_INVALID",
        `${path}: invalid safetensors header: tensors "${sorted[i - 1].name}" and "${sorted[i].name}" overlap in the data area`,
        { path },
      );
    }
    if (begin > covered) holes++;
    covered = end;
  }
  if (holes > 0) warnings.push(`the data area has ${holes} gap(s) between tensors`);
  if (covered < dataSize) warnings.push(`${dataSize - covered} byte(s) after the last tensor belong to no tensor`);
}

/**
 * Everything a safetensors header tells about the model: format, tensor count, dtypes, metadata,
 * quantization (the dtype holding most elements) and classifyTensors' answer.
 */
export function summarizeSafetensors(header: SafetensorsHeader, context: ClassifyContext = {}): Partial<Identification> {
  const classified = classifyTensors(header.tensors, { ...context, metadata: context.metadata ?? header.metadata });
  const summary: Partial<Identification> = {
    ...classified,
    format: "safetensors",
    securityTier: "safe",
    tensorCount: header.tensors.length,
    metadata: header.metadata,
    quantization: dominantDtype(header.tensors.filter(isWeightTensor)),
  };
  // Only when there is something to say: callers Object.assign this onto a record whose own
  // warnings (e.g. from readHfConfig) an empty list would wipe out.
  const warnings = [...(header.warnings ?? []), ...(classified.warnings ?? [])];
  if (warnings.length > 0) summary.warnings = warnings;
  return summary;
}

/**
 * Whether a tensor counts for the file's quantization: floating-point tensors, and integer ones named as weights
 * (packed quantized weights such as GPTQ's `qweight` or bitsandbytes' U8 `.weight`). Integer tensors of other
 * names are data — token ids, codes, masks, sample buffers — and say nothing about how weights are stored.
 */
function isWeightTensor(t: { name: string; dtype: string }): boolean {
  if (/^B?F\d/.test(t.dtype)) return true;
  return /(^|[._])(q?weight|weight_packed)$/.test(t.name);
}

/** The dtype with the most elements; ties go to the alphabetically first, so the answer is stable. */
export function dominantDtype(tensors: readonly { dtype: string; shape: readonly number[] }[]): string | null {
  const counts = new Map<string, number>();
  for (const t of tensors) counts.set(t.dtype, (counts.get(t.dtype) ?? 0) + t.shape.reduce((a, d) => a * d, 1));
  let best: string | null = null;
  let bestCount = -1;
  for (const [dtype, n] of [...counts].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) {
    if (n > bestCount) {
      best = dtype;
      bestCount = n;
    }
  }
  return best;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/** safetensors sizes are at most 48 bits; anything not a safe non-negative integer is refused. */
function isSize(v: unknown): v is number {
  return typeof v === "number" && Number.isSafeInteger(v) && v >= 0;
}

function describe(v: unknown): string {
  if (v === null) return "null";
  if (Array.isArray(v)) return "an array";
  if (typeof v === "string") return `the string ${JSON.stringify(v.length > 40 ? v.slice(0, 40) + "…" : v)}`;
  if (typeof v === "number" || typeof v === "boolean") return `${typeof v} ${String(v)}`;
  return typeof v === "object" ? "an object" : typeof v;
}
