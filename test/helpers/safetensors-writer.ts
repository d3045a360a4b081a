// Tests build safetensors fixtures with the same writer `mlib demo` ships.
export { buildSafetensors, writeSafetensorsHeaderOnly, type TensorSpec } from "../../src/demo/safetensors-writer.js";
