// The index layer: the SQLite/FTS5 model index. It knows index records only (no files, no metadata.json).
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
  ModelFilesRecord,
  SearchFilters,
  SearchOptions,
  SearchResult,
  SortMode,
} from "./index-types.js";
