// Tests build their PyTorch-style archives with the same writer `mlib demo` uses.
export { buildStoredZip, crc32, type ZipEntryInput } from "../../src/demo/zip-writer.js";
