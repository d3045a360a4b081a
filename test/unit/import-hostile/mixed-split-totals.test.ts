// Two split models under one base name, one in 2 shards and one in 3 (two quantizations, or a re-split beside the
// old split): they were grouped as ONE model of five files, "complete", and stored so.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { groupShards } from "../../../src/formats/sharding.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

const NAMES = ["model-00001-of-00002.gguf", "model-00002-of-00002.gguf", "model-00001-of-00003.gguf", "model-00002-of-00003.gguf", "model-00003-of-00003.gguf"];

test("groupShards: shards declaring different totals are different sets, with different keys", () => {
  const groups = groupShards(NAMES);
  assert.deepEqual(groups.map((g) => g.names.length), [2, 3]);
  assert.deepEqual(groups.map((g) => g.setKey), ["model.gguf", "model-of-00003.gguf"]);
});

test("import stores a 2-shard and a 3-shard model under one base name as two models", async () => {
  await withTempLibrary(async (lib, src) => {
    mkdirSync(src, { recursive: true });
    for (const n of NAMES) writeFileSync(join(src, n), buildTinyLlamaGguf({ name: n }));
    const summary = await importModels(lib, { paths: [src] });
    assert.equal(summary.imported, 2, JSON.stringify(summary.results));
    const stored = summary.results.map((r) => readdirSync(r.path!).filter((f) => f.endsWith(".gguf")).sort());
    assert.deepEqual(stored, [NAMES.slice(0, 2), NAMES.slice(2).sort()]);
  });
});
