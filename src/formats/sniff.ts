// Which format a file holds, decided from its first bytes. The original fell back to the extension,
// so an unknown `.bin` became "safe ggml"; here the bytes decide and what matches nothing stays unknown.
import { LFS_POINTER_MAX_BYTES, LFS_VERSION_LINE } from "./lfs-pointer.js";
import type { Format } from "./types.js";

/** Extensions of files that may hold model weights (lowercase, no dot). */
export const MODEL_EXTENSIONS: readonly string[] = ["gguf", "safetensors", "sft", "pt", "pth", "ckpt", "bin", "onnx", "ggml"];

export function isModelFileName(name: string): boolean {
  const dot = name.lastIndexOf(".");
  if (dot < 0) return false;
  return MODEL_EXTENSIONS.includes(name.slice(dot + 1).toLowerCase());
}

// Legacy GGML containers as they appear on disk: the u32 magics 0x67676d6c ("ggml"), 0x67676d66 ("ggmf")
// and 0x67676a74 ("ggjt") written little-endian.
const GGML_MAGICS = ["lmgg", "fmgg", "tjgg"];

/**
 * Sniffs the format from `head` (the first bytes of the file, 64 or more when the file has them).
 * `fileSize` bounds the lengths the header declares; `fileName` is only a hint (ONNX files too short
 * to show a second field).
 */
export function sniffFormat(head: Buffer, fileSize: number, fileName: string): Format {
  if (head.length >= 4) {
    const magic = head.toString("latin1", 0, 4);
    if (magic === "GGUF") return "gguf";
    if (GGML_MAGICS.includes(magic)) return "ggml";
    if (magic === "PK\x03\x04") return "pickle";
  }
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) return "pickle";
  if (looksLikeSafetensors(head, fileSize)) return "safetensors";
  if (looksLikeLfsPointer(head, fileSize)) return "lfs-pointer";
  if (looksLikeOnnx(head, fileSize, fileName)) return "onnx";
  return "unknown";
}

function looksLikeSafetensors(head: Buffer, fileSize: number): boolean {
  if (head.length < 9) return false;
  const n = head.readBigUInt64LE(0);
  return n >= 2n && n <= BigInt(Math.max(0, fileSize - 8)) && head[8] === 0x7b; // "{"
}

function looksLikeLfsPointer(head: Buffer, fileSize: number): boolean {
  if (fileSize >= LFS_POINTER_MAX_BYTES) return false;
  const start = head.toString("latin1", 0, LFS_VERSION_LINE.length + 1);
  return start === `${LFS_VERSION_LINE}\n` || start === `${LFS_VERSION_LINE}\r`;
}

/** Tags (field << 3 | wire type) that ModelProto may hold right after ir_version. */
const MODEL_PROTO_TAGS = new Map<number, number>([
  [2, 2], // producer_name
  [3, 2], // producer_version
  [4, 2], // domain
  [5, 0], // model_version
  [6, 2], // doc_string
  [7, 2], // graph
  [8, 2], // opset_import
  [14, 2], // metadata_props
  [20, 2], // training_info
  [25, 2], // functions
]);

/**
 * ONNX has no magic: a ModelProto starts with field 1 (ir_version, tag 0x08) holding a small number,
 * then another ModelProto field whose declared length fits in the file. Up to three fields are checked
 * so random bytes starting with 0x08 are not taken for a model.
 */
function looksLikeOnnx(head: Buffer, fileSize: number, fileName: string): boolean {
  if (head.length < 2 || head[0] !== 0x08) return false;
  const ir = head[1];
  if (ir < 1 || ir > 63) return false; // one-byte varint; ONNX is at IR version 11 today
  let pos = 2;
  if (pos >= head.length) return fileSize === 2 && fileName.toLowerCase().endsWith(".onnx");
  for (let fields = 0; fields < 3 && pos < head.length; fields++) {
    const tag = readVarint(head, pos);
    if (!tag) return fields > 0;
    const field = Math.floor(tag.value / 8);
    const wire = tag.value % 8;
    if (MODEL_PROTO_TAGS.get(field) !== wire) return false;
    const body = readVarint(head, tag.end);
    // A length cut off by the end of `head` is fine; one longer than 7 bytes is not.
    if (!body) return fields > 0 && head.length - tag.end < 7;
    if (wire === 2) {
      if (body.end + body.value > fileSize) return false;
      pos = body.end + body.value;
    } else {
      pos = body.end;
    }
  }
  return true;
}

/** A varint inside `buf`, or null when it runs past the buffer or over 7 bytes (no plausible length needs more). */
function readVarint(buf: Buffer, pos: number): { value: number; end: number } | null {
  let value = 0;
  for (let i = 0; i < 7; i++) {
    if (pos + i >= buf.length) return null;
    const b = buf[pos + i];
    value += (b & 0x7f) * 2 ** (7 * i);
    if (b < 0x80) return { value, end: pos + i + 1 };
  }
  return null;
}
