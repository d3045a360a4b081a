// The storage layer: crash-safe JSON files, a cross-process lock, and the SQLite/FTS5 model index.
export { writeJsonAtomic, writeJsonAtomicSync, readJson, readJsonSync, restoreBackup, backupPathOf } from "./atomic-json.js";
export type { WriteJsonOptions } from "./atomic-json.js";
export { withLock, acquireLock, releaseLock } from "./lock.js";
export type { LockOptions, LockHolder } from "./lock.js";
export { ModelIndex, DEFAULT_LIMIT, MAX_LIMIT } from "./model-index.js";
export { SCHEMA_VERSION } from "./index-schema.js";
export { buildFtsQuery, queryTerms, quoteTerm } from "./fts-query.js";
export type {
  Facets,
  FileMatch,
  IndexFileRecord,
  ModelFields,
  IndexRecord,
  IndexStats,
  ModelRecord,
  SearchFilters,
  SearchOptions,
  SearchResult,
  SortMode,
} from "./index-types.js";
