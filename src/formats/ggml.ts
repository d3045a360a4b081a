// Legacy GGML containers (before GGUF): a u32 magic written little-endian, then, for "ggmf"/"ggjt", a u32
// version, then the producing program's own hyper-parameters with no names. So only what the bytes show
// for certain is reported: llama.cpp's hparams layout, and whisper.cpp's (which is still in use today).
import { fileTypeName } from "./gguf-file-types.js";
import type { Identification } from "./types.js";

export interface GgmlSniff {
  /** "ggml": the unversioned container (whisper.cpp, the ggml examples, early llama.cpp); "ggmf"/"ggjt": llama.cpp's versioned ones. */
  variant: "ggml" | "ggmf" | "ggjt";
  version: number | null;
}

// On disk: 0x67676d6c "ggml" → "lmgg", 0x67676d66 "ggmf" → "fmgg", 0x67676a74 "ggjt" → "tjgg".
const MAGICS: Record<string, GgmlSniff["variant"]> = { lmgg: "ggml", fmgg: "ggmf", tjgg: "ggjt" };

/** Recognizes a legacy GGML magic in the first bytes of a file, or returns null. */
export function sniffGgml(bytes: Buffer): GgmlSniff | null {
  if (bytes.length < 4) return null;
  const variant = MAGICS[bytes.toString("latin1", 0, 4)];
  if (!variant) return null;
  if (variant === "ggml") return { variant, version: null };
  return { variant, version: bytes.length >= 8 ? bytes.readUInt32LE(4) : null };
}

/** What the header of a legacy GGML file tells; `head` is the file's first bytes (64 are enough). */
export function summarizeGgml(sniff: GgmlSniff, head: Buffer): Partial<Identification> {
  const result: Partial<Identification> = { format: "ggml", modelType: "unknown", warnings: [] };
  if (sniff.variant === "ggml") {
    const whisper = whisperHparams(head);
    if (whisper) {
      Object.assign(result, {
        modelType: "audio",
        architecture: "whisper",
        family: "whisper",
        contextLength: whisper.textContext,
        quantization: fileTypeName(whisper.ftype),
      });
    }
    return result;
  }
  // ggmf and ggjt were written by llama.cpp (and rwkv.cpp, with versions >= 100): text models.
  result.modelType = "llm";
  result.warnings = [`legacy ${sniff.variant} file (version ${sniff.version ?? "unknown"}): current llama.cpp reads only GGUF; convert it`];
  const llama = sniff.version !== null && sniff.version <= 3 ? llamaHparams(head) : null;
  if (llama) {
    Object.assign(result, {
      architecture: "llama",
      family: "llama",
      embeddingLength: llama.embd,
      blockCount: llama.layers,
      quantization: fileTypeName(llama.ftype),
    });
  }
  return result;
}

/**
 * whisper.cpp's layout: 11 u32 hparams from offset 4 (n_vocab, audio ctx/state/head/layer, text
 * ctx/state/head/layer, n_mels, ftype), then the mel filter bank header (n_mel, n_fft). The filter bank
 * repeating n_mels, with n_fft = 201 (a 400-sample window), is what no other layout has at those offsets.
 */
function whisperHparams(head: Buffer): { textContext: number; ftype: number } | null {
  if (head.length < 56) return null;
  const u32 = (i: number) => head.readUInt32LE(4 + i * 4);
  const nMels = u32(9);
  if ((nMels !== 80 && nMels !== 128) || u32(11) !== nMels || u32(12) !== 201) return null;
  if (u32(0) < 50_000 || u32(0) > 60_000) return null; // whisper's vocabulary: 51864-51866 tokens
  // whisper.cpp stores ftype + 1000 × the quantization format version.
  return { textContext: u32(5), ftype: u32(10) % 1000 };
}

/**
 * llama.cpp's layout after magic and version: n_vocab, n_embd, n_mult, n_head, n_layer, n_rot, ftype.
 * Taken as llama only when it is self-consistent: n_rot (the rotary dimensions) equals the head size.
 */
function llamaHparams(head: Buffer): { embd: number; layers: number; ftype: number } | null {
  if (head.length < 36) return null;
  const u32 = (i: number) => head.readUInt32LE(8 + i * 4);
  const [vocab, embd, , heads, layers, rot, ftype] = [u32(0), u32(1), u32(2), u32(3), u32(4), u32(5), u32(6)];
  if (vocab < 1 || vocab > 10_000_000 || embd < 1 || embd > 1_000_000 || layers < 1 || layers > 10_000) return null;
  if (heads < 1 || embd % heads !== 0 || rot !== embd / heads || ftype > 40) return null;
  return { embd, layers, ftype };
}
