// Public API of the hashing layer.
export { type FileHashes, autoV2Of } from "./types.js";
export { hashFile, type HashFileOptions } from "./hash-file.js";
export { copyAndHash, copyWhileHashing, type CopyAndHashOptions } from "./copy-and-hash.js";
export { copyBackend, type CopyBackend } from "./copy-range.js";
export { hashFiles, type HashFilesOptions, type HashFilesProgress } from "./pool.js";
export { fastHashFile, FastHasher, fastHashRanges, FAST_HASH_SPAN, type FastHashFileOptions } from "./fast-hash.js";
export { createBlake3, blake3Backend, type Blake3, type Blake3Backend } from "./blake3.js";
export { closeHashWorkers, warmHashWorkers } from "./worker-host.js";
