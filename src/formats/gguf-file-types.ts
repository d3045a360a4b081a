// Number → name tables of llama.cpp / ggml, as they appear in GGUF files:
// `general.file_type` holds a `llama_ftype` (the file's overall quantization), and every tensor info holds a
// `ggml_type`. Numbers that llama.cpp has since removed are kept, because files written with them still exist.
// Learned from llama.cpp's include/llama.h and ggml/include/ggml.h (2025-2026 master).

/** `llama_ftype` → the quantization name users know (the suffix in `model-Q4_K_M.gguf`). */
const LLAMA_FILE_TYPES: ReadonlyMap<number, string> = new Map([
  [0, "F32"], // ALL_F32
  [1, "F16"], // MOSTLY_F16
  [2, "Q4_0"],
  [3, "Q4_1"],
  [4, "Q4_1_SOME_F16"], // removed; token embeddings and output in F16
  [5, "Q4_2"], // removed
  [6, "Q4_3"], // removed
  [7, "Q8_0"],
  [8, "Q5_0"],
  [9, "Q5_1"],
  [10, "Q2_K"],
  [11, "Q3_K_S"],
  [12, "Q3_K_M"],
  [13, "Q3_K_L"],
  [14, "Q4_K_S"],
  [15, "Q4_K_M"],
  [16, "Q5_K_S"],
  [17, "Q5_K_M"],
  [18, "Q6_K"],
  [19, "IQ2_XXS"],
  [20, "IQ2_XS"],
  [21, "Q2_K_S"],
  [22, "IQ3_XS"],
  [23, "IQ3_XXS"],
  [24, "IQ1_S"],
  [25, "IQ4_NL"],
  [26, "IQ3_S"],
  [27, "IQ3_M"],
  [28, "IQ2_S"],
  [29, "IQ2_M"],
  [30, "IQ4_XS"],
  [31, "IQ1_M"],
  [32, "BF16"],
  [33, "Q4_0_4_4"], // removed from GGUF files (runtime repacking now), still seen in old files
  [34, "Q4_0_4_8"], // removed, as above
  [35, "Q4_0_8_8"], // removed, as above
  [36, "TQ1_0"],
  [37, "TQ2_0"],
  [38, "MXFP4_MOE"],
  [39, "NVFP4"],
  [40, "Q1_0"],
]);

/** llama.cpp writes this value when the file type was guessed rather than declared. */
const LLAMA_FTYPE_GUESSED = 1024;

/** `ggml_type` → name, as ggml's `ggml_type_name` spells it (upper case here, like the file types). */
const GGML_TYPES: ReadonlyMap<number, string> = new Map([
  [0, "F32"],
  [1, "F16"],
  [2, "Q4_0"],
  [3, "Q4_1"],
  [4, "Q4_2"], // removed
  [5, "Q4_3"], // removed
  [6, "Q5_0"],
  [7, "Q5_1"],
  [8, "Q8_0"],
  [9, "Q8_1"],
  [10, "Q2_K"],
  [11, "Q3_K"],
  [12, "Q4_K"],
  [13, "Q5_K"],
  [14, "Q6_K"],
  [15, "Q8_K"],
  [16, "IQ2_XXS"],
  [17, "IQ2_XS"],
  [18, "IQ3_XXS"],
  [19, "IQ1_S"],
  [20, "IQ4_NL"],
  [21, "IQ3_S"],
  [22, "IQ2_S"],
  [23, "IQ4_XS"],
  [24, "I8"],
  [25, "I16"],
  [26, "I32"],
  [27, "I64"],
  [28, "F64"],
  [29, "IQ1_M"],
  [30, "BF16"],
  [31, "Q4_0_4_4"], // removed from GGUF files
  [32, "Q4_0_4_8"], // removed
  [33, "Q4_0_8_8"], // removed
  [34, "TQ1_0"],
  [35, "TQ2_0"],
  [36, "IQ4_NL_4_4"], // removed
  [37, "IQ4_NL_4_8"], // removed
  [38, "IQ4_NL_8_8"], // removed
  [39, "MXFP4"],
  [40, "NVFP4"],
  [41, "Q1_0"],
]);

/**
 * Storage of each ggml type: `blockSize` elements take `bytesPerBlock` bytes. Only types whose block layout
 * is certain are listed; for the others the data size of a tensor is unknown (and is not checked).
 */
const GGML_TYPE_SIZES: ReadonlyMap<number, { blockSize: number; bytesPerBlock: number }> = new Map([
  [0, { blockSize: 1, bytesPerBlock: 4 }], // F32
  [1, { blockSize: 1, bytesPerBlock: 2 }], // F16
  [2, { blockSize: 32, bytesPerBlock: 18 }], // Q4_0: f16 scale + 16 bytes
  [3, { blockSize: 32, bytesPerBlock: 20 }], // Q4_1: f16 scale + f16 min + 16 bytes
  [6, { blockSize: 32, bytesPerBlock: 22 }], // Q5_0
  [7, { blockSize: 32, bytesPerBlock: 24 }], // Q5_1
  [8, { blockSize: 32, bytesPerBlock: 34 }], // Q8_0
  [9, { blockSize: 32, bytesPerBlock: 36 }], // Q8_1
  [10, { blockSize: 256, bytesPerBlock: 84 }], // Q2_K
  [11, { blockSize: 256, bytesPerBlock: 110 }], // Q3_K
  [12, { blockSize: 256, bytesPerBlock: 144 }], // Q4_K
  [13, { blockSize: 256, bytesPerBlock: 176 }], // Q5_K
  [14, { blockSize: 256, bytesPerBlock: 210 }], // Q6_K
  [15, { blockSize: 256, bytesPerBlock: 292 }], // Q8_K
  [16, { blockSize: 256, bytesPerBlock: 66 }], // IQ2_XXS
  [17, { blockSize: 256, bytesPerBlock: 74 }], // IQ2_XS
  [18, { blockSize: 256, bytesPerBlock: 98 }], // IQ3_XXS
  [19, { blockSize: 256, bytesPerBlock: 50 }], // IQ1_S
  [20, { blockSize: 32, bytesPerBlock: 18 }], // IQ4_NL
  [21, { blockSize: 256, bytesPerBlock: 110 }], // IQ3_S
  [22, { blockSize: 256, bytesPerBlock: 82 }], // IQ2_S
  [23, { blockSize: 256, bytesPerBlock: 136 }], // IQ4_XS
  [24, { blockSize: 1, bytesPerBlock: 1 }], // I8
  [25, { blockSize: 1, bytesPerBlock: 2 }], // I16
  [26, { blockSize: 1, bytesPerBlock: 4 }], // I32
  [27, { blockSize: 1, bytesPerBlock: 8 }], // I64
  [28, { blockSize: 1, bytesPerBlock: 8 }], // F64
  [29, { blockSize: 256, bytesPerBlock: 56 }], // IQ1_M
  [30, { blockSize: 1, bytesPerBlock: 2 }], // BF16
  [31, { blockSize: 32, bytesPerBlock: 18 }], // Q4_0_4_4 (Q4_0 blocks, interleaved)
  [32, { blockSize: 32, bytesPerBlock: 18 }], // Q4_0_4_8
  [33, { blockSize: 32, bytesPerBlock: 18 }], // Q4_0_8_8
  [34, { blockSize: 256, bytesPerBlock: 54 }], // TQ1_0
  [35, { blockSize: 256, bytesPerBlock: 66 }], // TQ2_0
  [39, { blockSize: 32, bytesPerBlock: 17 }], // MXFP4: one shared exponent byte + 16 bytes
]);

/** The quantization name of a `general.file_type` value, e.g. 15 → "Q4_K_M"; unknown numbers → "unknown(N)". */
export function fileTypeName(fileType: number): string {
  // llama.cpp ORs the "guessed" flag onto the real value when it had to infer it.
  const value = fileType >= LLAMA_FTYPE_GUESSED ? fileType - LLAMA_FTYPE_GUESSED : fileType;
  return LLAMA_FILE_TYPES.get(value) ?? `unknown(${fileType})`;
}

/** The `general.file_type` value of a quantization name ("Q4_K_M" → 15), or null. */
export function fileTypeNumber(name: string): number | null {
  const upper = name.toUpperCase();
  for (const [n, v] of LLAMA_FILE_TYPES) if (v === upper) return n;
  return null;
}

/** The name of a tensor's `ggml_type`, e.g. 12 → "Q4_K"; unknown numbers → "unknown(N)". */
export function ggmlTypeName(type: number): string {
  return GGML_TYPES.get(type) ?? `unknown(${type})`;
}

/** The `ggml_type` number of a name ("F16" → 1), or null. */
export function ggmlTypeNumber(name: string): number | null {
  const upper = name.toUpperCase();
  for (const [n, v] of GGML_TYPES) if (v === upper) return n;
  return null;
}

/**
 * Bytes a tensor of `elements` elements of ggml `type` takes, or null when the type's layout is not known
 * or the element count is not a whole number of blocks (ggml requires rows to be whole blocks).
 */
export function ggmlTensorBytes(type: number, elements: number): number | null {
  const size = GGML_TYPE_SIZES.get(type);
  if (!size || elements % size.blockSize !== 0) return null;
  return (elements / size.blockSize) * size.bytesPerBlock;
}
