// searchModels (`mlib search`): full-text search of names, tags, families, architectures and descriptions, with
// filters, sorting and paging; optionally the facet counts of everything the query and filters match.
import { throwIfAborted } from "../core/errors.js";
import type { Facets, SearchOptions, SearchResult } from "../index/index-types.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export type { Facets, SearchFilters, SearchOptions, SortMode } from "../index/index-types.js";

export interface SearchParams extends SearchOptions {
  /** Words to look for (prefixes match: `lla` finds llama); empty lists everything. */
  query: string;
  /** Also count the matches per type, subtype, family, format, quantization and tag. */
  facets?: boolean;
}

export interface SearchModelsResult extends SearchResult {
  /** Present when `params.facets` was true (limit, offset and sort are not filters: the counts ignore them). */
  facets?: Facets;
}

export async function searchModels(library: ModelLibrary, params: SearchParams, options: OperationOptions = {}): Promise<SearchModelsResult> {
  throwIfAborted(options.signal, "search");
  const { query, facets, ...search } = params;
  const result = library.search(query, search);
  throwIfAborted(options.signal, "search");
  return facets ? { ...result, facets: library.facets(query, search) } : result;
}
