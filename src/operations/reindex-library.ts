// reindexLibrary (`mlib reindex`): rebuilds the index from every metadata.json. The rebuild commits in one
// transaction, so a cancellation can never leave a half index: the old one stays until the new one commits.
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { ReconcileReport } from "../store/reconcile.js";
import type { OperationOptions } from "./types.js";

export interface ReindexResult extends ReconcileReport {
  /** Models in the index after the rebuild. */
  models: number;
}

export async function reindexLibrary(library: ModelLibrary, _params: Record<string, never> = {}, options: OperationOptions = {}): Promise<ReindexResult> {
  const { signal, onProgress } = options;
  throwIfAborted(signal, "reindex");
  onProgress?.({ op: "reindex", phase: "read" });
  // Seen between the reader's batches: the reader worker is stopped and the transaction rolled back.
  const report = await library.reindex({ signal });
  const models = library.count();
  onProgress?.({ op: "reindex", phase: "done", done: models, total: models, unit: "items" });
  return { ...report, models };
}
