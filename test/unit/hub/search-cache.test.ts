// The Hub cache (the original's, key fixed): a search without a kind is replaced, not duplicated; TTL; reuse of repo
// details until the repo changes; LRU eviction past the budget, with the searches that named evicted repos.
import { test } from "node:test";
import assert from "node:assert/strict";
import Database from "better-sqlite3";
import { join } from "node:path";
import { HubCache } from "../../../src/hub/search-cache.js";
import type { HubModel } from "../../../src/hub/convert-model.js";
import { tempDir } from "../../helpers/library-fixtures.js";

const model = (repoId: string, releaseDate = "2025-01-01T00:00:00.000Z"): HubModel => ({
  repoId, name: repoId.split("/")[1], developer: repoId.split("/")[0], kind: "text-generation", formats: ["gguf"], quants: ["Q4_K_M"],
  downloadOptions: [{ quant: "Q4_K_M", sizeBytes: 10, files: ["x.gguf"] }], url: `https://hf.co/${repoId}`, releaseDate, downloads: 1, likes: 0,
  totalSizeBytes: 10, compatibleEngines: ["llama.cpp", "ollama"], tags: [], gated: false,
});

test("a search without a kind is replaced in place (the original piled up NULL-kind rows)", () => {
  const t = tempDir();
  try {
    const c = HubCache.open(t.dir);
    c.putSearch({ query: "Llama ", limit: 5 }, [model("a/one")]);
    c.putSearch({ query: "llama", limit: 5 }, [model("a/two")]);
    assert.deepEqual(c.getSearch({ query: "LLAMA", limit: 5 })?.map((m) => m.repoId), ["a/two"]);
    assert.equal(c.stats().searchCount, 1);
    c.putSearch({ query: "llama", kind: "llm", limit: 5 }, [model("a/one")]);
    assert.equal(c.stats().searchCount, 2);
    c.close();
  } finally {
    t.cleanup();
  }
});

test("TTL: an old search is a miss (any age offline); repo details reused until the repo is newer", () => {
  const t = tempDir();
  try {
    const c = HubCache.open(t.dir);
    const day = 86_400_000;
    const now = Date.now();
    c.putSearch({ query: "q", limit: 5 }, [model("a/one")], now - 2 * day);
    assert.equal(c.getSearch({ query: "q", limit: 5 }, { now }), null);
    assert.equal(c.getSearch({ query: "q", limit: 5 }, { now, anyAge: true })?.length, 1);
    assert.ok(c.getDetails("a/one", "2025-01-01T00:00:00.000Z", now), "unchanged repo: reused");
    assert.equal(c.getDetails("a/one", "2026-01-01T00:00:00.000Z", now), null, "repo changed since: refetch");
    c.close();
  } finally {
    t.cleanup();
  }
});

test("LRU eviction past the budget drops the least recently used repos and their searches", () => {
  const t = tempDir();
  try {
    const c = HubCache.open(t.dir);
    const now = Date.now();
    c.putSearch({ query: "old", limit: 1 }, [model("a/old")], now - 10_000);
    c.putSearch({ query: "new", limit: 1 }, [model("a/new")], now - 5000);
    c.getSearch({ query: "new", limit: 1 }, { now }); // touch
    const one = c.stats().totalSizeBytes / 2;
    c.setSetting("maxSizeBytes", Math.ceil(one * 1.5));
    assert.equal(c.evict(), 1);
    assert.equal(c.getSearch({ query: "old", limit: 1 }), null);
    assert.equal(c.getSearch({ query: "new", limit: 1 })?.length, 1);
    assert.equal(c.stats().searchCount, 1);
    c.close();
  } finally {
    t.cleanup();
  }
});

test("a damaged cache file is replaced, not fatal", async () => {
  const t = tempDir();
  try {
    const { writeFileSync } = await import("node:fs");
    writeFileSync(join(t.dir, "hub-cache.sqlite"), "not a database at all, just text".repeat(100));
    const c = HubCache.open(t.dir);
    c.putSearch({ query: "x", limit: 1 }, [model("a/x")]);
    assert.equal(c.getSearch({ query: "x", limit: 1 })?.length, 1);
    c.close();
    new Database(join(t.dir, "hub-cache.sqlite")).close();
  } finally {
    t.cleanup();
  }
});
