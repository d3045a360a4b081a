// Records going into and coming out of the SQLite index (camelCase; null where the metadata has no value).

export interface IndexFileRecord {
  /** Path relative to the model folder, `/`-separated. */
  name: string;
  size: number;
  sha256: string | null;
  blake3: string | null;
  fastHash: string | null;
}

/** What a model's row holds in both directions: written from metadata.json, read back in search results. */
export interface ModelFields {
  /** The model folder relative to the library root, `/`-separated. */
  id: string;
  path: string;
  officialName: string;
  cleanedName: string;
  modelType: string;
  subtype: string | null;
  family: string | null;
  format: string | null;
  quantization: string | null;
  architecture: string | null;
  tags: string[];
  sizeBytes: number;
  parameterCount: number | null;
  contextLength: number | null;
  addedAt: string | null;
  updatedAt: string;
}

export interface IndexRecord extends ModelFields {
  description: string | null;
  /** Extra searchable text (metadata notes, HF repo id); both optional. */
  notes?: string | null;
  repoId?: string | null;
  sha256: string | null;
  blake3: string | null;
  /** stat of metadata.json when it was read: lets the library reconcile without reading every file. */
  metaMtimeMs: number;
  metaSize: number;
  files: IndexFileRecord[];
}

export interface ModelRecord extends ModelFields {
  hashes: { sha256: string | null; blake3: string | null };
}

/**
 * What linking a model into an app needs of it (ModelIndex.modelFiles): the fields rules match, and its files.
 * Records with the same tags share one `tags` array: read it, never change it.
 */
export interface ModelFilesRecord extends Pick<ModelFields, "id" | "officialName" | "modelType" | "subtype" | "family" | "format" | "tags"> {
  /** The files metadata.json lists, by name (empty when it lists none). */
  files: { name: string; size: number }[];
  /** The stat of metadata.json when indexed (as IndexRecord): tells whether the row is still the file's. */
  metaMtimeMs: number;
  metaSize: number;
}

export type SortMode = "relevance" | "name" | "updated" | "added" | "size";

export interface SearchFilters {
  types?: string[];
  subtypes?: string[];
  families?: string[];
  formats?: string[];
  quantizations?: string[];
  tags?: string[];
  /** "any" (default): a model with at least one of the tags; "all": with every one. */
  tagMode?: "any" | "all";
}

export interface SearchOptions extends SearchFilters {
  /** Default 50, at most 10000. */
  limit?: number;
  offset?: number;
  /** Default "relevance" (for an empty query that means most recently updated first). */
  sort?: SortMode;
}

export interface SearchResult {
  models: ModelRecord[];
  /** Matches under the query and every filter, ignoring limit/offset. */
  totalCount: number;
  queryTimeMs: number;
}

export interface IndexStats {
  count: number;
  totalBytes: number;
  byType: Record<string, number>;
  byFamily: Record<string, number>;
  byFormat: Record<string, number>;
  byQuantization: Record<string, number>;
  /** Sum of size_bytes per group, keyed as the counts above (same keys, same order). */
  bytesByType: Record<string, number>;
  bytesByFamily: Record<string, number>;
  bytesByFormat: Record<string, number>;
  bytesByQuantization: Record<string, number>;
}

export interface Facets {
  types: Record<string, number>;
  subtypes: Record<string, number>;
  families: Record<string, number>;
  formats: Record<string, number>;
  quantizations: Record<string, number>;
  tags: Record<string, number>;
}

export interface FileMatch {
  modelId: string;
  name: string;
  sha256: string | null;
}
