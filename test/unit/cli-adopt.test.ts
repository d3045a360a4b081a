// `mlib adopt` as a user's script sees it: a shard set it could not adopt (shards missing) is a failure, as at
// import (which refuses it, exit 1) and in the doctor (a problem while it remains). It used to exit 0 when every
// folder it found was incomplete, so a script took "nothing adopted" for success.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runCli } from "../helpers/cli.js";
import { tempDir, writeGgufModel, writeShardSet } from "../helpers/library-fixtures.js";

test("mlib adopt exits 1 and says why when it leaves an incomplete shard set; exit 0 once nothing is left", async () => {
  const t = tempDir("mlib-adopt-");
  try {
    const half = path.join(t.dir, "llm", "mistral", "half_set");
    writeShardSet(half, "model", 3, [3]);
    const only = await runCli(["adopt", "--library", t.dir]);
    assert.equal(only.code, 1, `exit ${only.code}: ${only.stdout}${only.stderr}`);
    assert.match(only.stdout, /incomplete +.*half_set: missing model-00003-of-00003\.safetensors/);
    assert.match(only.stderr, /1 incomplete shard set not adopted/);
    assert.equal(fs.existsSync(path.join(half, "metadata.json")), false);

    // With --json: the same exit status, the JSON on stdout, nothing but it.
    const json = await runCli(["adopt", "--library", t.dir, "--json"]);
    assert.equal(json.code, 1, json.stderr);
    const r = JSON.parse(json.stdout) as { adopted: string[]; incomplete: { missingFiles: string[] }[] };
    assert.deepEqual(r.adopted, []);
    assert.deepEqual(r.incomplete.map((o) => o.missingFiles), [["model-00003-of-00003.safetensors"]]);

    // A complete model beside it is adopted, the incomplete set still fails the run.
    const raw = writeGgufModel(path.join(t.dir, "llm", "llama", "raw", "raw.gguf"), "Raw", 4);
    fs.utimesSync(raw, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const mixed = await runCli(["adopt", "--library", t.dir]);
    assert.equal(mixed.code, 1, mixed.stderr);
    assert.match(mixed.stdout, /adopted +llm\/llama\/raw/);

    // The set completed by hand: adopted, exit 0.
    const [last] = writeShardSet(half, "model", 3, [1, 2]);
    fs.utimesSync(last, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const done = await runCli(["adopt", "--library", t.dir]);
    assert.equal(done.code, 0, done.stderr);
    assert.match(done.stdout, /adopted +llm\/mistral\/half_set/);
  } finally {
    t.cleanup();
  }
});
