// Filtered lists and searches are answered in memory (filter-mask.ts); these tests hold every page and total to
// what the SQL joins give (ModelIndex.useMemoryFilters(false), the earlier path) on a generated index: each
// sort, relevance by bm25 and by names-first, pages deep into the results, values in other cases, "unknown",
// tags any/all, and after changes by this and by another connection.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { ModelIndex } from "../../src/index/model-index.js";
import type { IndexRecord, SearchOptions, SortMode } from "../../src/index/index-types.js";
import { RANDOM_TYPES as TYPES, RANDOM_WORDS, makeRecord, randomRecords } from "../helpers/index-records.js";

const FAMILIES = ["llama", "Qwen", "qwen", "sdxl", null, "unknown", "mistral"];
const FORMATS = ["gguf", "safetensors", "GGUF", null];

function generated(n: number, prefix = "t"): IndexRecord[] {
  // "model" in every name: one term with thousands of hits (past the bm25 bound); names repeat (ties by id)
  return randomRecords(n, { seed: 777, prefix, families: FAMILIES, formats: FORMATS, name: (family, pick) => `${family ?? "mystery"} ${RANDOM_WORDS[pick(RANDOM_WORDS.length)]} model ${pick(40)}`, varySizeAndDate: true });
}

const FILTERS: SearchOptions[] = [
  { types: ["llm"] },
  { types: ["LLM", "vae", "diffusion"] },
  { families: ["unknown"] },
  { families: ["QWEN", "llama"], formats: ["gguf"] },
  { quantizations: ["q4_k_m", "unknown"] },
  { subtypes: ["loras"], types: ["diffusion"] },
  { tags: ["chat"] },
  { tags: ["CHAT", "code"], tagMode: "all" },
  { tags: ["émoji", "tiny"] },
  { families: ["nofamily"] },
  { formats: [" safetensors ", ""] },
];
const QUERIES = ["", "model", "dolphin", "coder instruct", "co", "q", "hermes model", "tuned", "tuned model", "nothingmatchesthis", "vis*"];
const SORTS: SortMode[] = ["relevance", "name", "updated", "added", "size"];

function compareAll(index: ModelIndex, when: string, offsets: number[][] = [[0, 50], [700, 30], [2050, 100]]): void {
  for (const f of FILTERS) {
    for (const q of QUERIES) {
      for (const sort of SORTS) {
        for (const [offset, limit] of offsets) {
          const o = { ...f, sort, offset, limit };
          index.useMemoryFilters(false);
          const want = index.search(q, o);
          index.useMemoryFilters(true);
          const got = index.search(q, o);
          const label = `${when}: search(${JSON.stringify(q)}, ${JSON.stringify(o)})`;
          assert.equal(got.totalCount, want.totalCount, `${label}: total`);
          assert.deepEqual(got.models.map((m) => m.id), want.models.map((m) => m.id), `${label}: page`);
        }
      }
    }
  }
}

describe("filtered search in memory against the SQL joins", () => {
  test("the same totals and pages for every filter, query, sort and offset; after changes too", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-filtered-"));
    const dbPath = path.join(dir, "index.db");
    const index = ModelIndex.open(dbPath);
    try {
      const records = generated(3000);
      index.upsertMany(records);
      // bm25 among many filtered hits and names-first both occur
      assert.ok(index.search("model", { types: ["llm", "vae", "diffusion"] }).totalCount > 2000);
      compareAll(index, "cold");
      index.upsert({ ...records[0], family: "qwen", tags: ["chat"], officialName: "dolphin coder model 1" });
      index.delete(records[1].id);
      compareAll(index, "after changes here", [[0, 40]]);
      const other = ModelIndex.open(dbPath);
      try {
        other.upsertMany(generated(40, "other"));
      } finally {
        other.close();
      }
      compareAll(index, "after another connection's changes", [[30, 40]]);
      assert.equal(index.search("", { types: TYPES, limit: 1 }).totalCount, 3039);
      index.prepareSearch();
      assert.equal(index.search("dolphin", { families: ["unknown"], limit: 1 }).totalCount, (() => {
        index.useMemoryFilters(false);
        const n = index.search("dolphin", { families: ["unknown"], limit: 1 }).totalCount;
        index.useMemoryFilters(true);
        return n;
      })());
    } finally {
      index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a bad tagMode is refused as before; an empty index answers empty pages", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-filtered-"));
    const index = ModelIndex.open(path.join(dir, "index.db"));
    try {
      index.prepareSearch(); // in memory from here on
      assert.deepEqual(index.search("", { types: ["llm"] }).models, []);
      assert.equal(index.search("llama", { tags: ["x"], sort: "name" }).totalCount, 0);
      index.upsert(makeRecord({ id: "a/b/c", tags: ["x"] }));
      assert.throws(() => index.search("", { tags: ["x"], tagMode: "some" as "all" }), { code: "E_USAGE" });
      assert.deepEqual(index.search("", { tags: ["X"] }).models.map((m) => m.id), ["a/b/c"]);
    } finally {
      index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
