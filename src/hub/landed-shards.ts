// `mlib download --complete ID` moves the fetched shards into the model's folder, then records them in its
// metadata.json. Killed in between, the folder holds shards metadata.json does not list: the next run would find no
// shard missing (it looks at the folder) and never record them (no hash, no verify, a wrong size). So a completion
// first records such shards, hashed from the folder as that run would have recorded them, and when nothing is left
// to fetch it ends there, forgetting the killed run's download entry and its staging folder.
import { readdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { missingShardNames } from "../formats/sharding.js";
import { hashFile } from "../hashing/index.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { ModelMetadata } from "../store/metadata.js";
import { runnerAlive, stagingDirOf, updateDownloads } from "./download-state.js";

export interface LandedShard {
  path: string;
  size: number;
  sha256: string;
  blake3: string;
}

/** Records the shards of the set that lie in the folder unlisted by metadata.json; returns them (none: []). */
export async function recordLandedShards(lib: ModelLibrary, id: string, meta: ModelMetadata): Promise<LandedShard[]> {
  const listed = (meta.files ?? []).map((f) => f.name);
  const lacking = new Set(missingShardNames(listed));
  if (lacking.size === 0) return [];
  const dir = lib.modelDir(id);
  const here = (await readdir(dir).catch(() => [] as string[])).filter((n) => lacking.has(n)).sort();
  const landed: LandedShard[] = [];
  for (const name of here) {
    const h = await hashFile(join(dir, name));
    landed.push({ path: name, size: h.size, sha256: h.sha256, blake3: h.blake3 });
  }
  if (landed.length === 0) return [];
  await recordShards(lib, id, landed.map((l) => ({ name: l.path, originalName: l.path, size: l.size, sha256: l.sha256, blake3: l.blake3 })));
  return landed;
}

/** Lists shards now in the model's folder in its metadata.json (an entry of the same name replaced), with the sizes. */
export async function recordShards(lib: ModelLibrary, id: string, shards: { name: string; originalName: string; size: number; sha256: string; blake3: string }[]): Promise<void> {
  await lib.updateMetadata(id, (m) => {
    const files = (m.files ?? []).filter((f) => !shards.some((s) => s.name === f.name));
    for (const s of shards) files.push({ name: s.name, original_name: s.originalName, size: s.size, sha256: s.sha256, blake3: s.blake3, fast_hash: null });
    m.files = files;
    m.size_bytes = files.reduce((a, f) => a + (f.size ?? 0), 0);
    m.expected_files = files.map((f) => f.name);
  });
}

/** Forgets the unfinished download entries completing this model whose process is gone, and their staging folders. */
export async function forgetDeadCompletions(root: string, id: string): Promise<void> {
  const staging = await updateDownloads(root, (list) => {
    const dead = list.filter((d) => d.download_request.complete_model_id === id && d.status !== "completed" && !runnerAlive(d));
    for (const d of dead) list.splice(list.indexOf(d), 1);
    return dead.map((d) => stagingDirOf(root, d));
  });
  for (const dir of staging) await rm(dir, { recursive: true, force: true });
}
