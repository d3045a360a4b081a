// Builds IndexRecords for index tests: sensible defaults, overridden per test.
import type { IndexRecord } from "../../src/index/index-types.js";

let seq = 0;

/** A 64-hex string derived from a label, distinct per label (not a real hash of anything). */
export function fakeHash(label: string): string {
  let h = 0x811c9dc5;
  let out = "";
  for (let round = 0; out.length < 64; round++) {
    for (const ch of `${label}#${round}`) h = Math.imul(h ^ ch.charCodeAt(0), 0x01000193) >>> 0;
    out += h.toString(16).padStart(8, "0");
  }
  return out.slice(0, 64);
}

export function makeRecord(over: Partial<IndexRecord> & { id: string }): IndexRecord {
  seq++;
  const name = over.officialName ?? over.id.split("/").pop() ?? over.id;
  return {
    path: `/lib/${over.id}`,
    officialName: name,
    cleanedName: name.toLowerCase().replace(/[^a-z0-9]+/g, "_"),
    modelType: "llm",
    subtype: null,
    family: null,
    format: null,
    quantization: null,
    architecture: null,
    tags: [],
    description: null,
    sizeBytes: 1000,
    parameterCount: null,
    contextLength: null,
    sha256: null,
    blake3: null,
    addedAt: null,
    updatedAt: `2024-01-01T00:00:${String(seq % 60).padStart(2, "0")}Z`,
    metaMtimeMs: 1_700_000_000_000 + seq,
    metaSize: 100 + seq,
    files: [],
    ...over,
  };
}

export const RANDOM_TYPES = ["llm", "diffusion", "vae", "embedding"];
const QUANTS = ["Q4_K_M", "Q8_0", null, "F16"];
const SUBTYPES = [null, "loras", "checkpoints"];
const TAGS = ["chat", "code", "roleplay", "vision", "tiny", "Émoji"];
export const RANDOM_WORDS = ["dolphin", "hermes", "coder", "instruct", "vision", "storm", "nova"];

export interface RandomRecordsOptions {
  /** The generator's start: the same seed gives the same records. */
  seed: number;
  /** Ids are `<prefix>/<family>/m<i>` (default "t"). */
  prefix?: string;
  families: (string | null)[];
  formats: (string | null)[];
  /** Record i's official name; `pick(k)` draws the next number below k. */
  name: (family: string | null, pick: (k: number) => number, i: number) => string;
  /** Sizes and added dates drawn too (else makeRecord's defaults). */
  varySizeAndDate?: boolean;
}

/**
 * n records with types, families, formats, quants, tags and descriptions drawn from a seeded generator: the
 * generated index the compare tests hold the in-memory paths to their SQL references on.
 */
export function randomRecords(n: number, o: RandomRecordsOptions): IndexRecord[] {
  let x = o.seed;
  const pick = (k: number): number => {
    x = (Math.imul(x, 1103515245) + 12345) >>> 0;
    return (x >>> 8) % k;
  };
  const prefix = o.prefix ?? "t";
  const out: IndexRecord[] = [];
  for (let i = 0; i < n; i++) {
    const family = o.families[pick(o.families.length)];
    const rec = makeRecord({
      id: `${prefix}/${family ?? "none"}/m${i}`,
      officialName: o.name(family, pick, i),
      modelType: RANDOM_TYPES[pick(RANDOM_TYPES.length)],
      subtype: SUBTYPES[pick(SUBTYPES.length)],
      family,
      format: o.formats[pick(o.formats.length)],
      quantization: QUANTS[pick(QUANTS.length)],
      tags: [...new Set(Array.from({ length: pick(4) }, () => TAGS[pick(TAGS.length)]))],
      description: pick(3) === 0 ? `tuned for ${RANDOM_WORDS[pick(RANDOM_WORDS.length)]}` : null,
      sha256: fakeHash(`${prefix}${i}`),
    });
    if (o.varySizeAndDate) {
      rec.sizeBytes = 1000 * pick(50);
      rec.addedAt = pick(4) === 0 ? null : `2024-02-0${1 + pick(9)}T00:00:00Z`;
    }
    out.push(rec);
  }
  return out;
}
