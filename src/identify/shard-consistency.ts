// Shards that do not belong together: a `-00002-of-00003` file from another download (another model, or a
// GGUF of another architecture) sitting beside the others has the right name but the wrong bytes. Stored as one
// model it would never load, and the set would look complete. Only what a file declares is compared (a GGUF's
// general.architecture, and the format itself): a safetensors shard's architecture is guessed from its own tensor
// names, and one shard alone may guess differently from another of the same model.
import type { Identification } from "../formats/types.js";

/**
 * The weight files (same order as `idents`) that disagree with the first shard of their set, and why; empty when
 * they agree. Only files named as shards of one set are compared (a snapshot may rightly hold model.safetensors
 * beside pytorch_model.bin).
 */
export function foreignShards(weightFiles: readonly string[], idents: readonly Identification[]): { file: string; why: string }[] {
  const foreign: { file: string; why: string }[] = [];
  const firstOfSet = new Map<string, number>();
  // Shard 1 first, whatever order the folder listed them in: it is the one the others are compared with.
  const order = idents.map((_, i) => i).sort((a, b) => (idents[a].shard?.index ?? 0) - (idents[b].shard?.index ?? 0));
  for (const i of order) {
    const ident = idents[i];
    if (!ident.shard) continue;
    const f = firstOfSet.get(ident.shard.setKey);
    if (f === undefined) {
      firstOfSet.set(ident.shard.setKey, i);
      continue;
    }
    const first = idents[f];
    if (ident.format !== first.format && ident.format !== "lfs-pointer" && first.format !== "lfs-pointer") {
      foreign.push({ file: weightFiles[i], why: `it is ${ident.format}, ${weightFiles[f]} is ${first.format}` });
    } else if (first.format === "gguf" && ident.architecture && first.architecture && ident.architecture !== first.architecture) {
      foreign.push({ file: weightFiles[i], why: `its architecture is ${ident.architecture}, ${weightFiles[f]}'s is ${first.architecture}` });
    }
  }
  return foreign;
}

/** One sentence for a set with foreign shards (a warning in identify, the refusal in import). */
export function foreignShardsMessage(source: string, foreign: readonly { file: string; why: string }[]): string {
  const list = foreign.slice(0, 4).map((f) => `${f.file} (${f.why})`).join("; ");
  return `${source}: these shards belong to another model: ${list}${foreign.length > 4 ? "; ..." : ""}`;
}

/**
 * The shard that describes the set. A split GGUF (llama.cpp gguf-split) carries its metadata (architecture, name,
 * context, file type) in the first shard only; the others hold tensors and the split.* keys, and may well be the
 * largest. Other formats: the largest file.
 */
export function describingShard(idents: readonly Identification[]): Identification {
  if (idents.every((i) => i.format === "gguf")) {
    const first = idents.find((i) => i.shard?.index === 1);
    if (first) return first;
  }
  return idents.reduce((a, b) => (b.fileSize > a.fileSize ? b : a));
}
