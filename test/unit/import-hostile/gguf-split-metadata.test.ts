// llama.cpp's gguf-split writes the model's metadata into the first shard only; the other shards carry tensors and
// the split.* keys, and the last one is often not the smallest. The set was described by its largest shard, so a
// split model whose shard 2 was larger lost its family, name and context (stored as llm/unknown/...).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../../src/identify/identify.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { buildGguf, buildTinyLlamaGguf, type GgufKvSpec } from "../../../src/demo/gguf-writer.js";
import { withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

const splitKv = (no: number): GgufKvSpec[] => [
  { key: "split.no", type: "uint16", value: no },
  { key: "split.count", type: "uint16", value: 2 },
  { key: "split.tensors.count", type: "int32", value: 13 },
];

function writeSplit(dir: string): string[] {
  mkdirSync(dir, { recursive: true });
  const first = buildTinyLlamaGguf({ name: "Split Llama", contextLength: 4096, extraKv: splitKv(0) });
  const second = buildGguf({ kv: splitKv(1), tensors: [{ name: "blk.1.ffn_up.weight", shape: [64, 256], type: "F16" }] });
  assert.ok(second.length > first.length, "the second shard must be the larger for this test");
  const files = [join(dir, "sl-00001-of-00002.gguf"), join(dir, "sl-00002-of-00002.gguf")];
  writeFileSync(files[0], first);
  writeFileSync(files[1], second);
  return files;
}

test("a split GGUF is described by its first shard, with every shard's parameters", async () => {
  await withTempLibrary(async (_lib, src) => {
    writeSplit(src);
    const ident = await identify(src);
    assert.deepEqual([ident.family, ident.name, ident.contextLength], ["llama", "Split Llama", 4096]);
    const first = await identify(join(src, "sl-00001-of-00002.gguf"));
    assert.equal(ident.parameterCount, first.parameterCount! + 64 * 256);
  });
});

test("import of a split GGUF named by its second shard keeps the family and name", async () => {
  await withTempLibrary(async (lib, src) => {
    const files = writeSplit(src);
    const summary = await importModels(lib, { paths: [files[1]] });
    assert.equal(summary.imported, 1, JSON.stringify(summary.results));
    assert.equal(summary.results[0].family, "llama");
    assert.match(summary.results[0].modelId!, /^llm\/llama\//);
  });
});
