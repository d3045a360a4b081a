// removeModel (`mlib rm`): deletes a model: its index row, its folder, and the family and type folders left empty.
// A cancellation is honoured before the deletion starts; once started, it completes (a half-deleted model is worse).
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export interface RemoveParams {
  id: string;
}

export interface RemoveResult {
  id: string;
  /** The folder deleted. */
  path: string;
  freedBytes: number;
}

export async function removeModel(library: ModelLibrary, params: RemoveParams, options: OperationOptions = {}): Promise<RemoveResult> {
  throwIfAborted(options.signal, "remove");
  const record = library.require(params.id);
  options.onProgress?.({ op: "remove", phase: "delete", item: record.id });
  return library.remove(record.id);
}
