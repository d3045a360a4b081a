// Folders inside the library root with model files but no metadata.json ("orphans": copied in by hand, left by
// another tool or an interrupted download), and shard sets among them that miss files. Original §9.5-§9.6.
import { readdir } from "node:fs/promises";
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { groupShards, missingShardNames } from "../formats/sharding.js";
import { isModelFileName } from "../formats/sniff.js";
import type { ModelLibrary } from "../store/model-library.js";
import { METADATA_FILE, STAGING_DIR } from "../store/layout.js";

export interface OrphanFolder {
  dir: string;
  id: string;
  modelType: string | null;
  family: string;
  officialName: string;
  weightFiles: string[];
  missingFiles: string[];
}

/** Folders at depth 1-3 under the root with model files but no metadata.json (skipping hidden, staging and in-progress downloads). */
export async function findOrphans(lib: ModelLibrary, signal?: AbortSignal): Promise<OrphanFolder[]> {
  const out: OrphanFolder[] = [];
  async function walk(dir: string, parts: string[]): Promise<void> {
    if (parts.length > 3) return;
    throwIfAborted(signal, "orphan search");
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    const names = entries.map((e) => e.name);
    if (names.includes(METADATA_FILE)) return; // a model: never look inside
    if (parts.length >= 1 && !names.some((n) => n.endsWith(".part"))) {
      const weights = entries.filter((e) => e.isFile() && isModelFileName(e.name)).map((e) => e.name).sort();
      if (weights.length > 0) {
        const inferred = inferSpec(parts);
        out.push({ dir, id: parts.join("/"), ...inferred, weightFiles: weights, missingFiles: incompleteSets(weights) });
        return;
      }
    }
    for (const e of entries) {
      if (e.isDirectory() && !e.name.startsWith(".") && e.name !== STAGING_DIR) await walk(join(dir, e.name), [...parts, e.name]);
    }
  }
  await walk(lib.root, []);
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
