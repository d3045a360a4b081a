// adoptOrphans (`mlib adopt`): every folder inside the library with model files but no metadata.json gets one
// (its files hashed) and an index row; shard sets with missing files are reported, not adopted.
// Cancellation stops between folders, or inside the hashing of one (which then writes nothing): the folders
// adopted before it keep their metadata.json, the others stay as they were.
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import { findOrphans, type OrphanFolder } from "./find-orphans.js";
import { importInPlace } from "./import-in-place.js";
import { cancelledAfter, rethrowIfCancelled } from "./cancel.js";
import type { OperationOptions } from "./types.js";

export interface AdoptParams {
  /** Hash every file (default true). Without hashes, verify and dedup cannot work for the adopted models. */
  computeHashes?: boolean;
  /** Also index folders holding pickle weights (default: refuse them, leaving their files as they are). */
  allowPickle?: boolean;
}

export interface AdoptResult {
  orphansFound: number;
  /** Ids of the models adopted. */
  adopted: string[];
  /** Folders holding an incomplete shard set: what is there and what is missing. */
  incomplete: OrphanFolder[];
  errors: { dir: string; error: string }[];
  /** Adopted, but with something to say (e.g. the index write failed: it catches up on the next open). */
  warnings: string[];
}

export async function adoptOrphans(library: ModelLibrary, params: AdoptParams = {}, options: OperationOptions = {}): Promise<AdoptResult> {
  const { signal, onProgress } = options;
  throwIfAborted(signal, "adopt");
  onProgress?.({ op: "adopt", phase: "find" });
  // Model folders the index does not know: an adoption killed between writing metadata.json and indexing it (the
  // metadata.json appeared inside an existing folder, which no quick reconcile sees), finished here. Broken ones
  // (a metadata.json that does not parse) are listed by `list` and left to `restore`.
  const known = new Set(library.allIds());
  const broken = new Set(library.brokenModels().map((b) => b.id));
  const unindexed: string[] = [];
  const orphans = await findOrphans(library, signal, (id) => {
    if (!known.has(id) && !broken.has(id)) unindexed.push(id);
  });
  const result: AdoptResult = { orphansFound: orphans.length, adopted: [], incomplete: [], errors: [], warnings: [] };
  for (const id of unindexed) {
    try {
      if (await library.indexModel(id)) result.adopted.push(id);
    } catch {
      // unreadable now: `list` and `doctor` name it
    }
  }
  try {
    for (const [i, o] of orphans.entries()) {
      onProgress?.({ op: "adopt", phase: "adopt", item: o.dir, done: i, total: orphans.length, unit: "items" });
      throwIfAborted(signal, "adopt");
      if (o.missingFiles.length > 0) {
        result.incomplete.push(o);
        continue;
      }
      try {
        const r = await importInPlace(
          library,
          {
            modelDir: o.dir,
            officialName: o.officialName,
            family: o.family === "unknown" ? null : o.family,
            modelType: o.modelType,
            computeHashes: params.computeHashes ?? true,
            allowPickle: params.allowPickle,
          },
          // Its hashing progress, as this operation's.
          { signal, onProgress: onProgress && ((e) => onProgress({ ...e, op: "adopt", item: `${o.id}/${e.item}` })) },
        );
        result.adopted.push(r.modelId);
        result.warnings.push(...(r.warnings ?? []));
      } catch (e) {
        rethrowIfCancelled(e, signal, "adopt");
        result.errors.push({ dir: o.dir, error: (e as Error).message });
      }
    }
  } catch (e) {
    // What was adopted before a cancel keeps its metadata.json: the cancellation names it.
    throw cancelledAfter(e, result.adopted.map((id) => `adopted ${id}`));
  }
  onProgress?.({ op: "adopt", phase: "done", done: orphans.length, total: orphans.length, unit: "items" });
  return result;
}
