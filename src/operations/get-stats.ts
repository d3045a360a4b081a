// getStats (`mlib stats`): how many models and bytes, in all and by type, family, format and quantization.
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

/** Models and bytes in one group (a type, a family...). */
export interface StatsGroup {
  count: number;
  bytes: number;
}

export interface LibraryStats {
  root: string;
  models: number;
  totalBytes: number;
  /** Keyed by value, most models first. */
  byType: Record<string, StatsGroup>;
  byFamily: Record<string, StatsGroup>;
  byFormat: Record<string, StatsGroup>;
  byQuantization: Record<string, StatsGroup>;
}

export async function getStats(library: ModelLibrary, _params: Record<string, never> = {}, options: OperationOptions = {}): Promise<LibraryStats> {
  throwIfAborted(options.signal, "stats");
  const s = library.stats();
  const merge = (counts: Record<string, number>, sizes: Record<string, number>): Record<string, StatsGroup> =>
    Object.fromEntries(Object.entries(counts).map(([k, count]) => [k, { count, bytes: sizes[k] ?? 0 }]));
  return {
    root: library.root,
    models: s.count,
    totalBytes: s.totalBytes,
    byType: merge(s.byType, s.bytesByType),
    byFamily: merge(s.byFamily, s.bytesByFamily),
    byFormat: merge(s.byFormat, s.bytesByFormat),
    byQuantization: merge(s.byQuantization, s.bytesByQuantization),
  };
}
