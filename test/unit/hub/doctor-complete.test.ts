// `mlib doctor` on a stored shard set with a shard missing names the remedy: `mlib download --complete ID` when
// its Hub repo is known (repo_id in metadata.json), `mlib lookup ID` first when it is not. Running the named
// command against the fake Hub completes the set and the doctor stops reporting it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importInPlace } from "../../../src/operations/import-in-place.js";
import { startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { runCli } from "../../helpers/cli.js";
import { llamaTensors, tempDir } from "../../helpers/library-fixtures.js";

const shard = (i: number): Buffer => buildSafetensors(llamaTensors(1, 16, 40 + i), { format: "pt" });

let hub: FakeHub;
let tmp: ReturnType<typeof tempDir>;
let root: string;
let env: Record<string, string | undefined>;

async function storeIncomplete(lib: ModelLibrary, name: string, repoId: string | null): Promise<string> {
  const dir = join(lib.root, "llm", "llama", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model-00001-of-00003.safetensors"), shard(1));
  writeFileSync(join(dir, "model-00003-of-00003.safetensors"), shard(3));
  return (await importInPlace(lib, { modelDir: dir, officialName: name, repoId, allowIncomplete: true })).modelId;
}

let known: string;
let unknown: string;

before(async () => {
  hub = await startFakeHub({
    repos: [{ id: "acme/sharded", files: [1, 2, 3].map((i) => ({ path: `model-0000${i}-of-00003.safetensors`, content: shard(i), lfs: true })) }],
  });
  tmp = tempDir("mlib-doccomp-");
  root = join(tmp.dir, "lib");
  const lib = await ModelLibrary.open(root);
  known = await storeIncomplete(lib, "sharded", "acme/sharded");
  unknown = await storeIncomplete(lib, "nameless", null);
  lib.close();
  env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(tmp.dir, "hf"), MLIB_CACHE_DIR: join(tmp.dir, "cache"), HF_HUB_OFFLINE: undefined };
});
after(async () => {
  await hub.close();
  tmp.cleanup();
});

test("the doctor names `mlib download --complete ID` for a set whose repo is known, and `mlib lookup` first otherwise", async () => {
  const r = await runCli(["doctor", "--library", root], { env });
  assert.equal(r.code, 1, r.stderr);
  const lines = r.stdout.split("\n");
  const at = (id: string): string => {
    const i = lines.findIndex((l) => l.startsWith("incomplete-shards") && l.includes(`(${id})`));
    assert.ok(i >= 0, r.stdout);
    return `${lines[i]}\n${lines[i + 1]}`;
  };
  assert.match(at(known), /missing model-00002-of-00003\.safetensors/);
  assert.match(at(known), new RegExp(`mlib download --complete ${known}`));
  assert.match(at(known), /acme\/sharded/);
  assert.match(at(unknown), new RegExp(`mlib lookup ${unknown}.*mlib download --complete ${unknown}`));
});

test("running the named command completes the set; the doctor no longer reports it", async () => {
  const d = await runCli(["download", "--complete", known, "--library", root, "--json"], { env });
  assert.equal(d.code, 0, d.stderr);
  assert.deepEqual((JSON.parse(d.stdout) as { files: { path: string }[] }).files.map((f) => f.path), ["model-00002-of-00003.safetensors"]);
  const r = await runCli(["doctor", "--library", root, "--json"], { env });
  const problems = (JSON.parse(r.stdout) as { problems: { kind: string; id?: string }[] }).problems.filter((p) => p.kind === "incomplete-shards");
  assert.deepEqual(problems.map((p) => p.id), [unknown]);
});
