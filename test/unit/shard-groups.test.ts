// groupShards: the one shard grouping (import planning, shard-set folders, orphan folders, detectShardedSets).
import { test } from "node:test";
import assert from "node:assert/strict";
import { groupShards } from "../../src/formats/sharding.js";

test("groups by set and folder, in first-seen order; a file that is no shard is its own group", () => {
  const groups = groupShards([
    "readme.gguf",
    "model-00002-of-00003.safetensors",
    "sub/model-00001-of-00003.safetensors",
    "model-00001-of-00003.safetensors",
    "other.gguf",
  ]);
  assert.deepEqual(groups, [
    { setKey: null, names: ["readme.gguf"], isSet: false },
    { setKey: "model.safetensors", names: ["model-00002-of-00003.safetensors", "model-00001-of-00003.safetensors"], isSet: true },
    { setKey: "sub/model.safetensors", names: ["sub/model-00001-of-00003.safetensors"], isSet: true },
    { setKey: null, names: ["other.gguf"], isSet: false },
  ]);
});

test("a lone shard is a set only when its name declares more files", () => {
  assert.deepEqual(groupShards(["x-00001-of-00002.gguf"]).map((g) => g.isSet), [true]);
  assert.deepEqual(groupShards(["x-00001-of-00001.gguf"]).map((g) => g.isSet), [false]);
  assert.deepEqual(groupShards(["x_00001.safetensors"]).map((g) => g.isSet), [false]);
  assert.deepEqual(groupShards(["x_00001.safetensors", "x_00002.safetensors"]).map((g) => g.isSet), [true]);
  assert.deepEqual(groupShards(["m.safetensors.part1", "m.safetensors.part2"]).map((g) => [g.setKey, g.isSet]), [["m.safetensors", true]]);
});

test("a file named like a set's key stays apart from the set", () => {
  const groups = groupShards(["model.safetensors", "model-00001-of-00002.safetensors", "model-00002-of-00002.safetensors"]);
  assert.deepEqual(groups.map((g) => [g.setKey, g.names.length]), [[null, 1], ["model.safetensors", 2]]);
});
