// showModel (`mlib show`): one model: its index record and its metadata.json.
import { throwIfAborted } from "../core/errors.js";
import type { ModelRecord } from "../index/index-types.js";
import type { ModelMetadata } from "../store/metadata.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export interface ShowParams {
  /** The model id (a trailing `/` is ignored); unknown → E_NOT_FOUND. */
  id: string;
}

export interface ModelDetails {
  record: ModelRecord;
  metadata: ModelMetadata;
}

export async function showModel(library: ModelLibrary, params: ShowParams, options: OperationOptions = {}): Promise<ModelDetails> {
  throwIfAborted(options.signal, "show");
  const record = library.require(params.id);
  const metadata = await library.getMetadata(record.id);
  return { record, metadata };
}
