// listModels (`mlib list`): the models in the library, filtered, sorted and paged: a search with no words. An
// unfiltered list also names the broken models (metadata.json there but unreadable): the index cannot hold them,
// and a list that silently dropped them would hide weights nobody can verify.
import type { ModelLibrary } from "../store/model-library.js";
import { searchModels, type SearchModelsResult, type SearchParams } from "./search-models.js";
import type { OperationOptions } from "./types.js";

export type ListParams = Omit<SearchParams, "query">;

export interface ListModelsResult extends SearchModelsResult {
  /** Models whose metadata.json cannot be read, with why (unfiltered lists only). */
  broken?: { id: string; error: string }[];
}

export async function listModels(library: ModelLibrary, params: ListParams = {}, options: OperationOptions = {}): Promise<ListModelsResult> {
  const result: ListModelsResult = await searchModels(library, { ...params, query: "" }, options);
  const filtered = [params.types, params.subtypes, params.families, params.formats, params.quantizations, params.tags].some((f) => f && f.length > 0);
  if (!filtered) {
    const broken = library.brokenModels();
    if (broken.length > 0) result.broken = broken;
  }
  return result;
}
