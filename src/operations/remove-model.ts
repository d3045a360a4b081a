// removeModel (`mlib rm`): deletes a model: its index row, its folder, and the family and type folders left empty.
// A cancellation is honoured before the deletion starts; once started, it completes (a half-deleted model is worse).
import { existsSync } from "node:fs";
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { METADATA_FILE } from "../store/layout.js";
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
  // A model whose metadata.json no longer parses is not in the index, but it can still be removed.
  const broken = !library.get(params.id) && existsSync(join(library.modelDir(params.id), METADATA_FILE));
  const id = broken ? params.id : library.require(params.id).id;
  options.onProgress?.({ op: "remove", phase: "delete", item: id });
  return library.remove(id);
}
