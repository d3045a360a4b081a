// restoreMetadata (`mlib restore`): puts back a model's metadata.json from metadata.json.bak (after a bad edit or
// a corrupt write) and re-indexes it. One atomic write: a cancellation is honoured before it only.
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export interface RestoreParams {
  /** The model id (its folder relative to the library); a trailing `/` is ignored. */
  id: string;
}

export interface RestoreResult {
  id: string;
  restored: true;
}

export async function restoreMetadata(library: ModelLibrary, params: RestoreParams, options: OperationOptions = {}): Promise<RestoreResult> {
  throwIfAborted(options.signal, "restore");
  const id = params.id.replace(/\/+$/, "");
  await library.restoreMetadataBackup(id);
  return { id, restored: true };
}
