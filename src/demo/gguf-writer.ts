// Builds GGUF files from a typed description: the tests' fixtures (every value type, nested arrays, v1/v2/v3,
// tensors with alignment padding) and the tiny but valid model that `mlib demo` ships. Only what a reader
// needs to be tested against is here; it is not a converter.
//
//   buildGguf({
//     version: 3,                                   // 1 | 2 | 3, default 3 (v1: u32 counts, lengths and dims)
//     kv: [
//       { key: "general.architecture", type: "string", value: "llama" },
//       { key: "llama.context_length", type: "uint32", value: 4096 },
//       { key: "tokenizer.ggml.tokens", type: "array", elementType: "string", value: ["<s>", "</s>"] },
//       { key: "nested", type: "array", elementType: "array", value: [{ elementType: "int8", value: [1, -2] }] },
//       { key: "odd", rawType: 13, raw: Buffer.from([1, 2]) },    // any type number with raw value bytes
//     ],
//     tensors: [{ name: "output.weight", shape: [8, 16], type: "F16" }],  // data: zero bytes unless given
//   })
//
// The tensor data alignment is the `general.alignment` kv when the spec has one (a number), else 32.
import { writeFile } from "node:fs/promises";
import { ggmlTensorBytes, ggmlTypeNumber } from "../formats/gguf-file-types.js";

export type GgufScalarTypeName =
  | "uint8"
  | "int8"
  | "uint16"
  | "int16"
  | "uint32"
  | "int32"
  | "float32"
  | "bool"
  | "string"
  | "uint64"
  | "int64"
  | "float64";
export type GgufTypeName = GgufScalarTypeName | "array";
export type GgufScalarSpec = number | bigint | boolean | string;
/** An array inside an array: its own element type and elements. */
export interface GgufArraySpec {
  elementType: GgufTypeName;
  value: GgufElementSpec[];
}
export type GgufElementSpec = GgufScalarSpec | GgufArraySpec;

export type GgufKvSpec =
  | { key: string; type: GgufScalarTypeName; value: GgufScalarSpec }
  | { key: string; type: "array"; elementType: GgufTypeName; value: GgufElementSpec[] }
  | { key: string; rawType: number; raw: Buffer };

export interface GgufTensorSpec {
  name: string;
  /** ggml order: shape[0] is the innermost (row) dimension. */
  shape: number[];
  /** A ggml type number or name ("F32", "F16", "Q4_K"...). */
  type: number | string;
  /** The tensor's bytes; zeros when absent. Must have the type's exact size when the size is known. */
  data?: Buffer;
}

export interface GgufSpec {
  version?: 1 | 2 | 3;
  kv?: GgufKvSpec[];
  tensors?: GgufTensorSpec[];
}

const TYPE_NUMBERS: Record<GgufTypeName, number> = {
  uint8: 0,
  int8: 1,
  uint16: 2,
  int16: 3,
  uint32: 4,
  int32: 5,
  float32: 6,
  bool: 7,
  string: 8,
  array: 9,
  uint64: 10,
  int64: 11,
  float64: 12,
};

/** The bytes of a GGUF file described by `spec`. */
export function buildGguf(spec: GgufSpec): Buffer {
  const version = spec.version ?? 3;
  const w = new ByteWriter(version >= 2);
  const kv = spec.kv ?? [];
  const tensors = spec.tensors ?? [];

  w.ascii("GGUF");
  w.u32(version);
  w.count(tensors.length);
  w.count(kv.length);
  for (const item of kv) {
    w.string(item.key);
    if ("rawType" in item) {
      w.u32(item.rawType);
      w.bytes(item.raw);
    } else if (item.type === "array") {
      w.u32(TYPE_NUMBERS.array);
      writeArray(w, item.elementType, item.value);
    } else {
      w.u32(TYPE_NUMBERS[item.type]);
      writeScalar(w, item.type, item.value);
    }
  }

  const alignment = alignmentOf(kv);
  const datas: Buffer[] = [];
  let cursor = 0;
  for (const t of tensors) {
    const type = typeof t.type === "number" ? t.type : ggmlTypeNumber(t.type);
    if (type === null) throw new TypeError(`buildGguf: unknown ggml type "${String(t.type)}" for tensor ${t.name}`);
    const data = tensorData(t, type);
    const offset = alignUp(cursor, alignment);
    w.string(t.name);
    w.u32(t.shape.length);
    for (const d of t.shape) w.count(d);
    w.u32(type);
    w.u64(BigInt(offset));
    datas.push(Buffer.alloc(offset - cursor), data);
    cursor = offset + data.length;
  }
  if (tensors.length > 0) w.bytes(Buffer.alloc(alignUp(w.length, alignment) - w.length));
  return Buffer.concat([w.toBuffer(), ...datas]);
}

/** Writes `buildGguf(spec)` to `path`. */
export async function writeGguf(path: string, spec: GgufSpec): Promise<void> {
  await writeFile(path, buildGguf(spec));
}

export interface TinyLlamaOptions {
  name: string;
  architecture?: string; // default "llama"
  /** `general.file_type` to declare (default 1, F16); the tensors stay F32/F16 whatever it says. */
  fileType?: number;
  contextLength?: number; // default 2048
  embeddingLength?: number; // default 16
  blockCount?: number; // default 1
  vocabSize?: number; // default 32 (tokens "<t0>"...)
  /** Varies the weights; defaults to a hash of the name, so different names give different bytes. */
  seed?: number;
  /** More kv pairs, appended after the standard ones. */
  extraKv?: GgufKvSpec[];
}

/** A small but complete llama-style GGUF v3: metadata, a tokenizer and real F32/F16 weights (a few KiB). */
export function buildTinyLlamaGguf(options: TinyLlamaOptions): Buffer {
  const arch = options.architecture ?? "llama";
  const emb = options.embeddingLength ?? 16;
  const blocks = options.blockCount ?? 1;
  const vocab = options.vocabSize ?? 32;
  const ff = emb * 2;
  const fileType = options.fileType ?? 1;
  const random = xorshift(options.seed ?? fnv1a(options.name));

  const kv: GgufKvSpec[] = [
    { key: "general.architecture", type: "string", value: arch },
    { key: "general.name", type: "string", value: options.name },
    { key: "general.file_type", type: "uint32", value: fileType },
    { key: "general.quantization_version", type: "uint32", value: 2 },
    { key: `${arch}.context_length`, type: "uint32", value: options.contextLength ?? 2048 },
    { key: `${arch}.embedding_length`, type: "uint32", value: emb },
    { key: `${arch}.block_count`, type: "uint32", value: blocks },
    { key: `${arch}.feed_forward_length`, type: "uint32", value: ff },
    { key: `${arch}.attention.head_count`, type: "uint32", value: 2 },
    { key: `${arch}.attention.layer_norm_rms_epsilon`, type: "float32", value: 1e-5 },
    { key: "tokenizer.ggml.model", type: "string", value: "llama" },
    { key: "tokenizer.ggml.tokens", type: "array", elementType: "string", value: Array.from({ length: vocab }, (_, i) => `<t${i}>`) },
    { key: "tokenizer.ggml.scores", type: "array", elementType: "float32", value: Array.from({ length: vocab }, (_, i) => -i) },
    { key: "tokenizer.ggml.bos_token_id", type: "uint32", value: 1 },
    { key: "tokenizer.ggml.eos_token_id", type: "uint32", value: 2 },
    ...(options.extraKv ?? []),
  ];
  const f16 = (name: string, shape: number[]): GgufTensorSpec => ({ name, shape, type: "F16", data: f16Data(shape, random) });
  const f32Ones = (name: string, shape: number[]): GgufTensorSpec => ({ name, shape, type: "F32", data: f32Data(shape, () => 1) });
  const tensors: GgufTensorSpec[] = [f16("token_embd.weight", [emb, vocab])];
  for (let b = 0; b < blocks; b++) {
    tensors.push(
      f32Ones(`blk.${b}.attn_norm.weight`, [emb]),
      f16(`blk.${b}.attn_q.weight`, [emb, emb]),
      f16(`blk.${b}.attn_k.weight`, [emb, emb]),
      f16(`blk.${b}.attn_v.weight`, [emb, emb]),
      f16(`blk.${b}.attn_output.weight`, [emb, emb]),
      f32Ones(`blk.${b}.ffn_norm.weight`, [emb]),
      f16(`blk.${b}.ffn_gate.weight`, [emb, ff]),
      f16(`blk.${b}.ffn_up.weight`, [emb, ff]),
      f16(`blk.${b}.ffn_down.weight`, [ff, emb]),
    );
  }
  tensors.push(f32Ones("output_norm.weight", [emb]), f16("output.weight", [emb, vocab]));
  return buildGguf({ version: 3, kv, tensors });
}

/** Writes `buildTinyLlamaGguf(options)` to `path`. */
export async function writeTinyLlamaGguf(path: string, options: TinyLlamaOptions): Promise<void> {
  await writeFile(path, buildTinyLlamaGguf(options));
}

function writeArray(w: ByteWriter, elementType: GgufTypeName, values: GgufElementSpec[]): void {
  w.u32(TYPE_NUMBERS[elementType]);
  w.count(values.length);
  for (const v of values) {
    if (elementType === "array") {
      if (typeof v !== "object") throw new TypeError("buildGguf: an array of arrays needs { elementType, value } elements");
      writeArray(w, v.elementType, v.value);
    } else {
      if (typeof v === "object") throw new TypeError(`buildGguf: an array of ${elementType} cannot hold an array`);
      writeScalar(w, elementType, v);
    }
  }
}

function writeScalar(w: ByteWriter, type: GgufScalarTypeName, v: GgufScalarSpec): void {
  if (type === "string") {
    if (typeof v !== "string") throw new TypeError(`buildGguf: string value expected, got ${typeof v}`);
    w.string(v);
    return;
  }
  if (type === "bool") {
    w.u8(v ? 1 : 0);
    return;
  }
  if (typeof v === "string" || typeof v === "boolean") throw new TypeError(`buildGguf: ${type} value expected, got ${typeof v}`);
  const b = Buffer.alloc(8);
  switch (type) {
    case "uint8":
      return w.bytes(Buffer.from([Number(v)]));
    case "int8":
      b.writeInt8(Number(v));
      return w.bytes(b.subarray(0, 1));
    case "uint16":
      b.writeUInt16LE(Number(v));
      return w.bytes(b.subarray(0, 2));
    case "int16":
      b.writeInt16LE(Number(v));
      return w.bytes(b.subarray(0, 2));
    case "uint32":
      return w.u32(Number(v));
    case "int32":
      b.writeInt32LE(Number(v));
      return w.bytes(b.subarray(0, 4));
    case "float32":
      b.writeFloatLE(Number(v));
      return w.bytes(b.subarray(0, 4));
    case "uint64":
      return w.u64(BigInt(v));
    case "int64":
      b.writeBigInt64LE(BigInt(v));
      return w.bytes(b);
    case "float64":
      b.writeDoubleLE(Number(v));
      return w.bytes(b);
  }
}

function alignmentOf(kv: GgufKvSpec[]): number {
  const item = kv.find((k) => k.key === "general.alignment");
  if (item && "value" in item && typeof item.value === "number") return item.value;
  return 32;
}

function tensorData(t: GgufTensorSpec, type: number): Buffer {
  const elements = t.shape.reduce((a, b) => a * b, 1);
  const size = ggmlTensorBytes(type, elements);
  if (t.data) {
    if (size !== null && t.data.length !== size) {
      throw new TypeError(`buildGguf: tensor ${t.name} needs ${size} bytes of data, got ${t.data.length}`);
    }
    return t.data;
  }
  if (size === null) throw new TypeError(`buildGguf: tensor ${t.name}: give its data, the size of type ${type} is not known`);
  return Buffer.alloc(size);
}

function alignUp(n: number, alignment: number): number {
  return Math.ceil(n / alignment) * alignment;
}

function f32Data(shape: number[], next: () => number): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  const b = Buffer.alloc(n * 4);
  for (let i = 0; i < n; i++) b.writeFloatLE(next(), i * 4);
  return b;
}

function f16Data(shape: number[], random: () => number): Buffer {
  const n = shape.reduce((a, b) => a * b, 1);
  const b = Buffer.alloc(n * 2);
  for (let i = 0; i < n; i++) b.writeUInt16LE(toHalf(random() * 0.2 - 0.1), i * 2);
  return b;
}

/** IEEE half-precision bits of `x` (truncating; small weights only, no NaN/Inf handling needed here). */
function toHalf(x: number): number {
  const f = new DataView(new ArrayBuffer(4));
  f.setFloat32(0, x);
  const bits = f.getUint32(0);
  const sign = (bits >>> 16) & 0x8000;
  const exp = ((bits >>> 23) & 0xff) - 127 + 15;
  const mant = bits & 0x7fffff;
  if (exp <= 0) return sign; // too small for a normal half: zero
  if (exp >= 31) return sign | 0x7bff; // clamp to the largest finite half
  return sign | (exp << 10) | (mant >>> 13);
}

/** A deterministic generator of numbers in [0, 1). */
function xorshift(seed: number): () => number {
  let s = seed >>> 0 || 0x9e3779b9;
  return () => {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    return s / 0x1_0000_0000;
  };
}

function fnv1a(text: string): number {
  let h = 0x811c9dc5;
  for (const byte of Buffer.from(text, "utf8")) h = Math.imul(h ^ byte, 0x01000193) >>> 0;
  return h;
}

/** Appends little-endian fields; `wide` selects u64 (v2+) or u32 (v1) counts and lengths. */
class ByteWriter {
  private readonly parts: Buffer[] = [];
  length = 0;

  constructor(private readonly wide: boolean) {}

  bytes(b: Buffer): void {
    this.parts.push(b);
    this.length += b.length;
  }
  ascii(s: string): void {
    this.bytes(Buffer.from(s, "latin1"));
  }
  u8(v: number): void {
    this.bytes(Buffer.from([v]));
  }
  u32(v: number): void {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.bytes(b);
  }
  u64(v: bigint): void {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(v);
    this.bytes(b);
  }
  count(n: number): void {
    if (this.wide) this.u64(BigInt(n));
    else this.u32(n);
  }
  string(s: string): void {
    const b = Buffer.from(s, "utf8");
    this.count(b.length);
    this.bytes(b);
  }
  toBuffer(): Buffer {
    return Buffer.concat(this.parts);
  }
}
