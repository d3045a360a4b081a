// Test fixtures in GGUF: a thin re-export of src/formats/gguf-writer.ts (which `mlib demo` ships too).
// buildGguf(spec) → Buffer; writeGguf(path, spec); buildTinyLlamaGguf / writeTinyLlamaGguf(path, { name, ... })
// for a small valid llama-style v3 model with real F32/F16 weights. See the top of that file for the spec.
export {
  buildGguf,
  writeGguf,
  buildTinyLlamaGguf,
  writeTinyLlamaGguf,
  type GgufSpec,
  type GgufKvSpec,
  type GgufTensorSpec,
  type GgufArraySpec,
  type GgufElementSpec,
  type GgufScalarTypeName,
  type GgufTypeName,
  type TinyLlamaOptions,
} from "../../src/demo/gguf-writer.js";
