// getFacets: how many of the models a query and filters match fall in each type, subtype, family, format,
// quantization and tag (the counts beside a search box).
import { throwIfAborted } from "../core/errors.js";
import type { Facets, SearchFilters } from "../index/index-types.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export interface FacetsParams extends SearchFilters {
  /** Words to look for; empty or absent counts every model the filters match. */
  query?: string;
}

export async function getFacets(library: ModelLibrary, params: FacetsParams = {}, options: OperationOptions = {}): Promise<Facets> {
  throwIfAborted(options.signal, "facets");
  const { query, ...filters } = params;
  return library.facets(query ?? "", filters);
}
