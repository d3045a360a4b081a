// Real sharded Hugging Face layouts from ../shared/fixtures/sharded (index files + LFS-pointer shards),
// and the LFS pointer that stood in for a GGUF vocab file.
import { test } from "node:test";
import assert from "node:assert/strict";
import crypto from "node:crypto";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import {
  detectShardedSets,
  missingIndexedFiles,
  missingShardNames,
  readShardIndex,
  shardInfoOf,
  validateShardCompleteness,
} from "../../src/formats/sharding.js";
import { lfsPointerMessage, parseLfsPointer } from "../../src/formats/lfs-pointer.js";
import { readHead } from "../../src/formats/file-bytes.js";
import { sniffFormat } from "../../src/formats/sniff.js";

const fixtures = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));
const skip = fs.existsSync(fixtures) ? false : "../shared/fixtures not found";
const wizard = `${fixtures}sharded/wizardlm-2-8x22b/`;
const devstral = `${fixtures}sharded/devstral-small-2507-copy/`;
const graniteSharded = `${fixtures}sharded/granite-3.1-1b-a400m-instruct/sharded-at-0a854d48/`;
const graniteSingle = `${fixtures}sharded/granite-3.1-1b-a400m-instruct/single-file-at-HEAD/`;

const shardName = (i: number, total: number) => `model-${String(i).padStart(5, "0")}-of-${String(total).padStart(5, "0")}.safetensors`;
const range = (n: number) => Array.from({ length: n }, (_, i) => i + 1);

test("wizardlm-2-8x22b: index names 59 files, total_size 281241268224", { skip }, async () => {
  const index = await readShardIndex(`${wizard}model.safetensors.index.json`);
  assert.equal(index.totalSize, 281241268224);
  assert.deepEqual(index.files, range(59).map((i) => shardName(i, 59)));
  assert.equal(index.tensorCount, 1739);
});

test("wizardlm-2-8x22b: 59 shards form one complete set, each an LFS pointer whose oid is in huggingface-metadata.txt", { skip }, async () => {
  const names = fs.readdirSync(wizard).sort();
  const sets = detectShardedSets(names);
  const shards = sets.get("model.safetensors");
  assert.equal(shards?.length, 59);
  assert.deepEqual(validateShardCompleteness(shards!), { isComplete: true, totalShards: 59, foundShards: range(59), missingShards: [] });
  assert.deepEqual(missingShardNames(shards!), []);
  const index = await readShardIndex(`${wizard}model.safetensors.index.json`);
  assert.deepEqual(missingIndexedFiles(index.files, names), []);
  // Every other file stands alone.
  for (const [key, files] of sets) if (key !== "model.safetensors") assert.deepEqual(files, [key]);

  const metadata = fs.readFileSync(`${wizard}huggingface-metadata.txt`, "utf8");
  let pointerBytes = 0;
  for (const name of shards!) {
    const { bytes, size } = await readHead(wizard + name, 4096);
    assert.equal(sniffFormat(bytes, size, name), "lfs-pointer", name);
    const info = parseLfsPointer(bytes);
    assert.ok(info, name);
    assert.ok(metadata.includes(`${info.oid.slice("sha256:".length)} ${name}`), `${name}: oid not in huggingface-metadata.txt`);
    pointerBytes += info.size;
  }
  // The shards hold the tensors (total_size) plus one safetensors header each.
  assert.ok(pointerBytes > index.totalSize! && pointerBytes < index.totalSize! + 59 * 1024 * 1024);
});

test("wizardlm-2-8x22b: without shard 7 the set is incomplete and names the missing file", { skip }, () => {
  const names = fs.readdirSync(wizard).filter((n) => n !== shardName(7, 59));
  const shards = detectShardedSets(names).get("model.safetensors")!;
  const v = validateShardCompleteness(shards);
  assert.equal(v.isComplete, false);
  assert.deepEqual(v.missingShards, [7]);
  assert.deepEqual(missingShardNames(shards), [shardName(7, 59)]);
});

test("devstral-small-2507: index but no shards → every shard is missing", { skip }, async () => {
  const index = await readShardIndex(`${devstral}model.safetensors.index.json`);
  assert.equal(index.totalSize, 47144806400);
  assert.equal(index.tensorCount, 363);
  assert.deepEqual(index.files, range(10).map((i) => shardName(i, 10)));
  const present = fs.readdirSync(devstral);
  assert.deepEqual(missingIndexedFiles(index.files, present), index.files);
  // No shard file present: nothing to group, and the names alone cannot tell what is missing.
  assert.equal([...detectShardedSets(present).values()].filter((v) => v.length > 1).length, 0);
  // tekken.json is itself an LFS pointer.
  const { bytes, size } = await readHead(`${devstral}tekken.json`, 4096);
  assert.equal(sniffFormat(bytes, size, "tekken.json"), "lfs-pointer");
});

test("granite sharded layout: index of 2 shards, both present, pointer sizes as recorded", { skip }, async () => {
  const index = await readShardIndex(`${graniteSharded}model.safetensors.index.json`);
  assert.equal(index.totalSize, 5338513408);
  assert.deepEqual(index.files, [shardName(1, 2), shardName(2, 2)]);
  const names = fs.readdirSync(graniteSharded);
  assert.deepEqual(missingIndexedFiles(index.files, names), []);
  const shards = detectShardedSets(names).get("model.safetensors")!;
  assert.deepEqual(shards, [shardName(1, 2), shardName(2, 2)]);
  assert.equal(validateShardCompleteness(shards).isComplete, true);
  const sizes = [];
  for (const s of shards) sizes.push(parseLfsPointer(fs.readFileSync(graniteSharded + s))?.size);
  assert.deepEqual(sizes, [4923019144, 415520528]);
});

test("granite single-file layout: model.safetensors stands alone, no shard info", { skip }, async () => {
  const names = fs.readdirSync(graniteSingle).sort();
  const sets = detectShardedSets(names);
  assert.deepEqual(sets.get("model.safetensors"), ["model.safetensors"]);
  assert.equal([...sets.values()].every((v) => v.length === 1), true);
  assert.equal(shardInfoOf("model.safetensors"), null);
  const info = parseLfsPointer(fs.readFileSync(`${graniteSingle}model.safetensors`));
  assert.equal(info?.size, 2669283096);
});

test("gguf/historical LFS pointer: oid sha256:16c37245… size 723869, the hash and size of the real vocab file", { skip }, async () => {
  const p = `${fixtures}gguf/historical/ggml-vocab-llama-spm.gguf.LFS-POINTER.txt`;
  const { bytes, size } = await readHead(p, 4096);
  assert.equal(sniffFormat(bytes, size, "ggml-vocab-llama-spm.gguf"), "lfs-pointer");
  const info = parseLfsPointer(bytes);
  assert.deepEqual(info, { oid: "sha256:16c3724582d59aa8bf84711894e833f916ee46a31d80e21312759c48bf8d0e69", size: 723869 });
  const real = fs.readFileSync(`${fixtures}gguf/vocab/ggml-vocab-llama-spm.gguf`);
  assert.equal(real.length, info!.size);
  assert.equal(`sha256:${crypto.createHash("sha256").update(real).digest("hex")}`, info!.oid);
  assert.match(lfsPointerMessage(p, info!), /never downloaded \(expected 723869 bytes, sha256 16c37245/);
});
