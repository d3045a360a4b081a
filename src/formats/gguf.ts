// The GGUF reader: header, metadata and tensor infos of a GGUF v1/v2/v3 file, never the tensor data.
// Why our own reader: @huggingface/gguf takes a 6-byte file for a valid "version 2" file, and decodes every
// token string of the vocabulary (30-450 ms per file). Here long arrays are skipped without decoding them,
// every declared length is checked against the bytes left before anything is allocated, and each error
// names the file and what is wrong.
//
// Layout (little-endian): "GGUF", u32 version, tensor_count, kv_count, then kv_count × (key string, u32 value
// type, value), then tensor_count × (name string, u32 n_dims, n_dims × dim, u32 ggml type, u64 offset),
// padding to `general.alignment` (default 32), then tensor data. v1 uses u32 for counts, string lengths,
// array lengths and dims; v2 and v3 use u64 (v3 only adds big-endian files, which we refuse).
import { open, type FileHandle } from "node:fs/promises";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { BufferedFileReader } from "./buffered-file-reader.js";
import { fileTypeName, ggmlTensorBytes, ggmlTypeName } from "./gguf-file-types.js";
import type { Identification, ModelType } from "./types.js";

/** GGUF metadata value types, as numbered in the file. */
export const GgufType = {
  UINT8: 0,
  INT8: 1,
  UINT16: 2,
  INT16: 3,
  UINT32: 4,
  INT32: 5,
  FLOAT32: 6,
  BOOL: 7,
  STRING: 8,
  ARRAY: 9,
  UINT64: 10,
  INT64: 11,
  FLOAT64: 12,
} as const;
export type GgufValueType = (typeof GgufType)[keyof typeof GgufType];

/**
 * UINT64/INT64 values are numbers when they fit a double exactly (|v| <= 2^53 - 1), bigints otherwise.
 * Arrays longer than `maxArrayValues` keep their element type and length, with `values: null`.
 */
export type GgufScalar = number | bigint | boolean | string;
export interface GgufArray {
  type: "array";
  elementType: GgufValueType;
  length: number;
  values: GgufValue[] | null;
}
export type GgufValue = GgufScalar | GgufArray;

export interface GgufTensorInfo {
  name: string;
  shape: number[];
  /** The ggml type number; `typeName` is its name ("F16", "Q4_K", "unknown(99)"). */
  type: number;
  typeName: string;
  /** Offset of the tensor's data from `dataOffset`. */
  offset: number;
}

export interface GgufFile {
  version: 1 | 2 | 3;
  tensorCount: number;
  kvCount: number;
  /** Keys in file order; a null-prototype object, so a key named `__proto__` is just a key. */
  metadata: Record<string, GgufValue>;
  /** The value type of each key of `metadata`. */
  valueTypes: Record<string, GgufValueType>;
  tensors: GgufTensorInfo[];
  alignment: number;
  /** Absolute offset where tensor data starts (after the header and its alignment padding). */
  dataOffset: number;
  /** Absolute offset where the last tensor's data ends, or null when a tensor type has no known size. */
  tensorDataEnd: number | null;
  fileSize: number;
  /** Keys that appeared more than once; the first value is kept. */
  duplicateKeys: string[];
}

export interface ReadGgufOptions {
  /** Arrays with more elements than this are skipped, not decoded (default 64). */
  maxArrayValues?: number;
}

const MAX_KEY_BYTES = 64 * 1024;
const MAX_TENSOR_NAME_BYTES = 64 * 1024;
const MAX_DIMS = 8;
const MAX_ARRAY_DEPTH = 8;
const DEFAULT_ALIGNMENT = 32;
const DEFAULT_MAX_ARRAY_VALUES = 64;
// A declared size beyond the bytes left is "truncated" when it is of the order of the file, and "too
// large" (a hostile or garbage header) when it exceeds both 16 MiB and 16 times what is left.
const ABSURD_FLOOR = 16 * 1024 * 1024;
const ABSURD_FACTOR = 16;

const FIXED_SIZES: readonly number[] = [1, 1, 2, 2, 4, 4, 4, 1, -1, -1, 8, 8, 8];
const TYPE_NAMES: readonly string[] = [
  "UINT8", "INT8", "UINT16", "INT16", "UINT32", "INT32", "FLOAT32", "BOOL", "STRING", "ARRAY", "UINT64", "INT64", "FLOAT64",
];
const strictUtf8 = new TextDecoder("utf-8", { fatal: true });

/** Reads the header, metadata and tensor infos of a GGUF file. */
export async function readGguf(path: string, options: ReadGgufOptions = {}): Promise<GgufFile> {
  let fh: FileHandle;
  try {
    fh = await open(path, "r");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ModelLibraryError("E_NOT_FOUND", `${path}: no such file`, { path });
    }
    throw ioError(path, "open", e);
  }
  try {
    let size: number;
    try {
      size = (await fh.stat()).size;
    } catch (e) {
      throw ioError(path, "stat", e);
    }
    const parser = new GgufParser(new BufferedFileReader(fh, path, size), options.maxArrayValues ?? DEFAULT_MAX_ARRAY_VALUES);
    return await parser.parse();
  } finally {
    await fh.close();
  }
}

class GgufParser {
  private wide = true; // v2+: u64 lengths and counts; v1: u32
  private readonly path: string;

  constructor(
    private readonly r: BufferedFileReader,
    private readonly maxArrayValues: number,
  ) {
    this.path = r.path;
  }

  async parse(): Promise<GgufFile> {
    const { r, path } = this;
    await this.readMagic();
    await r.need(4, "GGUF version");
    const version = r.u32();
    if (version < 1 || version > 3) {
      const swapped = ((version & 0xff) << 24) | ((version & 0xff00) << 8) | ((version >>> 8) & 0xff00) | (version >>> 24);
      const why = swapped >= 1 && swapped <= 3 ? "a big-endian GGUF file, which is not supported" : "a version this reader does not know (1-3)";
      throw new ModelLibraryError("E_UNSUPPORTED", `${path}: GGUF version ${version}: ${why}`, { path });
    }
    this.wide = version >= 2;
    const tensorCount = await this.count("tensor count");
    const kvCount = await this.count("metadata key count");

    // Each kv takes at least a key length, a type and a 1-byte value; each tensor info at least a name
    // length, n_dims, a type and an offset. Counts that cannot fit in what is left fail here, before looping.
    const lenBytes = this.wide ? 8 : 4;
    const minimum = kvCount * (lenBytes + 4 + 1) + tensorCount * (lenBytes + 4 + 4 + 8);
    if (minimum > r.remaining) {
      throw this.overrun(`${kvCount} metadata keys and ${tensorCount} tensor infos`, minimum);
    }

    const metadata: Record<string, GgufValue> = Object.create(null);
    const valueTypes: Record<string, GgufValueType> = Object.create(null);
    const duplicateKeys: string[] = [];
    for (let i = 0; i < kvCount; i++) {
      const key = await this.readKey(i);
      await r.need(4, `value type of key "${key}"`);
      const type = r.u32();
      this.checkType(type, `key "${key}" has value type ${type}`);
      const value = await this.readValue(type as GgufValueType, key, 0);
      if (Object.hasOwn(metadata, key)) {
        duplicateKeys.push(key);
        continue;
      }
      metadata[key] = value;
      valueTypes[key] = type as GgufValueType;
    }

    const alignment = this.alignmentOf(metadata["general.alignment"]);
    const tensors: GgufTensorInfo[] = [];
    const names = new Set<string>();
    for (let i = 0; i < tensorCount; i++) {
      const info = await this.readTensorInfo(i);
      if (names.has(info.name)) {
        throw new ModelLibraryError("E_INVALID", `${path}: tensor name "${info.name}" appears twice`, { path });
      }
      names.add(info.name);
      tensors.push(info);
    }
    const dataOffset = Math.ceil(r.pos / alignment) * alignment;
    const tensorDataEnd = this.checkTensorData(tensors, dataOffset, alignment);

    return {
      version: version as 1 | 2 | 3,
      tensorCount,
      kvCount,
      metadata,
      valueTypes,
      tensors,
      alignment,
      dataOffset,
      tensorDataEnd,
      fileSize: r.size,
      duplicateKeys,
    };
  }

  private async readMagic(): Promise<void> {
    const { r, path } = this;
    const have = Math.min(4, r.size);
    const head = have > 0 ? (await r.bytes(have, "GGUF magic")).toString("latin1") : "";
    if (head === "GGUF") return;
    if (have < 4 && "GGUF".startsWith(head)) throw r.truncated("GGUF magic", 4);
    const shown = [...head].map((c) => (c >= " " && c <= "~" ? c : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)).join("");
    throw new ModelLibraryError("E_BAD_MAGIC", `${path}: not a GGUF file (magic "${shown}", expected "GGUF")`, { path });
  }

  /** A u32 (v1) or u64 (v2+) count or length, as a number (approximate past 2^53, which is absurd anyway). */
  private async count(what: string): Promise<number> {
    const { r } = this;
    if (this.wide) {
      await r.need(8, what);
      return r.u64Approx();
    }
    await r.need(4, what);
    return r.u32();
  }

  private async readKey(index: number): Promise<string> {
    const { r, path } = this;
    const what = `metadata key #${index + 1}`;
    const length = await this.count(`${what} length`);
    if (length > MAX_KEY_BYTES) {
      throw new ModelLibraryError("E_TOO_LARGE", `${path}: ${what} at offset ${r.pos} declares ${length} bytes (limit ${MAX_KEY_BYTES})`, { path });
    }
    if (length > r.remaining) throw this.overrun(what, length);
    const bytes = await r.bytes(length, what);
    try {
      return strictUtf8.decode(bytes);
    } catch {
      throw new ModelLibraryError("E_INVALID", `${path}: ${what} at offset ${r.pos - length} is not valid UTF-8`, { path });
    }
  }

  private async readString(what: string): Promise<string> {
    const { r } = this;
    const length = await this.count(`${what} length`);
    if (length > r.remaining) throw this.overrun(what, length);
    // Values are decoded leniently (replacement characters): a stray byte must not make a model unreadable.
    return (await r.bytes(length, what)).toString("utf8");
  }

  private checkType(type: number, context: string): void {
    if (type > GgufType.FLOAT64) {
      throw new ModelLibraryError("E_INVALID", `${this.path}: ${context}, which GGUF does not define (0-12) at offset ${this.r.pos - 4}`, {
        path: this.path,
      });
    }
  }

  private async readValue(type: GgufValueType, key: string, depth: number): Promise<GgufValue> {
    const { r } = this;
    const size = FIXED_SIZES[type];
    if (size > 0) {
      await r.need(size, `value of key "${key}"`);
      return this.readFixed(type, key);
    }
    if (type === GgufType.STRING) return this.readString(`string value of key "${key}"`);
    return this.readArray(key, depth + 1);
  }

  /** A fixed-size value whose bytes are in the window. */
  private readFixed(type: GgufValueType, key: string): GgufScalar {
    const { r } = this;
    switch (type) {
      case GgufType.UINT8:
        return r.u8();
      case GgufType.INT8:
        return r.i8();
      case GgufType.UINT16:
        return r.u16();
      case GgufType.INT16:
        return r.i16();
      case GgufType.UINT32:
        return r.u32();
      case GgufType.INT32:
        return r.i32();
      case GgufType.FLOAT32:
        return r.f32();
      case GgufType.BOOL: {
        const b = r.u8();
        if (b > 1) {
          throw new ModelLibraryError("E_INVALID", `${this.path}: key "${key}": boolean byte ${b} at offset ${r.pos - 1} (must be 0 or 1)`, {
            path: this.path,
          });
        }
        return b === 1;
      }
      case GgufType.UINT64:
        return toNumberIfSafe(r.u64());
      case GgufType.INT64:
        return toNumberIfSafe(r.i64());
      case GgufType.FLOAT64:
        return r.f64();
      default:
        throw new Error(`readFixed: type ${type} has no fixed size`);
    }
  }

  private async readArray(key: string, depth: number): Promise<GgufArray> {
    const { r, path } = this;
    if (depth > MAX_ARRAY_DEPTH) {
      throw new ModelLibraryError("E_TOO_LARGE", `${path}: key "${key}": arrays nested deeper than ${MAX_ARRAY_DEPTH} levels at offset ${r.pos}`, {
        path,
      });
    }
    await r.need(4, `array element type of key "${key}"`);
    const elementType = r.u32();
    this.checkType(elementType, `key "${key}" is an array of value type ${elementType}`);
    const length = await this.count(`array length of key "${key}"`);
    const type = elementType as GgufValueType;
    this.checkArrayFits(type, length, key);
    if (length <= this.maxArrayValues) {
      const values: GgufValue[] = [];
      // readValue counts an element that is itself an array as one level deeper.
      for (let i = 0; i < length; i++) values.push(await this.readValue(type, key, depth));
      return { type: "array", elementType: type, length, values };
    }
    await this.skipElements(type, length, key, depth);
    return { type: "array", elementType: type, length, values: null };
  }

  /** Fails at once when `length` elements of `type` cannot fit in the bytes left (2^63 × UINT8 included). */
  private checkArrayFits(type: GgufValueType, length: number, key: string): void {
    const lenBytes = this.wide ? 8 : 4;
    const fixed = FIXED_SIZES[type];
    const minElement = fixed > 0 ? fixed : type === GgufType.STRING ? lenBytes : 4 + lenBytes;
    if (length * minElement > this.r.remaining) {
      throw this.overrun(`array of key "${key}" (${length} × ${TYPE_NAMES[type]})`, length * minElement);
    }
  }

  /** Moves past `length` elements of `type` (already checked to fit) without decoding or keeping them. */
  private async skipElements(type: GgufValueType, length: number, key: string, depth: number): Promise<void> {
    const { r } = this;
    const fixed = FIXED_SIZES[type];
    if (fixed > 0) {
      r.skip(length * fixed, `array of key "${key}"`);
      return;
    }
    if (type === GgufType.STRING) {
      const lenBytes = this.wide ? 8 : 4;
      for (let i = 0; i < length; i++) {
        // The sync path keeps a 150k-token vocabulary to a few ms: I/O only when the window runs out.
        if (!r.has(lenBytes)) await r.need(lenBytes, `string #${i + 1} of array "${key}"`);
        const n = this.wide ? r.u64Approx() : r.u32();
        if (n > r.remaining) throw this.overrun(`string #${i + 1} of array "${key}"`, n);
        r.pos += n;
      }
      return;
    }
    // Arrays of arrays: each inner array declares its own type and length.
    if (depth + 1 > MAX_ARRAY_DEPTH) {
      throw new ModelLibraryError("E_TOO_LARGE", `${this.path}: key "${key}": arrays nested deeper than ${MAX_ARRAY_DEPTH} levels`, { path: this.path });
    }
    for (let i = 0; i < length; i++) {
      await r.need(4, `array element type of key "${key}"`);
      const inner = r.u32();
      this.checkType(inner, `key "${key}" is an array of value type ${inner}`);
      const innerLength = await this.count(`array length of key "${key}"`);
      this.checkArrayFits(inner as GgufValueType, innerLength, key);
      await this.skipElements(inner as GgufValueType, innerLength, key, depth + 1);
    }
  }

  private alignmentOf(value: GgufValue | undefined): number {
    if (value === undefined) return DEFAULT_ALIGNMENT;
    if (typeof value === "number" && Number.isInteger(value) && value > 0 && (value & (value - 1)) === 0 && value <= 1 << 30) return value;
    throw new ModelLibraryError("E_INVALID", `${this.path}: general.alignment is ${String(value)}; it must be a power of two`, { path: this.path });
  }

  private async readTensorInfo(index: number): Promise<GgufTensorInfo> {
    const { r, path } = this;
    const what = `tensor info #${index + 1}`;
    const nameLength = await this.count(`${what} name length`);
    if (nameLength > MAX_TENSOR_NAME_BYTES) {
      throw new ModelLibraryError("E_TOO_LARGE", `${path}: ${what} name declares ${nameLength} bytes (limit ${MAX_TENSOR_NAME_BYTES})`, { path });
    }
    if (nameLength > r.remaining) throw this.overrun(`${what} name`, nameLength);
    const name = (await r.bytes(nameLength, `${what} name`)).toString("utf8");
    await r.need(4, `dimension count of tensor "${name}"`);
    const nDims = r.u32();
    if (nDims > MAX_DIMS) {
      throw new ModelLibraryError("E_TOO_LARGE", `${path}: tensor "${name}" declares ${nDims} dimensions (limit ${MAX_DIMS})`, { path });
    }
    const shape: number[] = [];
    for (let d = 0; d < nDims; d++) {
      const dim = await this.count(`dimension ${d} of tensor "${name}"`);
      if (dim > Number.MAX_SAFE_INTEGER) {
        throw new ModelLibraryError("E_TOO_LARGE", `${path}: tensor "${name}" dimension ${d} is ${dim}`, { path });
      }
      shape.push(dim);
    }
    await r.need(12, `type and offset of tensor "${name}"`);
    const type = r.u32();
    const offset = r.u64Approx();
    if (offset > Number.MAX_SAFE_INTEGER) {
      throw new ModelLibraryError("E_TOO_LARGE", `${path}: tensor "${name}" declares data offset ${offset}`, { path });
    }
    return { name, shape, type, typeName: ggmlTypeName(type), offset };
  }

  /** Checks offsets against the alignment and the data against the file's end; returns where the data ends. */
  private checkTensorData(tensors: GgufTensorInfo[], dataOffset: number, alignment: number): number | null {
    const { r, path } = this;
    let end: number | null = tensors.length > 0 ? dataOffset : null;
    for (const t of tensors) {
      if (t.offset % alignment !== 0) {
        throw new ModelLibraryError("E_INVALID", `${path}: tensor "${t.name}" data offset ${t.offset} is not a multiple of the alignment ${alignment}`, {
          path,
        });
      }
      const bytes = ggmlTensorBytes(t.type, t.shape.reduce((a, b) => a * b, 1));
      // An unknown type has no known size, but its data must at least start inside the file.
      const tensorEnd = dataOffset + t.offset + (bytes ?? 0);
      if (tensorEnd > r.size) {
        const need = tensorEnd - dataOffset;
        const left = Math.max(0, r.size - dataOffset);
        const absurd = need > Math.max(left * ABSURD_FACTOR, ABSURD_FLOOR);
        const where = bytes === null ? `data starts at offset ${tensorEnd}` : `data ends at offset ${tensorEnd}`;
        throw new ModelLibraryError(
          absurd ? "E_TOO_LARGE" : "E_TRUNCATED",
          `${path}: ${absurd ? "" : "truncated: "}tensor "${t.name}" (${t.typeName} ${t.shape.join("×")}) ${where}, but the file has ${r.size} bytes`,
          { path },
        );
      }
      if (bytes === null) {
        end = null;
        continue;
      }
      if (end !== null) end = Math.max(end, tensorEnd);
    }
    return end;
  }

  /** A declared size beyond the bytes left: truncated, or absurd when far beyond anything the file could hold. */
  private overrun(what: string, need: number): ModelLibraryError {
    const { r, path } = this;
    const left = r.remaining;
    if (need > Math.max(left * ABSURD_FACTOR, ABSURD_FLOOR)) {
      return new ModelLibraryError("E_TOO_LARGE", `${path}: ${what} at offset ${r.pos} declares ${need} bytes, but only ${left} remain in the file`, {
        path,
      });
    }
    return r.truncated(what, need);
  }
}

function toNumberIfSafe(v: bigint): number | bigint {
  return v <= BigInt(Number.MAX_SAFE_INTEGER) && v >= BigInt(Number.MIN_SAFE_INTEGER) ? Number(v) : v;
}

/** Sum over tensors of the product of their dimensions. */
export function parameterCountOf(tensors: readonly GgufTensorInfo[]): number {
  let total = 0;
  for (const t of tensors) total += t.shape.reduce((a, b) => a * b, 1);
  return total;
}

/** The string-valued keys only, like the original's `extract_gguf_metadata`. */
export function ggufMetadataStrings(file: GgufFile): Record<string, string> {
  const out: Record<string, string> = Object.create(null);
  for (const [k, v] of Object.entries(file.metadata)) if (typeof v === "string") out[k] = v;
  return out;
}

// Architectures whose models produce embeddings, not text (llama.cpp names).
const EMBEDDING_ARCHITECTURES = new Set(["bert", "nomic-bert", "nomic-bert-moe", "neo-bert", "modern-bert", "gemma-embedding", "t5encoder"]);
const AUDIO_ARCHITECTURES = new Set(["whisper", "wavtokenizer-dec"]);

/** What a GGUF file tells about the model in it. */
export function summarizeGguf(file: GgufFile): Partial<Identification> {
  const md = file.metadata;
  const architecture = stringOf(md["general.architecture"]);
  const arch = architecture ?? "";
  const name = stringOf(md["general.name"]) ?? stringOf(md["general.basename"]);
  const dtypes = [...new Set(file.tensors.map((t) => t.typeName))].sort();
  const warnings = [...new Set(file.duplicateKeys)].map((k) => `duplicate GGUF key "${k}": the first value is used`);
  // A vocab-only file (llama.cpp's ggml-vocab-*.gguf) carries a tokenizer and no tensors: not a usable model.
  const noWeights = file.tensorCount === 0;
  if (noWeights) warnings.push("holds no weights (0 tensors): a vocabulary/tokenizer file, not a usable model");
  return {
    format: "gguf",
    ggufVersion: file.version,
    tensorCount: file.tensorCount,
    architecture,
    name,
    family: architecture ? architecture.toLowerCase() : null,
    // general.file_type describes the weights; with none, there is nothing it describes.
    quantization: noWeights ? null : quantizationOf(file),
    parameterCount: file.tensors.length > 0 ? parameterCountOf(file.tensors) : null,
    contextLength: safeNumberOf(md[`${arch}.context_length`]),
    embeddingLength: safeNumberOf(md[`${arch}.embedding_length`]),
    blockCount: safeNumberOf(md[`${arch}.block_count`]),
    tokenizerModel: stringOf(md["tokenizer.ggml.model"]),
    hasChatTemplate: md["tokenizer.chat_template"] !== undefined,
    dtypes,
    modelType: modelTypeOf(file, arch, name),
    subtype: isLoraAdapter(file) ? "loras" : DIFFUSION_ARCHITECTURES.has(arch.toLowerCase()) ? "diffusion_models" : null,
    warnings,
  };
}

function quantizationOf(file: GgufFile): string | null {
  const declared = safeNumberOf(file.metadata["general.file_type"]);
  if (declared !== null) return fileTypeName(declared);
  // No declaration: the type most 2-D weights use is what the file is quantized to.
  const counts = new Map<string, number>();
  for (const t of file.tensors) {
    if (t.shape.length === 2 && t.name.endsWith(".weight")) counts.set(t.typeName, (counts.get(t.typeName) ?? 0) + 1);
  }
  let best: string | null = null;
  let bestCount = 0;
  for (const [typeName, n] of counts) {
    if (n > bestCount) {
      best = typeName;
      bestCount = n;
    }
  }
  return best;
}

// The image architectures ComfyUI-GGUF writes as general.architecture (its loader.py IMG_ARCH_LIST): a quantized
// diffusion model (transformer / UNet only), which ComfyUI loads from models/diffusion_models (`unet/`) and no
// LLM runtime can. Called an LLM, such a file was linked into llama.cpp and LM Studio and missed by ComfyUI.
export const GGUF_DIFFUSION_ARCHITECTURES: readonly string[] = ["flux", "sd1", "sdxl", "sd3", "aura", "hidream", "cosmos", "ltxv", "hyvid", "wan", "lumina2", "qwen_image"];
const DIFFUSION_ARCHITECTURES = new Set(GGUF_DIFFUSION_ARCHITECTURES);

function modelTypeOf(file: GgufFile, arch: string, name: string | null): ModelType {
  const md = file.metadata;
  const lower = arch.toLowerCase();
  if (DIFFUSION_ARCHITECTURES.has(lower)) return "diffusion";
  if (AUDIO_ARCHITECTURES.has(lower)) return "audio";
  if (lower === "clip") {
    // Multimodal projectors: an audio-only encoder is audio, anything else is a vision encoder.
    return md["clip.has_audio_encoder"] === true && md["clip.has_vision_encoder"] !== true ? "audio" : "vision";
  }
  if (EMBEDDING_ARCHITECTURES.has(lower) || lower.startsWith("jina-bert")) return "embedding";
  if (md[`${arch}.pooling_type`] !== undefined) return "embedding";
  if (md[`${arch}.attention.causal`] === false) return "embedding";
  // The original's rule, kept as the floor: the model's own name (not its path) says it embeds.
  const names = [stringOf(md["general.basename"]), name].filter((n): n is string => n !== null).map((n) => n.toLowerCase());
  if (names.some((n) => n.includes("embedding") || n.includes("embed-"))) return "embedding";
  return "llm";
}

function isLoraAdapter(file: GgufFile): boolean {
  if (stringOf(file.metadata["general.type"]) !== "adapter") return false;
  const kind = stringOf(file.metadata["adapter.type"]);
  return kind === null || kind === "lora";
}

function stringOf(v: GgufValue | undefined): string | null {
  return typeof v === "string" ? v : null;
}

function safeNumberOf(v: GgufValue | undefined): number | null {
  return typeof v === "number" && Number.isFinite(v) ? v : null;
}
