// Folders inside the library root with model files but no metadata.json ("orphans": copied in by hand, left by
// another tool or an interrupted download), and shard sets among them that miss files. The original found both at
// startup (adopt_orphans, recover_incomplete_shards); a folder with a `.part` file is a download still running.
import { existsSync } from "node:fs";
import { sep } from "node:path";
import { walkFoldersSync } from "../core/walk.js";
import { groupShards, missingShardNames } from "../formats/sharding.js";
import { isModelFileName } from "../formats/sniff.js";
import type { ModelLibrary } from "../store/model-library.js";
import { METADATA_FILE } from "../store/layout.js";

/**
 * How long an orphan's files must have stopped changing before they count as a finished copy, to be adopted: the
 * watcher's default settle time, and the doctor's rule for `--fix` (a copy still going on is never adopted).
 */
export const COPY_SETTLE_MS = 2000;

export interface OrphanFolder {
  dir: string;
  id: string;
  modelType: string | null;
  family: string;
  officialName: string;
  weightFiles: string[];
  missingFiles: string[];
}

/**
 * Folders at depth 1-3 under the root with model files but no metadata.json (skipping hidden, staging and
 * in-progress downloads). A synchronous walk (100k awaited listings left the thread idle most of the time),
 * and a model folder costs one stat of its metadata.json instead of a listing: about a plain stat walk of the
 * library (bench/scale.ts). The signal is checked at every folder listed. `onModelFolder` is told the id of each
 * model folder (one with a metadata.json) the walk passes by.
 */
export async function findOrphans(lib: ModelLibrary, signal?: AbortSignal, onModelFolder?: (id: string) => void): Promise<OrphanFolder[]> {
  const out: OrphanFolder[] = [];
  walkFoldersSync(
    lib.root,
    ({ abs, rel, entries }) => {
      const names = entries.map((e) => e.name);
      if (names.includes(METADATA_FILE)) return false; // a model: never look inside
      if (rel && !names.some((n) => n.endsWith(".part"))) {
        const weights = entries.filter((e) => e.isFile() && isModelFileName(e.name)).map((e) => e.name);
        if (weights.length > 0) {
          const parts = rel.split("/");
          out.push({ dir: abs, id: rel, ...inferSpec(parts), weightFiles: weights, missingFiles: incompleteSets(weights) });
          return false;
        }
      }
      return true;
    },
    // Hidden folders (the staging among them) are not entered, hidden files still count (a `.x.part` download);
    // an unreadable folder is nobody's orphan; a model folder is known by its metadata.json, never listed.
    {
      maxDepth: 3,
      skip: (e) => e.isDirectory() && e.name.startsWith("."),
      unreadable: "skip",
      enter: (abs, _e, rel) => {
        if (!existsSync(`${abs}${sep}${METADATA_FILE}`)) return true;
        onModelFolder?.(rel); // (a model folder: told to the caller, who may want to know it is indexed)
        return false;
      },
      signal,
    },
  );
  return out;
}

function inferSpec(parts: string[]): { modelType: string | null; family: string; officialName: string } {
  const name = parts[parts.length - 1].replace(/_/g, " ");
  if (parts.length === 3) return { modelType: parts[0], family: parts[1], officialName: name };
  if (parts.length === 2) return { modelType: null, family: parts[0], officialName: name };
  return { modelType: null, family: "unknown", officialName: name };
}

/** Orphan folders holding an incomplete shard set: what is there and what is missing (for a later download to finish). */
export async function incompleteShardReport(lib: ModelLibrary): Promise<OrphanFolder[]> {
  return (await findOrphans(lib)).filter((o) => o.missingFiles.length > 0);
}

/** The missing shard names of every shard set among `weightNames` (paths relative to one folder). */
export function incompleteSets(weightNames: string[]): string[] {
  return groupShards(weightNames).flatMap((g) => (g.setKey === null ? [] : missingShardNames(g.names)));
}
