import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import Database from "better-sqlite3";
import { ModelIndex } from "../../src/index/model-index.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import { ModelLibrary } from "../../src/store/model-library.js";
import { normalizeMetadata } from "../../src/store/metadata.js";
import { recordFromParsed } from "../../src/store/record.js";
import { ROW_FIELDS, modelValues } from "../../src/index/index-rows.js";
import type { IndexRecord } from "../../src/index/index-types.js";
import { fakeHash, makeRecord } from "../helpers/index-records.js";

function tmpDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "mlib-bulk-"));
}

/** A varied set: names sharing words, mixed-case tags, shared and per-file hashes, nulls, files in sub-folders. */
function corpus(n: number): IndexRecord[] {
  const fams = ["llama", "qwen", null, "sdxl"];
  const out: IndexRecord[] = [];
  for (let i = 0; i < n; i++) {
    const fam = fams[i % fams.length];
    out.push(
      makeRecord({
        id: `t${i % 3}/${fam ?? "unknown"}/m${i}`,
        officialName: `${fam ?? "Mystery"}-${i % 7 === 0 ? "Coder" : "Chat"} ${i}B`,
        family: fam,
        modelType: i % 3 === 0 ? "llm" : "diffusion",
        subtype: i % 5 === 0 ? "loras" : null,
        format: i % 2 ? "gguf" : "safetensors",
        quantization: i % 2 ? "Q4_K_M" : null,
        tags: i % 4 === 0 ? ["Chat", " gguf ", ""] : ["chat", `tag${i % 3}`],
        description: i % 6 === 0 ? `notes about ${fam ?? "nothing"} number ${i}` : null,
        sizeBytes: 1000 + i,
        sha256: i % 9 === 0 ? null : fakeHash(`s${i}`).toUpperCase(),
        blake3: fakeHash(`b${i}`),
        files: [
          { name: `w${i}.bin`, size: 600 + i, sha256: fakeHash(`s${i}`), blake3: fakeHash(`b${i}`), fastHash: fakeHash(`f${i}`) },
          { name: `sub/shared.bin`, size: 400, sha256: fakeHash("shared"), blake3: null, fastHash: i % 2 ? fakeHash("fshared") : null },
        ],
      }),
    );
  }
  return out;
}

/** Everything a caller can see of an index, to compare two of them. */
function snapshot(index: ModelIndex, records: IndexRecord[]): unknown {
  const strip = (r: { models: unknown[]; totalCount: number }) => ({ total: r.totalCount, models: JSON.parse(JSON.stringify(r.models)) as unknown });
  const queries = ["", "llama", "chat", "coder 7", "c", "qw", "notes", "mystery", "gguf"];
  return {
    ids: index.allIds(),
    stats: index.stats(),
    searches: queries.flatMap((q) => [
      strip(index.search(q, { limit: 5 })),
      strip(index.search(q, { limit: 5, offset: 3, sort: "name" })),
      strip(index.search(q, { tags: ["CHAT", "gguf"], tagMode: "all" })),
      strip(index.search(q, { families: ["unknown", "qwen"], formats: ["gguf"] })),
    ]),
    facets: index.facets("chat"),
    hashes: records.flatMap((r) => [r.sha256, r.blake3, ...r.files.map((f) => f.fastHash)]).map((h) => (h ? index.findByHash(h)?.id : null)),
    dupes: index.findFilesBySizeAndFastHash(400, fakeHash("fshared")),
    sync: [...index.syncState()],
  };
}

function indexNames(dbPath: string): string[] {
  const db = new Database(dbPath, { readonly: true });
  try {
    return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'index' ORDER BY name").pluck().all() as string[]);
  } finally {
    db.close();
  }
}

describe("ModelIndex.bulkReplace", () => {
  test("gives exactly what one upsert per record gives, and replaces what was there", () => {
    const dir = tmpDir();
    const records = corpus(120);
    const a = ModelIndex.open(path.join(dir, "a.db"));
    const b = ModelIndex.open(path.join(dir, "b.db"));
    try {
      for (const r of records) a.upsert(r);
      for (const r of corpus(30).map((r) => ({ ...r, id: `old/${r.id}` }))) b.upsert(r);
      const before = indexNames(path.join(dir, "b.db"));
      const loader = b.bulkReplace();
      for (const r of records) loader.add(r);
      assert.equal(loader.finish(), records.length);
      assert.deepEqual(snapshot(b, records), snapshot(a, records));
      assert.deepEqual(indexNames(path.join(dir, "b.db")), before, "secondary indexes built again");
      // upserts and deletes after a bulk load work as usual
      b.upsert({ ...records[0], officialName: "Renamed Zebra" });
      assert.deepEqual(b.search("zebra").models.map((m) => m.id), [records[0].id]);
      assert.equal(b.delete(records[1].id), true);
      assert.equal(b.count(), records.length - 1);
    } finally {
      a.close();
      b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("other connections read the old index until finish(); abort() keeps it whole", () => {
    const dir = tmpDir();
    const dbPath = path.join(dir, "models.db");
    const writer = ModelIndex.open(dbPath);
    const reader = ModelIndex.open(dbPath);
    try {
      for (const r of corpus(10)) writer.upsert(r);
      const before = indexNames(dbPath);
      const old = snapshot(reader, corpus(0));
      const loader = writer.bulkReplace();
      loader.add(makeRecord({ id: "new/one", officialName: "Brand New" }));
      assert.deepEqual(snapshot(reader, corpus(0)), old, "reader sees the old rows while loading");
      loader.abort();
      assert.equal(writer.count(), 10);
      assert.deepEqual(snapshot(writer, corpus(0)), old);
      assert.deepEqual(indexNames(dbPath), before);
      assert.throws(() => loader.add(makeRecord({ id: "late" })), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE");

      const again = writer.bulkReplace();
      again.add(makeRecord({ id: "new/one", officialName: "Brand New" }));
      assert.equal(reader.count(), 10);
      again.finish();
      assert.equal(reader.count(), 1);
      assert.deepEqual(reader.search("brand").models.map((m) => m.id), ["new/one"]);
    } finally {
      writer.close();
      reader.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a bad record or a repeated id is refused before anything of it is written; the load goes on", () => {
    const dir = tmpDir();
    const index = ModelIndex.open(path.join(dir, "models.db"));
    try {
      const loader = index.bulkReplace();
      loader.add(makeRecord({ id: "ok", tags: ["x"] }));
      const usage = (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE";
      assert.throws(() => loader.add({ ...makeRecord({ id: "bad" }), sizeBytes: Number.NaN }), usage);
      assert.throws(() => loader.add(makeRecord({ id: "ok", tags: ["y"] })), usage);
      loader.add(makeRecord({ id: "ok2" }));
      assert.equal(loader.finish(), 2);
      assert.deepEqual(index.allIds(), ["ok", "ok2"]);
      assert.deepEqual(index.search("", { tags: ["y"] }).totalCount, 0);
      assert.throws(() => index.transaction(() => index.bulkReplace()), usage);
    } finally {
      index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ModelIndex.upsertMany", () => {
  test("gives exactly what one upsert per record gives: new models, replaced ones, a record listed twice", () => {
    const dir = tmpDir();
    const records = corpus(120);
    const a = ModelIndex.open(path.join(dir, "a.db"));
    const b = ModelIndex.open(path.join(dir, "b.db"));
    try {
      // Both start with a third of the models under other values; then the rest and a changed copy arrive.
      const first = records.slice(0, 40).map((r) => ({ ...r, officialName: `Old ${r.officialName}`, tags: ["old"], files: r.files.slice(0, 1) }));
      const next = [...records, { ...records[5], officialName: "Twice Zebra", tags: ["twice"] }];
      for (const r of first) a.upsert(r);
      a.transaction(() => {
        for (const r of next) a.upsert(r);
      });
      b.upsertMany(first);
      b.upsertMany(next);
      assert.deepEqual(snapshot(b, records), snapshot(a, records));
      assert.deepEqual(b.search("zebra").models.map((m) => m.id), [records[5].id]);
      assert.equal(b.search("old").totalCount, 0, "a replaced model's old text and tags are gone");
      // inside a caller's transaction it joins it: a rollback takes its rows too
      assert.throws(() =>
        b.transaction(() => {
          b.upsertMany([makeRecord({ id: "x/y/rolled-back" })]);
          throw new Error("stop");
        }),
      );
      assert.equal(b.get("x/y/rolled-back"), null);
      b.upsertMany([]);
      assert.equal(b.count(), records.length);
    } finally {
      a.close();
      b.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a bad record anywhere in the list is refused before anything is written", () => {
    const dir = tmpDir();
    const index = ModelIndex.open(path.join(dir, "models.db"));
    try {
      const bad = { ...makeRecord({ id: "b/b/bad" }), sizeBytes: "big" } as unknown as IndexRecord;
      assert.throws(() => index.upsertMany([makeRecord({ id: "a/a/good" }), bad]), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_USAGE" && /sizeBytes/.test(e.message));
      assert.equal(index.count(), 0);
    } finally {
      index.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("ROW_FIELDS (the one list of a models row's columns)", () => {
  test("is the models table's columns after doc_id and id, and modelValues gives each field's value at its place", () => {
    const dir = tmpDir();
    const index = ModelIndex.open(path.join(dir, "models.db"));
    index.close();
    const db = new Database(path.join(dir, "models.db"), { readonly: true });
    try {
      const columns = (db.prepare("PRAGMA table_info(models)").all() as { name: string }[]).map((c) => c.name);
      assert.deepEqual(columns, ["doc_id", "id", ...ROW_FIELDS.map(([c]) => c)]);
    } finally {
      db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
    // Every field a distinct value: modelValues must put each where ROW_FIELDS says.
    const r = makeRecord({
      id: "x/y/z",
      path: "/p",
      officialName: "Official",
      cleanedName: "cleaned",
      modelType: "llm",
      subtype: "sub",
      family: "fam",
      format: "fmt",
      quantization: "Q4",
      architecture: "arch",
      tags: ["t1"],
      sizeBytes: 11,
      parameterCount: 12,
      contextLength: 13,
      sha256: "AA",
      blake3: "BB",
      addedAt: "added",
      updatedAt: "updated",
      metaMtimeMs: 14,
      metaSize: 15,
    });
    const expected = ROW_FIELDS.map(([, field]) => {
      const v = r[field];
      return field === "tags" ? JSON.stringify(v) : field === "sha256" || field === "blake3" ? (v as string).toLowerCase() : v;
    });
    assert.deepEqual(modelValues(r), expected);
  });
});

describe("recordFromParsed", () => {
  test("maps raw JSON exactly as normalizeMetadata first and then mapping does, whatever the types", () => {
    const st = { mtimeMs: 1, size: 2 };
    const raws: unknown[] = [
      {},
      null,
      [1, 2],
      "text",
      { official_name: "", cleaned_name: 5, model_type: "LLM", tags: ["a", 3, null, "b"], family: ["x"], size_bytes: "9" },
      { files: [{ name: "a", size: 3, sha256: "", blake3: 7, fast_hash: "F" }, { size: 1 }, null, "x", { name: 4 }], hashes: { sha256: "S", blake3: null } },
      { files: "nope", hashes: [1], description: "d", notes: "n", repo_id: "r", parameter_count: Infinity, context_length: 4096 },
      { added_date: "2024", updated_date: "2025", quantization: "Q4", subtype: "loras", architecture: null, format: "gguf", extra: { a: 1 } },
    ];
    for (const raw of raws) {
      const direct = recordFromParsed("t/f/m", "/lib/t/f/m", raw, st);
      const viaNormalize = recordFromParsed("t/f/m", "/lib/t/f/m", normalizeMetadata(raw), st);
      // updatedAt falls back to "now" when absent: compare the rest.
      if (!(raw && typeof raw === "object" && "updated_date" in raw)) viaNormalize.updatedAt = direct.updatedAt;
      assert.deepEqual(direct, viaNormalize, JSON.stringify(raw));
    }
  });
});

describe("ModelLibrary.reindex (bulk)", () => {
  test("indexes every model folder at any depth, skips dot folders, reports unreadable metadata and keeps going", async () => {
    const root = tmpDir();
    const write = (rel: string, text: string): void => {
      fs.mkdirSync(path.join(root, rel), { recursive: true });
      fs.writeFileSync(path.join(root, rel, "metadata.json"), text);
    };
    write("llm/qwen/qwen_a", JSON.stringify({ official_name: "Qwen A", model_type: "llm", family: "qwen", tags: ["chat"] }));
    write("llm/qwen/qwen_b", JSON.stringify({ official_name: "Qwen B", model_type: "llm", family: "qwen", size_bytes: 7 }));
    write("diffusion/sdxl/loras/deep_one", JSON.stringify({ official_name: "Deep One", model_type: "diffusion" }));
    write("llm/qwen/broken", "{ not json");
    write(".staging/ghost", JSON.stringify({ official_name: "Ghost" }));
    write(".model-library/staging/ghost", JSON.stringify({ official_name: "Ghost" }));
    fs.mkdirSync(path.join(root, "llm", "empty_family"), { recursive: true });
    const lib = await ModelLibrary.open(root, { reconcile: "none" });
    try {
      lib.index.upsert(makeRecord({ id: "gone/gone/gone" }));
      const report = await lib.reindex();
      assert.equal(report.mode, "rebuild");
      assert.equal(report.added, 3);
      assert.deepEqual(report.problems.map((p) => p.id), ["llm/qwen/broken"]);
      assert.match(report.problems[0].error, /metadata\.json\.bak/);
      assert.deepEqual(lib.allIds(), ["diffusion/sdxl/loras/deep_one", "llm/qwen/qwen_a", "llm/qwen/qwen_b"]);
      assert.equal(lib.search("deep").models[0]?.path, path.join(root, "diffusion/sdxl/loras/deep_one"));
      // The container mtimes were recorded: a quick reconcile right after finds nothing to do.
      const quick = await lib.reconcile("quick");
      assert.deepEqual([quick.added, quick.updated, quick.removed], [0, 0, 0]);
      write("llm/qwen/qwen_c", JSON.stringify({ official_name: "Qwen C" }));
      assert.equal((await lib.reconcile("quick")).added, 1);
    } finally {
      lib.close();
      fs.rmSync(root, { recursive: true, force: true });
    }
  });
});
