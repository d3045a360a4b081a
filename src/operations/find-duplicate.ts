// Whether a model is already in the library, judged on the whole model: a multi-file model is a duplicate only
// when ONE stored model holds every one of its files (same SHA-256). Two pipelines sharing a unet but not a VAE
// are two models; a shard set whose first shard is a stored single file is not that file.
import type { ModelLibrary } from "../store/model-library.js";

export interface HashedFile {
  size: number;
  sha256: string;
  fastHash: string;
}

/** The stored model holding every one of `files`, or null. A single file also matches a model-level hash (the original's models have no per-file hashes). */
export function modelHoldingAll(lib: ModelLibrary, files: HashedFile[]): string | null {
  if (files.length === 0) return null;
  let candidates = null as Set<string> | null;
  for (const f of files) {
    const ids = new Set(lib.findFilesBySizeAndFastHash(f.size, f.fastHash).filter((m) => m.sha256 === f.sha256).map((m) => m.modelId));
    candidates = candidates === null ? ids : new Set([...candidates].filter((id) => ids.has(id)));
    if (candidates.size === 0) break;
  }
  const found = candidates && candidates.size > 0 ? [...candidates].sort()[0] : null;
  if (found || files.length > 1) return found;
  return lib.findByHash(files[0].sha256)?.id ?? null;
}
