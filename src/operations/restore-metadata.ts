// restoreMetadata (`mlib restore`): puts back a model's metadata.json from metadata.json.bak (after a bad edit or
// a corrupt write) and re-indexes it. One atomic write: a cancellation is honoured before it only.
// A metadata.json that still parses is replaced only with `force` (E_EXISTS otherwise, so an adapter can ask);
// the replaced file is kept as metadata.json.replaced-<date> either way.
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export interface RestoreParams {
  /** The model id (its folder relative to the library); a trailing `/` is ignored. */
  id: string;
  /** Replace a metadata.json that is still valid JSON (default false: E_EXISTS). */
  force?: boolean;
}

export interface RestoreResult {
  id: string;
  restored: true;
  /** Where the replaced metadata.json was kept (null when there was none). */
  keptAs: string | null;
}

export async function restoreMetadata(library: ModelLibrary, params: RestoreParams, options: OperationOptions = {}): Promise<RestoreResult> {
  throwIfAborted(options.signal, "restore");
  const id = params.id.replace(/\/+$/, "");
  const { keptAs } = await library.restoreMetadataBackup(id, { force: Boolean(params.force) });
  return { id, restored: true, keptAs };
}
