import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { ModelIndex } from "../../src/index/model-index.js";
import { MIGRATIONS, SCHEMA_VERSION } from "../../src/index/index-schema.js";
import { buildFtsQuery } from "../../src/index/fts-query.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import { fakeHash, makeRecord } from "../helpers/index-records.js";
import { EVAL_LOADER, importPathFor } from "../helpers/cli.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));

function withIndex(fn: (index: ModelIndex, dir: string) => void | Promise<void>): () => Promise<void> {
  return async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    const index = ModelIndex.open(path.join(dir, "models.db"));
    try {
      await fn(index, dir);
    } finally {
      index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  };
}

const ids = (r: { models: { id: string }[] }): string[] => r.models.map((m) => m.id);

/** The five rows of the original's model_index tests. */
function seedOriginal(index: ModelIndex): void {
  index.upsert(makeRecord({ id: "llm/llama/llama-2-7b", officialName: "Llama 2 7B", modelType: "llm", family: "llama", tags: ["chat", "gguf"], sha256: fakeHash("l2"), blake3: fakeHash("l2b") }));
  index.upsert(makeRecord({ id: "llm/llama/llama-3-8b", officialName: "Llama 3 8B Instruct", modelType: "llm", family: "llama", tags: ["instruct"] }));
  index.upsert(makeRecord({ id: "stable-diffusion", officialName: "Stable Diffusion XL", modelType: "checkpoint", family: "sdxl", tags: ["image"] }));
  index.upsert(makeRecord({ id: "checkpoint/flux/flux-dev", officialName: "FLUX.1 dev", modelType: "checkpoint", family: "flux", tags: ["image"] }));
  index.upsert(makeRecord({ id: "llm/mistral/mistral-7b", officialName: "Mistral 7B", modelType: "llm", family: "mistral", tags: ["chat"] }));
}

describe("ModelIndex: records", () => {
  test(
    "upsert then get returns every field",
    withIndex((index) => {
      const rec = makeRecord({
        id: "llm/qwen/qwen2_5_7b",
        officialName: "Qwen2.5 7B Instruct",
        cleanedName: "qwen2_5_7b_instruct",
        modelType: "llm",
        subtype: "checkpoints",
        family: "qwen",
        format: "gguf",
        quantization: "Q4_K_M",
        architecture: "qwen2",
        tags: ["chat", "Instruct"],
        sizeBytes: 4_683_073_536,
        parameterCount: 7_615_616_512,
        contextLength: 32768,
        sha256: fakeHash("q").toUpperCase(),
        blake3: fakeHash("qb"),
        addedAt: "2024-05-01T10:00:00Z",
        updatedAt: "2024-05-02T10:00:00Z",
      });
      index.upsert(rec);
      const got = index.get("llm/qwen/qwen2_5_7b");
      assert.deepEqual(got, {
        id: "llm/qwen/qwen2_5_7b",
        path: "/lib/llm/qwen/qwen2_5_7b",
        officialName: "Qwen2.5 7B Instruct",
        cleanedName: "qwen2_5_7b_instruct",
        modelType: "llm",
        subtype: "checkpoints",
        family: "qwen",
        format: "gguf",
        quantization: "Q4_K_M",
        architecture: "qwen2",
        tags: ["chat", "Instruct"],
        sizeBytes: 4_683_073_536,
        parameterCount: 7_615_616_512,
        contextLength: 32768,
        hashes: { sha256: fakeHash("q"), blake3: fakeHash("qb") },
        addedAt: "2024-05-01T10:00:00Z",
        updatedAt: "2024-05-02T10:00:00Z",
      });
      assert.equal(index.get("nope"), null);
    }),
  );

  test(
    "a second upsert replaces the row, its text index, tags and hashes",
    withIndex((index) => {
      index.upsert(makeRecord({ id: "a", officialName: "Old Name", tags: ["oldtag"], sha256: fakeHash("old") }));
      index.upsert(makeRecord({ id: "a", officialName: "New Name", tags: ["newtag"], sha256: fakeHash("new") }));
      assert.equal(index.count(), 1);
      assert.equal(index.get("a")?.officialName, "New Name");
      assert.equal(index.search("old").totalCount, 0);
      assert.equal(index.search("oldtag").totalCount, 0);
      assert.deepEqual(ids(index.search("new")), ["a"]);
      assert.equal(index.search("", { tags: ["oldtag"] }).totalCount, 0);
      assert.equal(index.search("", { tags: ["newtag"] }).totalCount, 1);
      assert.equal(index.findByHash(fakeHash("old")), null);
      assert.equal(index.findByHash(fakeHash("new"))?.id, "a");
    }),
  );

  test(
    "delete removes the row and everything derived from it",
    withIndex((index) => {
      seedOriginal(index);
      assert.equal(index.delete("llm/llama/llama-2-7b"), true);
      assert.equal(index.delete("llm/llama/llama-2-7b"), false);
      assert.equal(index.get("llm/llama/llama-2-7b"), null);
      assert.equal(index.count(), 4);
      assert.deepEqual(ids(index.search("llama")), ["llm/llama/llama-3-8b"]);
      assert.equal(index.findByHash(fakeHash("l2")), null);
      assert.equal(index.search("", { tags: ["gguf"] }).totalCount, 0);
    }),
  );

  test(
    "clear empties the index, search included",
    withIndex((index) => {
      seedOriginal(index);
      index.clear();
      assert.equal(index.count(), 0);
      assert.equal(index.search("llama").totalCount, 0);
      assert.equal(index.search("").totalCount, 0);
      index.upsert(makeRecord({ id: "again", officialName: "Llama again" }));
      assert.deepEqual(ids(index.search("llama")), ["again"]);
    }),
  );

  test(
    "transaction: all or nothing",
    withIndex((index) => {
      assert.throws(() =>
        index.transaction(() => {
          index.upsert(makeRecord({ id: "x1" }));
          index.upsert(makeRecord({ id: "x2" }));
          throw new Error("stop");
        }),
      );
      assert.equal(index.count(), 0);
      assert.equal(index.search("x1").totalCount, 0);
      index.transaction(() => {
        index.upsert(makeRecord({ id: "x1" }));
        index.upsert(makeRecord({ id: "x2" }));
      });
      assert.equal(index.count(), 2);
    }),
  );

  test(
    "a malformed record is refused before anything is written, inside a transaction too",
    withIndex((index) => {
      const bad = { ...makeRecord({ id: "bad" }), sizeBytes: "big" } as unknown as Parameters<ModelIndex["upsert"]>[0];
      assert.throws(() => index.upsert(bad), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE" && e.message.includes("sizeBytes"));
      const noName = makeRecord({ id: "nofile", files: [{ name: "", size: 1, sha256: null, blake3: null, fastHash: null }] });
      index.transaction(() => {
        index.upsert(makeRecord({ id: "good" }));
        assert.throws(() => index.upsert(noName), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE");
      });
      assert.deepEqual(index.allIds(), ["good"]);
    }),
  );

  test(
    "every field of a record is checked: a wrong type anywhere is refused, naming the field",
    withIndex((index) => {
      const file = { name: "m.gguf", size: 1, sha256: null, blake3: null, fastHash: null };
      const cases: [string, Record<string, unknown>][] = [
        ...["path", "officialName", "cleanedName", "modelType", "updatedAt"].map((k): [string, Record<string, unknown>] => [k, { [k]: null }]),
        ...["subtype", "family", "format", "quantization", "architecture", "description", "notes", "repoId", "sha256", "blake3", "addedAt"].map(
          (k): [string, Record<string, unknown>] => [k, { [k]: 7 }],
        ),
        ...["sizeBytes", "metaMtimeMs", "metaSize"].map((k): [string, Record<string, unknown>] => [k, { [k]: Infinity }]),
        ...["parameterCount", "contextLength"].map((k): [string, Record<string, unknown>] => [k, { [k]: "7B" }]),
        ["tags", { tags: ["ok", 3] }],
        ["files", { files: "m.gguf" }],
        ["size of m.gguf", { files: [{ ...file, size: -Infinity }] }],
        ["sha256 of m.gguf", { files: [{ ...file, sha256: 1 }] }],
        ["blake3 of m.gguf", { files: [{ ...file, blake3: {} }] }],
        ["fastHash of m.gguf", { files: [{ ...file, fastHash: [] }] }],
        ["id", { id: "" }],
      ];
      for (const [field, change] of cases) {
        const bad = { ...makeRecord({ id: "bad" }), ...change } as unknown as Parameters<ModelIndex["upsert"]>[0];
        assert.throws(
          () => index.upsert(bad),
          (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE" && e.message.includes(field),
          `a wrong ${field} must be refused`,
        );
      }
      assert.equal(index.count(), 0);
    }),
  );

  test(
    "syncState gives the metadata.json stat of every model",
    withIndex((index) => {
      index.upsert(makeRecord({ id: "a", metaMtimeMs: 1234.5, metaSize: 99 }));
      index.upsert(makeRecord({ id: "b/c", metaMtimeMs: 5, metaSize: 7 }));
      assert.deepEqual(
        index.syncState(),
        new Map([
          ["a", { metaMtimeMs: 1234.5, metaSize: 99 }],
          ["b/c", { metaMtimeMs: 5, metaSize: 7 }],
        ]),
      );
    }),
  );
});

describe("ModelIndex: the original's index tests", () => {
  test(
    "search_all lists 5, search 'llama' gives 2, 'stable' gives 1 (stable-diffusion), by type 2 checkpoints, count",
    withIndex((index) => {
      seedOriginal(index);
      assert.equal(index.search("").totalCount, 5);
      assert.equal(index.search("").models.length, 5);
      const llama = index.search("llama");
      assert.equal(llama.totalCount, 2);
      assert.deepEqual(ids(llama).sort(), ["llm/llama/llama-2-7b", "llm/llama/llama-3-8b"]);
      const stable = index.search("stable");
      assert.equal(stable.totalCount, 1);
      assert.equal(stable.models[0].id, "stable-diffusion");
      const byType = index.search("", { types: ["checkpoint"] });
      assert.equal(byType.totalCount, 2);
      assert.deepEqual(ids(byType).sort(), ["checkpoint/flux/flux-dev", "stable-diffusion"]);
      assert.equal(index.count(), 5);
      assert.ok(llama.queryTimeMs >= 0);
    }),
  );

  test(
    "find_by_hash: sha256, blake3, not found",
    withIndex((index) => {
      seedOriginal(index);
      assert.equal(index.findByHash(fakeHash("l2"))?.id, "llm/llama/llama-2-7b");
      assert.equal(index.findByHash(fakeHash("l2b"))?.id, "llm/llama/llama-2-7b");
      assert.equal(index.findByHash(fakeHash("l2").toUpperCase())?.id, "llm/llama/llama-2-7b");
      assert.equal(index.findByHash(fakeHash("nothing")), null);
      assert.equal(index.findByHash(""), null);
    }),
  );

  test(
    "knownHashes: which of many hashes the index holds, in any case, in one call",
    withIndex((index) => {
      seedOriginal(index);
      const known = index.knownHashes([fakeHash("l2").toUpperCase(), fakeHash("l2b"), fakeHash("nothing"), "", fakeHash("l2")]);
      assert.deepEqual([...known].sort(), [fakeHash("l2"), fakeHash("l2b")].sort());
      assert.equal(index.knownHashes([]).size, 0);
      index.delete("llm/llama/llama-2-7b");
      assert.equal(index.knownHashes([fakeHash("l2")]).size, 0);
    }),
  );
});

describe("ModelIndex: text search", () => {
  test(
    "by name, tag, family, prefix, notes/repo id; terms are ANDed",
    withIndex((index) => {
      seedOriginal(index);
      index.upsert(makeRecord({ id: "llm/qwen/coder", officialName: "Qwen2.5 Coder 7B", family: "qwen", architecture: "qwen2", tags: ["code"], notes: "great at refactoring", repoId: "Qwen/Qwen2.5-Coder-7B-Instruct-GGUF", description: "A coding model" }));
      assert.deepEqual(ids(index.search("coder")), ["llm/qwen/coder"]);
      assert.deepEqual(ids(index.search("code")), ["llm/qwen/coder"], "tag (and prefix of 'coder')");
      assert.deepEqual(ids(index.search("mistral")), ["llm/mistral/mistral-7b"]);
      assert.deepEqual(ids(index.search("sdxl")), ["stable-diffusion"], "family");
      assert.deepEqual(ids(index.search("refactor")), ["llm/qwen/coder"], "notes");
      assert.deepEqual(ids(index.search("coding")), ["llm/qwen/coder"], "description");
      assert.deepEqual(ids(index.search("qwen2")), ["llm/qwen/coder"], "architecture / name prefix");
      assert.deepEqual(ids(index.search("lla")).sort(), ["llm/llama/llama-2-7b", "llm/llama/llama-3-8b"], "prefix");
      assert.deepEqual(ids(index.search("llama 7b")), ["llm/llama/llama-2-7b"], "AND, not OR");
      assert.deepEqual(ids(index.search("LLAMA Instruct")), ["llm/llama/llama-3-8b"]);
      assert.deepEqual(ids(index.search("flux.1")), ["checkpoint/flux/flux-dev"], "dotted term as one phrase");
      assert.equal(index.search("zzzz").totalCount, 0);
    }),
  );

  test(
    "name matches rank above tag and description matches",
    withIndex((index) => {
      index.upsert(makeRecord({ id: "desc", officialName: "Alpha", description: "mentions vicuna in passing" }));
      index.upsert(makeRecord({ id: "tag", officialName: "Beta", tags: ["vicuna"] }));
      index.upsert(makeRecord({ id: "name", officialName: "Vicuna 13B" }));
      assert.deepEqual(ids(index.search("vicuna")), ["name", "tag", "desc"]);
    }),
  );

  test(
    "several terms: models whose name holds them all first, then the others, each newest first (no bm25)",
    withIndex((index) => {
      index.upsert(makeRecord({ id: "desc", officialName: "Alpha 13B", description: "mentions vicuna in passing" }));
      index.upsert(makeRecord({ id: "old", officialName: "Vicuna 13B Old" }));
      index.upsert(makeRecord({ id: "tag", officialName: "Beta 13B", tags: ["vicuna"], family: "f1" }));
      index.upsert(makeRecord({ id: "new", officialName: "Vicuna 13B New", family: "f1" }));
      index.upsert(makeRecord({ id: "other", officialName: "Vicuna 7B" }));
      const all = ["new", "old", "tag", "desc"];
      // Every page both with the total not yet known (a write forgets remembered totals: the page and the
      // total then come from one pass over the hits) and with it remembered (count, then a page).
      for (let offset = 0; offset <= all.length; offset++) {
        index.upsert(makeRecord({ id: `unrelated${offset}`, officialName: "Zeta" }));
        for (const pass of ["fresh", "remembered"]) {
          const page = index.search("vicuna 13b", { offset, limit: 2 });
          assert.deepEqual(ids(page), all.slice(offset, offset + 2), `offset ${offset}, ${pass}`);
          assert.equal(page.totalCount, 4, `offset ${offset}, ${pass}`);
        }
      }
      for (const pass of ["fresh", "remembered"]) {
        const filtered = index.search("vicuna 13b", { families: ["f1"], limit: 1, offset: 1 });
        assert.deepEqual([ids(filtered), filtered.totalCount], [["tag"], 2], pass);
      }
      const noName = index.search("beta vicuna");
      assert.deepEqual([ids(noName), noName.totalCount], [["tag"], 1], "no name hit: the rest is every hit");
      // One term is still ranked by bm25: the shorter name scores higher.
      assert.deepEqual(ids(index.search("vicuna")).slice(0, 2), ["other", "old"]);
    }),
  );

  test(
    "diacritics are folded both ways",
    withIndex((index) => {
      index.upsert(makeRecord({ id: "a", officialName: "Café Crème Model" }));
      assert.deepEqual(ids(index.search("cafe")), ["a"]);
      assert.deepEqual(ids(index.search("CRÈME")), ["a"]);
    }),
  );

  test(
    "FTS syntax in a query is literal and never throws",
    withIndex((index) => {
      index.upsert(makeRecord({ id: "gpt2", officialName: "GPT-2 XL" }));
      index.upsert(makeRecord({ id: "near", officialName: "Nearline AND Ortho model", tags: ["a:b"] }));
      index.upsert(makeRecord({ id: "plain", officialName: "Plain" }));
      const hostile = ['"', "*", "(", ")", "NEAR", "NEAR(a b)", "a:b", "name:gpt", "-x", "^", "^gpt", "AND", "OR", "NOT", "+", "{name}", "}", '"unterminated', "gpt*", "a OR", "NOT plain", "\\", "'", ";", "--", "%", "_", "[x]", "\u0000", "𝔘𝔫𝔦"];
      for (const q of hostile) {
        const r = index.search(q);
        assert.ok(r.totalCount >= 0, q);
        index.facets(q);
      }
      assert.deepEqual(ids(index.search("gpt-2")), ["gpt2"]);
      assert.deepEqual(ids(index.search("NEAR")), ["near"], "NEAR is a word");
      assert.deepEqual(ids(index.search("AND ortho")), ["near"], "AND is a word too");
      assert.deepEqual(ids(index.search("a:b")), ["near"], "column syntax is text");
      assert.deepEqual(ids(index.search("NOT plain")), [], "NOT does not negate");
      assert.deepEqual(ids(index.search("-xl")), ["gpt2"], "'-xl' is the word xl, not a negation");
      // Punctuation-only input cannot match a token: it lists, like an empty query.
      assert.equal(index.search("( * )").totalCount, 3);
    }),
  );

  test(
    "1-2 character queries match the short fields (name, tags, quantization, family, type), not descriptions, by prefix",
    withIndex((index) => {
      // type "audio" (the default "llm" would itself match "ll")
      const rec = (o: Parameters<typeof makeRecord>[0]) => makeRecord({ modelType: "audio", ...o });
      index.upsert(rec({ id: "name", officialName: "Llava 7B" }));
      index.upsert(rec({ id: "tagonly", officialName: "Other", tags: ["llx-tag"] }));
      index.upsert(rec({ id: "sd", officialName: "Dreamshaper", family: "sd1", modelType: "diffusion" }));
      index.upsert(rec({ id: "quant", officialName: "Mistral", quantization: "Q4_K_M" }));
      index.upsert(rec({ id: "desc", officialName: "Zeta", description: "llama sd1 q4 notes" }));
      assert.deepEqual(ids(index.search("ll")), ["name", "tagonly"]); // the name match ranks first
      assert.deepEqual(ids(index.search("7b")), ["name"]);
      assert.deepEqual(ids(index.search("sd")), ["sd"]); // family sd1, not the description
      assert.deepEqual(ids(index.search("q4")), ["quant"]);
      assert.deepEqual(ids(index.search("di")), ["sd"]); // type diffusion
      // With a longer term in the query every column counts again.
      assert.deepEqual(ids(index.search("llx")), ["tagonly"]);
      assert.deepEqual(ids(index.search("notes")), ["desc"]);
    }),
  );

  test(
    "more hits than the exact-ranking cap: name matches first, every hit exactly once across pages, right totals",
    withIndex((index) => {
      index.transaction(() => {
        for (let i = 0; i < 2300; i++) {
          const inName = i % 7 === 0; // 329 name matches
          index.upsert(makeRecord({ id: `m${i}`, officialName: inName ? `Common model ${i}` : `Model ${i}`, tags: ["common", i % 2 ? "odd" : "even"], family: i % 3 ? "f1" : "f2" }));
        }
      });
      const nameHits = new Set(Array.from({ length: 2300 }, (_, i) => i).filter((i) => i % 7 === 0).map((i) => `m${i}`));
      const first = index.search("common", { limit: 50 });
      assert.equal(first.totalCount, 2300);
      assert.equal(first.models.length, 50);
      assert.ok(first.models.every((m) => nameHits.has(m.id)));
      const seen: string[] = [];
      for (let offset = 0; offset < 2300; offset += 170) {
        const page = index.search("common", { limit: 170, offset });
        assert.equal(page.totalCount, 2300);
        assert.equal(page.models.length, Math.min(170, 2300 - offset));
        seen.push(...ids(page));
      }
      assert.equal(seen.length, 2300);
      assert.equal(new Set(seen).size, 2300);
      assert.ok(seen.slice(0, nameHits.size).every((id) => nameHits.has(id)), "the name group comes first");
      // The same under a filter (joined path).
      const filtered = index.search("common", { families: ["f1"], limit: 10000 });
      assert.equal(filtered.totalCount, 2300 - Math.ceil(2300 / 3));
      assert.equal(new Set(ids(filtered)).size, filtered.totalCount);
      // Past the end: empty page, total still right.
      const past = index.search("common", { offset: 5000 });
      assert.equal(past.models.length, 0);
      assert.equal(past.totalCount, 2300);
    }),
  );
});

describe("ModelIndex: filters, totals, paging, sorting", () => {
  function seedMany(index: ModelIndex): void {
    index.transaction(() => {
      for (let i = 0; i < 60; i++) {
        const tags = [i % 2 === 0 ? "even" : "odd", i % 3 === 0 ? "three" : "notthree", ...(i % 5 === 0 ? ["Five"] : [])];
        index.upsert(
          makeRecord({
            id: `t/m${String(i).padStart(2, "0")}`,
            officialName: `Model ${String(i).padStart(2, "0")} ${i % 4 === 0 ? "special" : "plain"}`,
            modelType: i < 40 ? "llm" : "diffusion",
            subtype: i >= 40 ? (i % 2 ? "loras" : "checkpoints") : null,
            family: ["llama", "qwen", null][i % 3],
            format: i % 2 ? "gguf" : "safetensors",
            quantization: i % 2 ? (i % 4 === 1 ? "Q4_K_M" : "Q8_0") : null,
            tags,
            sizeBytes: (i * 37) % 61,
            addedAt: i % 10 === 0 ? null : `2024-02-${String((i % 28) + 1).padStart(2, "0")}T00:00:00Z`,
            updatedAt: `2024-03-01T00:${String(i).padStart(2, "0")}:00Z`,
          }),
        );
      }
    });
  }

  const all60 = Array.from({ length: 60 }, (_, i) => i);
  const idOf = (i: number): string => `t/m${String(i).padStart(2, "0")}`;

  test(
    "tags any / all: right totals and full pages",
    withIndex((index) => {
      seedMany(index);
      const anyExpected = all60.filter((i) => i % 3 === 0 || i % 5 === 0);
      const any = index.search("", { tags: ["three", "five"], limit: 10 });
      assert.equal(any.totalCount, anyExpected.length);
      assert.equal(any.models.length, 10);
      const allExpected = all60.filter((i) => i % 3 === 0 && i % 5 === 0);
      const all = index.search("", { tags: ["THREE", "five"], tagMode: "all", limit: 3 });
      assert.equal(all.totalCount, allExpected.length);
      assert.equal(all.models.length, 3);
      assert.deepEqual(ids(index.search("", { tags: ["three", "five"], tagMode: "all", limit: 100 })).sort(), allExpected.map(idOf));
      assert.deepEqual(ids(index.search("", { tags: ["three", "five"], limit: 100 })).sort(), anyExpected.map(idOf));
      // Duplicate tags in the filter do not break "all".
      assert.equal(index.search("", { tags: ["five", "Five"], tagMode: "all" }).totalCount, 12);
      // With a text query as well.
      const q = index.search("special", { tags: ["three", "five"], tagMode: "all" });
      assert.deepEqual(ids(q).sort(), all60.filter((i) => i % 4 === 0 && i % 15 === 0).map(idOf));
      assert.throws(() => index.search("", { tags: ["x"], tagMode: "some" as "any" }), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE");
    }),
  );

  test(
    "each filter, case-insensitive, with totals; 'unknown' finds missing values",
    withIndex((index) => {
      seedMany(index);
      const check = (opts: Parameters<ModelIndex["search"]>[1], expected: number[], query = ""): void => {
        const r = index.search(query, { ...opts, limit: 7 });
        assert.equal(r.totalCount, expected.length, JSON.stringify(opts));
        assert.equal(r.models.length, Math.min(7, expected.length));
        assert.deepEqual(ids(index.search(query, { ...opts, limit: 1000 })).sort(), expected.map(idOf), JSON.stringify(opts));
      };
      check({ types: ["LLM"] }, all60.filter((i) => i < 40));
      check({ types: ["llm", "diffusion"] }, all60);
      check({ subtypes: ["loras"] }, all60.filter((i) => i >= 40 && i % 2 === 1));
      check({ families: ["Qwen"] }, all60.filter((i) => i % 3 === 1));
      check({ families: ["unknown"] }, all60.filter((i) => i % 3 === 2));
      check({ formats: ["GGUF"] }, all60.filter((i) => i % 2 === 1));
      check({ quantizations: ["q4_k_m"] }, all60.filter((i) => i % 4 === 1));
      check({ quantizations: ["unknown", "Q8_0"] }, all60.filter((i) => i % 4 !== 1));
      check({ types: ["diffusion"], formats: ["gguf"], tags: ["three"] }, all60.filter((i) => i >= 40 && i % 2 === 1 && i % 3 === 0));
      check({ types: ["llm"] }, all60.filter((i) => i < 40 && i % 4 === 0), "special");
      check({ families: ["llama"], tags: ["even"] }, all60.filter((i) => i % 3 === 0 && i % 2 === 0), "model");
      check({ types: [] }, all60);
      check({ types: ["none-such"] }, []);
    }),
  );

  test(
    "sort modes and paging",
    withIndex((index) => {
      seedMany(index);
      const list = (sort: "name" | "updated" | "added" | "size" | "relevance", q = ""): string[] => ids(index.search(q, { sort, limit: 100 }));
      assert.deepEqual(list("relevance"), all60.slice().reverse().map(idOf), "empty query: most recently updated first");
      assert.deepEqual(list("updated"), all60.slice().reverse().map(idOf));
      assert.deepEqual(list("name"), all60.map(idOf));
      const bySize = list("size").map((id) => index.get(id)?.sizeBytes ?? -1);
      assert.deepEqual(bySize, bySize.slice().sort((a, b) => b - a));
      const added = list("added").map((id) => index.get(id)?.addedAt ?? null);
      const nonNull = added.filter((a) => a !== null);
      assert.deepEqual(nonNull, nonNull.slice().sort().reverse());
      assert.ok(added.slice(nonNull.length).every((a) => a === null), "models without a date come last");
      assert.deepEqual(list("name", "special"), all60.filter((i) => i % 4 === 0).map(idOf));
      // Pages concatenate to the full list, whatever the sort.
      for (const sort of ["relevance", "name", "updated", "added", "size"] as const) {
        for (const q of ["", "model"]) {
          const full = ids(index.search(q, { sort, limit: 100 }));
          const paged: string[] = [];
          for (let offset = 0; offset < 60; offset += 13) paged.push(...ids(index.search(q, { sort, limit: 13, offset })));
          assert.deepEqual(paged, full, `${sort} ${q}`);
        }
      }
      assert.throws(() => index.search("", { limit: 0 }), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE");
      assert.throws(() => index.search("", { offset: -1 }), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE");
      assert.throws(() => index.search("", { sort: "random" as "name" }), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE");
      assert.equal(index.search("", { limit: 50_000 }).models.length, 60, "limit is capped, not refused");
      assert.equal(index.search("").models.length, 50, "default limit 50");
    }),
  );

  test(
    "facets count the current query and filters",
    withIndex((index) => {
      seedMany(index);
      const f = index.facets("special", { types: ["llm"] });
      const hits = all60.filter((i) => i < 40 && i % 4 === 0);
      assert.deepEqual(f.types, { llm: hits.length });
      assert.equal(Object.values(f.families).reduce((a, b) => a + b, 0), hits.length);
      assert.equal(f.families.unknown, hits.filter((i) => i % 3 === 2).length);
      assert.deepEqual(f.formats, { safetensors: hits.length });
      assert.equal(f.tags.even, hits.length);
      assert.equal(f.tags.five, hits.filter((i) => i % 5 === 0).length);
      const everything = index.facets("");
      assert.deepEqual(everything.types, { llm: 40, diffusion: 20 });
      assert.deepEqual(everything.subtypes, { unknown: 40, checkpoints: 10, loras: 10 });
    }),
  );
});

describe("ModelIndex: hashes and stats", () => {
  test(
    "findByHash by primary sha256/blake3, any file's hashes, and fast hash; findFilesBySizeAndFastHash",
    withIndex((index) => {
      index.upsert(
        makeRecord({
          id: "sharded",
          sha256: fakeHash("s1"),
          blake3: fakeHash("b1"),
          files: [
            { name: "model-00001-of-00002.safetensors", size: 100, sha256: fakeHash("s1"), blake3: fakeHash("b1"), fastHash: fakeHash("f1") },
            { name: "sub/model-00002-of-00002.safetensors", size: 50, sha256: fakeHash("s2"), blake3: fakeHash("b2"), fastHash: fakeHash("f2") },
          ],
        }),
      );
      index.upsert(makeRecord({ id: "other", files: [{ name: "x.gguf", size: 50, sha256: null, blake3: null, fastHash: fakeHash("f3") }] }));
      for (const h of ["s1", "b1", "s2", "b2", "f1", "f2"]) assert.equal(index.findByHash(fakeHash(h))?.id, "sharded", h);
      assert.equal(index.findByHash(fakeHash("f3"))?.id, "other");
      assert.equal(index.findByHash(fakeHash("zz")), null);
      assert.deepEqual(index.findFilesBySizeAndFastHash(50, fakeHash("f2")), [{ modelId: "sharded", name: "sub/model-00002-of-00002.safetensors", sha256: fakeHash("s2") }]);
      assert.deepEqual(index.findFilesBySizeAndFastHash(51, fakeHash("f2")), []);
      assert.deepEqual(index.findFilesBySizeAndFastHash(50, fakeHash("f3").toUpperCase()), [{ modelId: "other", name: "x.gguf", sha256: null }]);
    }),
  );

  test(
    "a file shared by two models: the model whose primary file it is wins",
    withIndex((index) => {
      index.upsert(makeRecord({ id: "a-holder", files: [{ name: "vae.safetensors", size: 1, sha256: fakeHash("vae"), blake3: null, fastHash: null }] }));
      index.upsert(makeRecord({ id: "z-primary", sha256: fakeHash("vae"), files: [{ name: "vae.safetensors", size: 1, sha256: fakeHash("vae"), blake3: null, fastHash: null }] }));
      assert.equal(index.findByHash(fakeHash("vae"))?.id, "z-primary");
    }),
  );

  test(
    "stats: count, bytes, and groups with null as 'unknown'",
    withIndex((index) => {
      seedOriginal(index);
      index.upsert(makeRecord({ id: "g", modelType: "llm", family: null, format: "gguf", quantization: "Q4_K_M", sizeBytes: 5000 }));
      const s = index.stats();
      assert.equal(s.count, 6);
      assert.equal(s.totalBytes, 5 * 1000 + 5000);
      assert.deepEqual(s.byType, { llm: 4, checkpoint: 2 });
      assert.deepEqual(s.byFamily, { llama: 2, flux: 1, mistral: 1, sdxl: 1, unknown: 1 });
      assert.deepEqual(s.byFormat, { unknown: 5, gguf: 1 });
      assert.deepEqual(s.byQuantization, { unknown: 5, Q4_K_M: 1 });
      // Bytes per group: same keys in the same order as the counts, each the sum of its models' sizes.
      assert.deepEqual(Object.entries(s.bytesByType), [["llm", 3 * 1000 + 5000], ["checkpoint", 2 * 1000]]);
      assert.deepEqual(Object.entries(s.bytesByFamily), [["llama", 2000], ["flux", 1000], ["mistral", 1000], ["sdxl", 1000], ["unknown", 5000]]);
      assert.deepEqual(Object.entries(s.bytesByFormat), [["unknown", 5000], ["gguf", 5000]]);
      assert.deepEqual(s.bytesByQuantization, { unknown: 5000, Q4_K_M: 5000 });
      index.clear();
      assert.deepEqual(index.stats(), {
        count: 0,
        totalBytes: 0,
        byType: {},
        byFamily: {},
        byFormat: {},
        byQuantization: {},
        bytesByType: {},
        bytesByFamily: {},
        bytesByFormat: {},
        bytesByQuantization: {},
      });
    }),
  );
});

describe("ModelIndex: remembered totals", () => {
  test(
    "a total stays exact after writes by this connection and by another one; dropped terms change nothing",
    withIndex((index, dir) => {
      for (let i = 0; i < 8; i++) index.upsert(makeRecord({ id: `m${i}`, officialName: `Safetensors model ${i}`, tags: ["gguf"] }));
      const page = { limit: 3, offset: 3 };
      assert.equal(index.search("safetensors", page).totalCount, 8);
      assert.deepEqual(ids(index.search("safeten safetensors", page)), ids(index.search("safetensors", page)));
      index.upsert(makeRecord({ id: "m8", officialName: "Safetensors model 8" }));
      assert.equal(index.search("safetensors", page).totalCount, 9, "own write seen");
      index.transaction(() => {
        index.delete("m0");
        assert.equal(index.search("safetensors", page).totalCount, 8, "inside an open transaction too");
      });
      assert.equal(index.search("", { tags: ["gguf"], ...page }).totalCount, 7);
      const other = ModelIndex.open(path.join(dir, "models.db"));
      try {
        other.delete("m1");
        other.delete("m2");
        other.upsert(makeRecord({ id: "z", officialName: "Other safetensors", tags: ["gguf"] }));
      } finally {
        other.close();
      }
      assert.equal(index.search("safetensors", page).totalCount, 7, "another connection's commit seen");
      assert.equal(index.search("", { tags: ["gguf"], ...page }).totalCount, 6);
    }),
  );

  test(
    "a prefix expanded into the index's terms finds a term added later, by this connection or another",
    withIndex((index, dir) => {
      index.upsert(makeRecord({ id: "a", officialName: "Llama 2" }));
      assert.deepEqual(ids(index.search("llama")), ["a"]);
      index.upsert(makeRecord({ id: "b", officialName: "Llama3 instruct" }));
      assert.deepEqual(ids(index.search("llama")).sort(), ["a", "b"], "own write");
      const other = ModelIndex.open(path.join(dir, "models.db"));
      try {
        other.upsert(makeRecord({ id: "c", officialName: "Llamacpp build", tags: ["llamafile"] }));
      } finally {
        other.close();
      }
      assert.equal(index.search("llama").totalCount, 3, "another connection's new terms");
      assert.equal(index.search("llamaf").totalCount, 1);
      index.delete("c");
      assert.equal(index.search("llamaf").totalCount, 0);
    }),
  );
});

describe("ModelIndex: prefix expansion matches FTS5's own prefix queries", () => {
  test(
    "300 random queries over 1500 models: the same hits, totals and page order as the unexpanded MATCH",
    withIndex((index) => {
      // Words sharing prefixes, some with long tails of rare variants ("coder17"), so that some prefixes
      // expand to a few terms and others to more than the expansion takes.
      const stems = ["llama", "llamacpp", "code", "coder", "codestral", "safetensors", "diffusion", "diffusers", "instruct", "qwen", "qwen2", "gpt-2", "license:mit"];
      let seed = 7;
      const rnd = (n: number): number => {
        seed = (seed * 1103515245 + 12345) % 2 ** 31;
        return seed % n;
      };
      const word = (): string => {
        const s = stems[rnd(stems.length)];
        return rnd(4) === 0 ? `${s}${rnd(s === "coder" ? 60 : 5)}` : s;
      };
      index.transaction(() => {
        for (let i = 0; i < 1500; i++) {
          index.upsert(makeRecord({ id: `m${i}`, officialName: `${word()} ${word()} ${i}`, tags: [word(), word()], description: rnd(3) ? word() : null }));
        }
      });
      const raw = new Database(index.dbPath, { readonly: true });
      try {
        const nativeIds = raw.prepare("SELECT m.id FROM model_fts f JOIN models m ON m.doc_id = f.rowid WHERE model_fts MATCH ? ORDER BY m.id");
        const queries: string[] = [];
        for (let i = 0; i < 300; i++) {
          const w = word();
          const cut = w.slice(0, 3 + rnd(Math.max(1, w.length - 2)));
          queries.push(rnd(3) === 0 ? `${cut} ${word().slice(0, 4)}` : cut);
        }
        // Each distinct query once (113 of the 300 drawn): a repeat, with the caches forgotten, asks the same again.
        for (const q of new Set(queries)) {
          const expected = nativeIds.pluck().all(buildFtsQuery(q)) as string[];
          index.forgetCaches();
          const got = index.search(q, { limit: 2000 });
          assert.equal(got.totalCount, expected.length, q);
          assert.deepEqual(ids(got).sort(), expected, q);
          // Paging by newest within the groups gives every hit once.
          const paged: string[] = [];
          for (let offset = 0; offset < expected.length; offset += 97) paged.push(...ids(index.search(q, { sort: "relevance", limit: 97, offset })));
          assert.deepEqual(paged.sort(), expected, `${q}: pages`);
        }
      } finally {
        raw.close();
      }
    }),
  );
});

describe("ModelIndex: schema, files, processes", () => {
  test("a version 2 database gets the (column, size_bytes) group indexes, loses the metadata copy, keeps its rows", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const dbPath = path.join(dir, "models.db");
      const v2 = new Database(dbPath);
      MIGRATIONS[0](v2);
      MIGRATIONS[1](v2);
      v2.pragma("user_version = 2");
      v2.prepare(
        "INSERT INTO models (id, path, official_name, cleaned_name, model_type, family, tags_json, size_bytes, updated_at, meta_mtime_ms, meta_size) " +
          "VALUES ('a', '/a', 'A', 'a', 'llm', 'qwen', '[]', 42, '2024', 1, 1)",
      ).run();
      v2.close();
      const index = ModelIndex.open(dbPath);
      try {
        assert.equal(index.schemaVersion(), SCHEMA_VERSION);
        assert.deepEqual(index.stats().bytesByFamily, { qwen: 42 });
        // Writes on the migrated database: tags and hashes found again by their keys, replaced and deleted.
        index.upsert(makeRecord({ id: "b", officialName: "Bee", tags: ["Old"], sha256: fakeHash("b1") }));
        index.upsert(makeRecord({ id: "b", officialName: "Bee", tags: ["new"], sha256: fakeHash("b2") }));
        assert.equal(index.search("", { tags: ["old"] }).totalCount, 0);
        assert.equal(index.findByHash(fakeHash("b1")), null);
        assert.equal(index.findByHash(fakeHash("b2"))?.id, "b");
        index.delete("b");
        assert.equal(index.search("", { tags: ["new"] }).totalCount, 0);
        assert.equal(index.findByHash(fakeHash("b2")), null);
        // A row whose tags_json cannot be read still loses all its tag rows (by a scan).
        index.upsert(makeRecord({ id: "c", tags: ["kept-until-deleted"] }));
        const raw = new Database(dbPath);
        raw.prepare("UPDATE models SET tags_json = 'not json' WHERE id = 'c'").run();
        raw.close();
        index.delete("c");
        const check = new Database(dbPath, { readonly: true });
        assert.equal(check.prepare("SELECT count(*) FROM model_tags WHERE tag = 'kept-until-deleted'").pluck().get(), 0);
        check.close();
      } finally {
        index.close();
      }
      const raw = new Database(dbPath, { readonly: true });
      for (const ix of ["models_type", "models_family", "models_format", "models_quantization"]) {
        assert.deepEqual((raw.pragma(`index_info(${ix})`) as { name: string }[]).map((c) => c.name).slice(1), ["size_bytes"], ix);
      }
      assert.equal(raw.prepare("SELECT count(*) FROM sqlite_master WHERE name = 'model_meta'").pluck().get(), 0);
      raw.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });


  test("a new database is migrated from version 0; re-opening is idempotent and keeps the rows", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const dbPath = path.join(dir, "sub", "models.db");
      // An existing, empty SQLite file at user_version 0.
      fs.mkdirSync(path.dirname(dbPath));
      new Database(dbPath).close();
      const a = ModelIndex.open(dbPath);
      assert.equal(a.schemaVersion(), SCHEMA_VERSION);
      a.upsert(makeRecord({ id: "keep", officialName: "Keeper" }));
      a.close();
      for (let i = 0; i < 2; i++) {
        const b = ModelIndex.open(dbPath);
        assert.equal(b.schemaVersion(), SCHEMA_VERSION);
        assert.deepEqual(ids(b.search("keeper")), ["keep"]);
        b.close();
      }
      const raw = new Database(dbPath, { readonly: true });
      assert.equal(raw.pragma("journal_mode", { simple: true }), "wal");
      raw.close();
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a database from a newer version is refused; a file that is not SQLite is E_CORRUPT", () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const newer = path.join(dir, "newer.db");
      const db = new Database(newer);
      db.pragma(`user_version = ${SCHEMA_VERSION + 5}`);
      db.close();
      assert.throws(() => ModelIndex.open(newer), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_UNSUPPORTED" && e.message.includes(newer));
      const junk = path.join(dir, "junk.db");
      fs.writeFileSync(junk, "this is not a database, just some text that is long enough to have a header".repeat(20));
      assert.throws(() => ModelIndex.open(junk), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_CORRUPT" && e.message.includes(junk));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("two processes writing to one new database at once: no error, both sets of rows", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const dbPath = path.join(dir, "models.db");
      const script = (who: string): string =>
        `import { ModelIndex } from ${JSON.stringify(importPathFor(path.resolve(HERE, "../../src/index/model-index.ts")))};\n` +
        `import { makeRecord } from ${JSON.stringify(importPathFor(path.resolve(HERE, "../helpers/index-records.ts")))};\n` +
        `const index = ModelIndex.open(${JSON.stringify(dbPath)});\n` +
        `for (let i = 0; i < 150; i++) {\n` +
        `  index.upsert(makeRecord({ id: "${who}/" + i, officialName: "${who} model " + i, tags: ["${who}"] }));\n` +
        `  if (i % 10 === 0) index.search("model");\n` +
        `}\n` +
        `index.close();\n`;
      const runs = ["alpha", "beta"].map(
        (who) =>
          new Promise<{ code: number | null; err: string }>((resolve) => {
            const child = spawn(process.execPath, [...EVAL_LOADER, "--input-type=module", "-e", script(who)], { stdio: ["ignore", "ignore", "pipe"] });
            let err = "";
            child.stderr.on("data", (d: Buffer) => (err += d.toString()));
            child.on("exit", (code) => resolve({ code, err }));
          }),
      );
      for (const r of await Promise.all(runs)) assert.equal(r.code, 0, r.err);
      const index = ModelIndex.open(dbPath);
      try {
        assert.equal(index.count(), 300);
        assert.equal(index.search("alpha").totalCount, 150);
        assert.equal(index.search("", { tags: ["beta"] }).totalCount, 150);
      } finally {
        index.close();
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ModelIndex.modelFiles", () => {
  test(
    "every model in name order with its rule fields and files (none listed: an empty list), in one call",
    withIndex((index) => {
      index.upsert(makeRecord({ id: "b/b/zeta", officialName: "Zeta", modelType: "llm", family: "qwen", format: "gguf", tags: ["Chat"], files: [
        { name: "z-00002-of-00002.gguf", size: 20, sha256: null, blake3: null, fastHash: null },
        { name: "z-00001-of-00002.gguf", size: 10, sha256: null, blake3: null, fastHash: null },
      ] }));
      index.upsert(makeRecord({ id: "a/a/alpha", officialName: "alpha", modelType: "diffusion", subtype: "loras", metaMtimeMs: 5, metaSize: 6 }));
      const all = index.modelFiles();
      assert.deepEqual(all.map((m) => m.id), ["a/a/alpha", "b/b/zeta"], "name order, case-insensitive as search's sort");
      assert.deepEqual(all[0], { id: "a/a/alpha", officialName: "alpha", modelType: "diffusion", subtype: "loras", family: null, format: null, tags: [], files: [], metaMtimeMs: 5, metaSize: 6 });
      assert.deepEqual(all[1].files, [{ name: "z-00001-of-00002.gguf", size: 10 }, { name: "z-00002-of-00002.gguf", size: 20 }]);
      assert.deepEqual(all[1].tags, ["Chat"]);
      index.delete("a/a/alpha");
      assert.deepEqual(index.modelFiles().map((m) => m.id), ["b/b/zeta"]);
    }),
  );
});
