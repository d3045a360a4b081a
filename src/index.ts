// model-library's public API: identification, hashing, the library (store + index) and the operations on it
// (one function per user-level operation: `op(library, params, { signal, onProgress })`).
export { ModelLibraryError, isModelLibraryError, isCancelled, type ErrorCode } from "./core/errors.js";
export { identify, identifyFile } from "./identify/identify.js";
export { detectModelFolder } from "./identify/folder.js";
export type { Identification, Format, SecurityTier, ModelType, Subtype, ShardInfo, FolderInfo } from "./formats/types.js";
export { normalizeName, normalizeFilename, extractBaseName } from "./formats/naming.js";
export { detectShardedSets, validateShardCompleteness, extractShardInfo } from "./formats/sharding.js";
export { hashFile, hashFiles, fastHashFile, copyAndHash, copyBackend, type FileHashes } from "./hashing/index.js";
export type { SearchOptions, SearchFilters, SearchResult, SortMode, ModelRecord, Facets, IndexStats } from "./index/index-types.js";
export * from "./operations/index.js";
export { editModel, type EditModelParams, type EditModelResult } from "./operations/edit-model.js";
export { startServer, type ServeOptions, type RunningServer } from "./server/server.js";
export * from "./hub/index.js";
export * from "./mapper/index.js";
export { watchLibrary, type WatchOptions, type WatchEvent, type WatchMode, type LibraryWatcher } from "./watcher/watch-library.js";
export { mergeLibrary } from "./merge/merge-library.js";
export type { MergeParams, MergeResult, MergePlanItem, MergeItemResult, MergeAction } from "./merge/merge-types.js";
export { runDoctor, type DoctorParams } from "./doctor/run-doctor.js";
export type { DoctorResult, DoctorProblem, DoctorCheck, ProblemKind } from "./doctor/doctor-types.js";
