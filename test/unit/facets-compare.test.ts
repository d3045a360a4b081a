// ModelIndex.facets counts through doc_id lists (facet-columns.ts); these tests hold it to what the earlier
// SQL grouping gave (a temp table of the matches, each column grouped as coalesce(col, 'unknown') COLLATE
// NOCASE), kept here as the reference, on a generated index and many query/filter sets.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { ModelIndex } from "../../src/index/model-index.js";
import { buildFtsQuery } from "../../src/index/fts-query.js";
import type { Facets, IndexRecord, SearchFilters } from "../../src/index/index-types.js";
import { RANDOM_TYPES as TYPES, RANDOM_WORDS, makeRecord, randomRecords } from "../helpers/index-records.js";

const FAMILIES = ["llama", "qwen", "sdxl", null, "unknown", "mistral"];
const FORMATS = ["gguf", "safetensors", null];

function generated(n: number): IndexRecord[] {
  return randomRecords(n, { seed: 12345, families: FAMILIES, formats: FORMATS, name: (family, pick, i) => `${family ?? "mystery"} ${RANDOM_WORDS[pick(RANDOM_WORDS.length)]} ${RANDOM_WORDS[pick(RANDOM_WORDS.length)]} ${i}` });
}

/** The earlier implementation of facets, as SQL on the same file. */
function referenceFacets(db: Database.Database, query: string, filters: SearchFilters): Facets {
  const where: string[] = [];
  const params: unknown[] = [];
  const inList = (column: string, values: string[] | undefined): void => {
    if (!values?.length) return;
    const withNull = column !== "model_type" && values.some((v) => v.toLowerCase() === "unknown");
    const marks = values.map(() => "?").join(",");
    where.push(withNull ? `(m.${column} IN (${marks}) OR m.${column} IS NULL)` : `m.${column} IN (${marks})`);
    params.push(...values);
  };
  inList("model_type", filters.types);
  inList("subtype", filters.subtypes);
  inList("family", filters.families);
  inList("format", filters.formats);
  inList("quantization", filters.quantizations);
  if (filters.tags?.length) {
    const tags = [...new Set(filters.tags.map((t) => t.toLowerCase()))];
    const marks = tags.map(() => "?").join(",");
    if (filters.tagMode === "all") {
      where.push(`m.doc_id IN (SELECT doc_id FROM model_tags WHERE tag IN (${marks}) GROUP BY doc_id HAVING count(*) = ?)`);
      params.push(...tags, tags.length);
    } else {
      where.push(`m.doc_id IN (SELECT doc_id FROM model_tags WHERE tag IN (${marks}))`);
      params.push(...tags);
    }
  }
  let expr = buildFtsQuery(query);
  // 1-2 character queries look at the short fields only (model-index.ts, SHORT_TERM_CHARS).
  if (expr !== null && query.trim().split(/\s+/).every((w) => w.length <= 2)) expr = `{name tags family} : (${expr})`;
  let hits = `SELECT m.doc_id FROM models m`;
  if (expr !== null) {
    hits = `SELECT m.doc_id FROM model_fts JOIN models m ON m.doc_id = model_fts.rowid`;
    where.unshift("model_fts MATCH ?");
    params.unshift(expr);
  }
  db.exec("CREATE TEMP TABLE IF NOT EXISTS ref_hits (doc_id INTEGER PRIMARY KEY); DELETE FROM temp.ref_hits;");
  db.prepare(`INSERT INTO temp.ref_hits ${hits}${where.length ? ` WHERE ${where.join(" AND ")}` : ""}`).run(...params);
  const counts = (rows: { k: string; n: number }[]): Record<string, number> => {
    const out: Record<string, number> = {};
    for (const { k, n } of [...rows].sort((a, b) => b.n - a.n || (a.k < b.k ? -1 : a.k > b.k ? 1 : 0))) out[k] = n;
    return out;
  };
  const group = (column: string): Record<string, number> =>
    counts(
      db
        .prepare(`SELECT coalesce(m.${column}, 'unknown') AS k, count(*) AS n FROM temp.ref_hits h JOIN models m ON m.doc_id = h.doc_id GROUP BY k COLLATE NOCASE`)
        .all() as { k: string; n: number }[],
    );
  return {
    types: group("model_type"),
    subtypes: group("subtype"),
    families: group("family"),
    formats: group("format"),
    quantizations: group("quantization"),
    tags: counts(db.prepare("SELECT t.tag AS k, count(*) AS n FROM temp.ref_hits h JOIN model_tags t ON t.doc_id = h.doc_id GROUP BY t.tag").all() as { k: string; n: number }[]),
  };
}

const CASES: [string, SearchFilters][] = [
  ["", {}],
  ["dolphin", {}],
  ["coder instruct", {}],
  ["co", {}],
  ["llama", { types: ["llm"] }],
  ["", { types: ["LLM", "vae"] }],
  ["", { families: ["unknown"] }],
  ["", { families: ["Unknown", "qwen"], formats: ["gguf"] }],
  ["nova", { quantizations: ["q4_k_m", "unknown"] }],
  ["", { subtypes: ["loras"] }],
  ["", { tags: ["chat"] }],
  ["", { tags: ["CHAT", "code"], tagMode: "all" }],
  ["storm", { tags: ["émoji", "tiny"] }],
  ["tuned", { formats: ["safetensors"], types: ["diffusion"] }],
  ["nothingmatchesthis", {}],
  ["", { families: ["nofamily"] }],
];

describe("ModelIndex.facets against the earlier SQL grouping", () => {
  test("the same counts, keys and key order for every query and filter set; after changes too", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-facets-"));
    const dbPath = path.join(dir, "index.db");
    const index = ModelIndex.open(dbPath);
    const raw = new Database(dbPath);
    try {
      const records = generated(1500);
      index.upsertMany(records);
      const check = (when: string): void => {
        for (const [q, f] of CASES) {
          const got = index.facets(q, f);
          const want = referenceFacets(raw, q, f);
          assert.deepEqual(got, want, `${when}: facets(${JSON.stringify(q)}, ${JSON.stringify(f)})`);
          assert.deepEqual(Object.keys(got.families), Object.keys(want.families), "largest first, ties by name");
        }
      };
      check("cold"); // the whole library first (no doc_id lists yet), then subsets
      check("warm");
      // A change through this connection, and one through another: the lists are read again.
      index.upsert({ ...records[0], family: "brand-new", tags: ["fresh"] });
      index.delete(records[1].id);
      check("after changes here");
      const other = ModelIndex.open(dbPath);
      try {
        other.upsertMany(generated(20).map((r) => ({ ...r, id: `other/${r.id}`, family: "from-other" })));
      } finally {
        other.close();
      }
      check("after another connection's changes");
      assert.equal(index.facets("", {}).families["from-other"], 20);
      assert.equal(index.facets("", { types: TYPES }).families["from-other"], 20);
      // prepareFacets reads the lists ahead; the answers stay the same.
      index.prepareFacets();
      check("prepared");
    } finally {
      raw.close();
      index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("an empty index has empty facets; NULL counts as unknown", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-facets-"));
    const index = ModelIndex.open(path.join(dir, "index.db"));
    try {
      const empty = { types: {}, subtypes: {}, families: {}, formats: {}, quantizations: {}, tags: {} };
      assert.deepEqual(index.facets(""), empty);
      assert.deepEqual(index.facets("llama", { types: ["llm"] }), empty);
      index.upsert(makeRecord({ id: "a/b/c", family: null }));
      assert.deepEqual(index.facets("", { families: ["unknown"] }).families, { unknown: 1 });
    } finally {
      index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
