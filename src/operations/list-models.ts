// listModels (`mlib list`): the models in the library, filtered, sorted and paged: a search with no words.
import type { ModelLibrary } from "../store/model-library.js";
import { searchModels, type SearchModelsResult, type SearchParams } from "./search-models.js";
import type { OperationOptions } from "./types.js";

export type ListParams = Omit<SearchParams, "query">;

export async function listModels(library: ModelLibrary, params: ListParams = {}, options: OperationOptions = {}): Promise<SearchModelsResult> {
  return searchModels(library, { ...params, query: "" }, options);
}
