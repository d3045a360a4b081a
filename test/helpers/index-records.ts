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
