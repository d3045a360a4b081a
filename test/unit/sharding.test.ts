import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import {
  detectShardedSets,
  extractShardInfo,
  missingIndexedFiles,
  missingShardNames,
  readShardIndex,
  shardInfoOf,
  validateShardCompleteness,
  MAX_INDEX_BYTES,
} from "../../src/formats/sharding.js";
import { ModelLibraryError } from "../../src/core/errors.js";

const isError = (code: string, re?: RegExp) => (e: unknown) =>
  e instanceof ModelLibraryError && e.code === code && (!re || re.test(e.message));

describe("detectShardedSets (the original's cases)", () => {
  test("pattern 1: -NNNNN-of-NNNNN", () => {
    const sets = detectShardedSets(["model-00002-of-00003.safetensors", "model-00001-of-00003.safetensors", "model-00003-of-00003.safetensors"]);
    assert.deepEqual([...sets.keys()], ["model.safetensors"]);
    assert.deepEqual(sets.get("model.safetensors"), [
      "model-00001-of-00003.safetensors",
      "model-00002-of-00003.safetensors",
      "model-00003-of-00003.safetensors",
    ]);
  });

  test("pattern 1 covers gguf-split names", () => {
    const sets = detectShardedSets(["qwen-7b-q4_k_m-00001-of-00002.gguf", "qwen-7b-q4_k_m-00002-of-00002.gguf"]);
    assert.deepEqual(sets.get("qwen-7b-q4_k_m.gguf"), ["qwen-7b-q4_k_m-00001-of-00002.gguf", "qwen-7b-q4_k_m-00002-of-00002.gguf"]);
  });

  test("pattern 2: .partN", () => {
    const sets = detectShardedSets(["model.safetensors.part2", "model.safetensors.part1"]);
    assert.deepEqual(sets.get("model.safetensors"), ["model.safetensors.part1", "model.safetensors.part2"]);
  });

  test("pattern 3: _NNNNN", () => {
    const sets = detectShardedSets(["model_00001.safetensors", "model_00002.safetensors"]);
    assert.deepEqual(sets.get("model.safetensors"), ["model_00001.safetensors", "model_00002.safetensors"]);
  });

  test("mixed: 3 shards, standalone.gguf and another.bin give 3 groups", () => {
    const sets = detectShardedSets([
      "model-00001-of-00003.safetensors",
      "model-00002-of-00003.safetensors",
      "model-00003-of-00003.safetensors",
      "standalone.gguf",
      "another.bin",
    ]);
    assert.equal(sets.size, 3);
    assert.equal(sets.get("model.safetensors")?.length, 3);
    assert.deepEqual(sets.get("standalone.gguf"), ["standalone.gguf"]);
    assert.deepEqual(sets.get("another.bin"), ["another.bin"]);
  });

  test("a single shard is not grouped: keyed by its own name", () => {
    const sets = detectShardedSets(["model-00001-of-00003.safetensors"]);
    assert.deepEqual([...sets.entries()], [["model-00001-of-00003.safetensors", ["model-00001-of-00003.safetensors"]]]);
  });

  test("empty input gives an empty map", () => {
    assert.equal(detectShardedSets([]).size, 0);
  });

  test("pytorch_model pattern: grouped as pytorch_model.bin and complete", () => {
    const files = ["pytorch_model-00002-of-00002.bin", "pytorch_model-00001-of-00002.bin"];
    const sets = detectShardedSets(files);
    assert.deepEqual(sets.get("pytorch_model.bin"), ["pytorch_model-00001-of-00002.bin", "pytorch_model-00002-of-00002.bin"]);
    assert.equal(validateShardCompleteness(sets.get("pytorch_model.bin")!).isComplete, true);
  });

  test("files are sorted by name (not by folder or input order)", () => {
    const sets = detectShardedSets(["m-00003-of-00003.gguf", "m-00001-of-00003.gguf", "m-00002-of-00003.gguf"]);
    assert.deepEqual(sets.get("m.gguf"), ["m-00001-of-00003.gguf", "m-00002-of-00003.gguf", "m-00003-of-00003.gguf"]);
  });

  test("paths in different folders never share a set; keys carry the folder", () => {
    const sets = detectShardedSets(["a/model-00001-of-00002.safetensors", "b/model-00002-of-00002.safetensors", "a/model-00002-of-00002.safetensors"]);
    assert.deepEqual(sets.get("a/model.safetensors"), ["a/model-00001-of-00002.safetensors", "a/model-00002-of-00002.safetensors"]);
    assert.deepEqual(sets.get("b/model-00002-of-00002.safetensors"), ["b/model-00002-of-00002.safetensors"]);
    assert.equal(sets.size, 2);
  });

  test("a standalone file named like a set's key does not hide the set", () => {
    const sets = detectShardedSets(["model.safetensors", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
    assert.deepEqual(sets.get("model.safetensors"), ["model.safetensors"]);
    assert.equal(sets.get("model.safetensors (shards)")?.length, 2);
  });
});

describe("validateShardCompleteness (the original's cases)", () => {
  test("complete: total 3, found [1,2,3]", () => {
    const v = validateShardCompleteness(["m-00001-of-00003.safetensors", "m-00002-of-00003.safetensors", "m-00003-of-00003.safetensors"]);
    assert.deepEqual(v, { isComplete: true, totalShards: 3, foundShards: [1, 2, 3], missingShards: [] });
  });

  test("missing: found [1,3,5], missing [2,4]", () => {
    const v = validateShardCompleteness(["m-00005-of-00005.bin", "m-00001-of-00005.bin", "m-00003-of-00005.bin"]);
    assert.equal(v.isComplete, false);
    assert.equal(v.totalShards, 5);
    assert.deepEqual(v.foundShards, [1, 3, 5]);
    assert.deepEqual(v.missingShards, [2, 4]);
    assert.equal(v.error, undefined);
  });

  test("inconsistent totals: not complete, error names it, total is the first seen", () => {
    const v = validateShardCompleteness(["m-00001-of-00003.bin", "m-00002-of-00004.bin"]);
    assert.equal(v.isComplete, false);
    assert.equal(v.totalShards, 3);
    assert.deepEqual(v.foundShards, [1]);
    assert.match(v.error ?? "", /Inconsistent shard counts in filenames/);
  });

  test("empty: not complete, total 0", () => {
    assert.deepEqual(validateShardCompleteness([]), { isComplete: false, totalShards: 0, foundShards: [], missingShards: [] });
  });

  test("no pattern: .partN files are assumed complete, total 2", () => {
    const v = validateShardCompleteness(["model.safetensors.part1", "model.safetensors.part2"]);
    assert.deepEqual(v, { isComplete: true, totalShards: 2, foundShards: [1, 2], missingShards: [] });
  });

  test("duplicates count once; paths are reduced to file names", () => {
    const v = validateShardCompleteness(["x/m-00001-of-00002.gguf", "y/m-00001-of-00002.gguf"]);
    assert.deepEqual(v.foundShards, [1]);
    assert.deepEqual(v.missingShards, [2]);
  });

  test("an index outside 1..total makes the set incomplete (the original called it complete)", () => {
    const v = validateShardCompleteness(["m-00000-of-00002.gguf", "m-00001-of-00002.gguf", "m-00002-of-00002.gguf", "m-00007-of-00002.gguf"]);
    assert.equal(v.isComplete, false);
    assert.deepEqual(v.missingShards, []);
    assert.match(v.error ?? "", /0, 7 outside 1\.\.2/);
  });

  test("an absurd declared total is refused without building a huge list", () => {
    const v = validateShardCompleteness(["m-1-of-99999999999.gguf"]);
    assert.equal(v.isComplete, false);
    assert.deepEqual(v.missingShards, []);
    assert.match(v.error ?? "", /limit/);
  });

  test("serialization round-trip; error is absent from JSON when there is none", () => {
    const v = validateShardCompleteness(["m-00001-of-00002.gguf"]);
    const json = JSON.stringify(v);
    assert.ok(!json.includes("error"));
    assert.deepEqual(JSON.parse(json), v);
    const bad = validateShardCompleteness(["m-00001-of-00002.gguf", "m-00001-of-00003.gguf"]);
    assert.deepEqual(JSON.parse(JSON.stringify(bad)), bad);
  });
});

describe("extractShardInfo / shardInfoOf", () => {
  test("pattern 1 gives a total", () => {
    assert.deepEqual(extractShardInfo("model-00002-of-00005.safetensors"), { baseKey: "model.safetensors", index: 2, total: 5 });
  });
  test("pattern 2 gives no total", () => {
    assert.deepEqual(extractShardInfo("model.safetensors.part3"), { baseKey: "model.safetensors", index: 3, total: null });
  });
  test("pattern 3 gives no total", () => {
    assert.deepEqual(extractShardInfo("model_00004.safetensors"), { baseKey: "model.safetensors", index: 4, total: null });
  });
  test("no match", () => {
    assert.equal(extractShardInfo("regular_model.safetensors"), null);
    assert.equal(extractShardInfo("model_0001.safetensors"), null); // pattern 3 needs exactly 5 digits
  });
  test("shardInfoOf: ShardInfo shape, folders ignored", () => {
    assert.deepEqual(shardInfoOf("sub/dir/name-00001-of-00003.gguf"), { index: 1, total: 3, setKey: "name.gguf" });
    assert.equal(shardInfoOf("sub/model.gguf"), null);
  });
});

describe("missingShardNames", () => {
  test("keeps the set's zero padding and total text", () => {
    assert.deepEqual(missingShardNames(["model-00001-of-00003.safetensors", "model-00003-of-00003.safetensors"]), ["model-00002-of-00003.safetensors"]);
    assert.deepEqual(missingShardNames(["m-1-of-3.gguf"]), ["m-2-of-3.gguf", "m-3-of-3.gguf"]);
  });
  test("a complete set, or files declaring no total, miss nothing", () => {
    assert.deepEqual(missingShardNames(["m-00001-of-00002.bin", "m-00002-of-00002.bin"]), []);
    assert.deepEqual(missingShardNames(["model.safetensors", "model.safetensors.part1", "model_00002.safetensors"]), []);
    assert.deepEqual(missingShardNames([]), []);
  });
  test("sets that differ in base or total are checked each on its own", () => {
    const missing = missingShardNames(["a-00001-of-00002.gguf", "b-00002-of-00002.gguf", "a-00001-of-00003.gguf"]);
    assert.deepEqual(missing.sort(), ["a-00002-of-00002.gguf", "a-00002-of-00003.gguf", "a-00003-of-00003.gguf", "b-00001-of-00002.gguf"]);
  });
  test("an absurd total is refused", () => {
    assert.throws(() => missingShardNames(["m-1-of-99999999999.gguf"]), isError("E_TOO_LARGE"));
  });
  test("missingIndexedFiles lists the index's files the folder lacks", () => {
    assert.deepEqual(missingIndexedFiles(["a.safetensors", "b.safetensors"], ["b.safetensors", "config.json"]), ["a.safetensors"]);
  });
});

describe("readShardIndex", () => {
  let dir: string;
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  const write = (name: string, content: string | Buffer): string => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, content);
    return p;
  };

  test("distinct sorted files, tensor count, total size", async () => {
    const p = write(
      "model.safetensors.index.json",
      JSON.stringify({
        metadata: { total_size: 300 },
        weight_map: { "a.weight": "model-00002-of-00002.safetensors", "b.weight": "model-00001-of-00002.safetensors", "c.bias": "model-00001-of-00002.safetensors" },
      }),
    );
    assert.deepEqual(await readShardIndex(p), { totalSize: 300, files: ["model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"], tensorCount: 3 });
  });

  test("no metadata: totalSize null", async () => {
    const p = write("pytorch_model.bin.index.json", JSON.stringify({ weight_map: { x: "pytorch_model-00001-of-00001.bin" } }));
    assert.deepEqual(await readShardIndex(p), { totalSize: null, files: ["pytorch_model-00001-of-00001.bin"], tensorCount: 1 });
  });

  const hostile: [string, string, string, RegExp][] = [
    ["traversal", JSON.stringify({ weight_map: { w: "../../etc/passwd" } }), "E_INVALID", /'\.\.'/],
    ["absolute", JSON.stringify({ weight_map: { w: "/etc/passwd" } }), "E_INVALID", /absolute/],
    ["backslash", JSON.stringify({ weight_map: { w: "..\\x" } }), "E_INVALID", /backslash/],
    ["not JSON", "{ weight_map", "E_INVALID", /not valid JSON/],
    ["array", "[]", "E_INVALID", /not a JSON object/],
    ["no weight_map", JSON.stringify({ metadata: {} }), "E_INVALID", /weight_map/],
    ["non-string file", JSON.stringify({ weight_map: { w: 3 } }), "E_INVALID", /not a file name/],
  ];
  for (const [label, content, code, re] of hostile) {
    test(`hostile index: ${label} → ${code}, naming the file`, async () => {
      const p = write(`bad-${label.replace(/\W/g, "_")}.index.json`, content);
      await assert.rejects(readShardIndex(p), (e: unknown) => isError(code, re)(e) && (e as Error).message.includes(p));
    });
  }

  test("invalid UTF-8 → E_INVALID", async () => {
    const p = write("utf8.index.json", Buffer.from([0x7b, 0xff, 0x7d]));
    await assert.rejects(readShardIndex(p), isError("E_INVALID", /UTF-8/));
  });

  test("an index over the 64 MiB cap is refused before reading (sparse file)", async () => {
    const p = path.join(dir, "huge.index.json");
    fs.writeFileSync(p, "{");
    fs.truncateSync(p, MAX_INDEX_BYTES + 1);
    await assert.rejects(readShardIndex(p), isError("E_TOO_LARGE"));
  });

  test("a missing file → E_IO naming it", async () => {
    const p = path.join(dir, "nope.index.json");
    await assert.rejects(readShardIndex(p), (e: unknown) => isError("E_IO", /ENOENT/)(e) && (e as Error).message.includes(p));
  });
});
