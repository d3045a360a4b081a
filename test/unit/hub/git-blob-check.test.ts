// Plain git (non-LFS) files — config.json, tokenizer.json, README.md — are checked against the git blob sha1 the
// Hub's tree gives (`oid`), as LFS files are against their sha256: wrong bytes end in E_HASH_MISMATCH naming the
// file, the partial file deleted and nothing landing in the library; the same command then downloads it right.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync } from "node:child_process";
import { existsSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { downloadFile } from "../../../src/hub/download-file.js";
import { listDownloads } from "../../../src/hub/download-state.js";
import { gitBlobSha1 } from "../../../src/hub/git-blob-sha1.js";
import { fakeHubConfig } from "../../helpers/fake-hub.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";
import { llamaTensors } from "../../helpers/library-fixtures.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

const config = Buffer.from('{"architectures":["LlamaForCausalLM"],"model_type":"llama","hidden_size":16}');
const tokenizer = Buffer.from('{"version":"1.0","model":{"type":"BPE","vocab":{"a":0,"b":1}}}');
let world: HubWorld;
const fast = { retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000, controlPollMs: 50 };

before(async () => {
  world = await openHubWorld(
    {
      repos: [
        {
          id: "acme/tiny-hf",
          library_name: "transformers",
          pipeline_tag: "text-generation",
          config: { architectures: ["LlamaForCausalLM"], model_type: "llama" },
          files: [
            { path: "config.json", content: config },
            { path: "tokenizer.json", content: tokenizer },
            { path: "model.safetensors", content: buildSafetensors(llamaTensors(), { format: "pt" }), lfs: true },
          ],
        },
      ],
    },
    "mlib-gitblob-",
  );
});
after(() => world.close());

test("gitBlobSha1 is git's own blob id (git hash-object)", async () => {
  const f = join(world.dir, "sample.json");
  writeFileSync(f, tokenizer);
  const git = execFileSync("git", ["hash-object", f], { encoding: "utf8" }).trim();
  assert.equal(await gitBlobSha1(f, tokenizer.length), git);
});

test("the tree's oid of a plain git file is kept as its gitSha1; an LFS file has none", async () => {
  const files = await world.client.treeOf("acme/tiny-hf");
  const byPath = new Map(files.map((f) => [f.path, f]));
  const f = join(world.dir, "config.json");
  writeFileSync(f, config);
  assert.equal(byPath.get("config.json")?.gitSha1, execFileSync("git", ["hash-object", f], { encoding: "utf8" }).trim());
  assert.equal(byPath.get("model.safetensors")?.gitSha1, null);
});

test("downloadFile: a plain git file with wrong bytes is E_HASH_MISMATCH naming it; the partial file and its record are deleted", async () => {
  const partial = join(world.dir, "cfg.part");
  const files = await world.client.treeOf("acme/tiny-hf");
  const cfg = files.find((f) => f.path === "config.json")!;
  world.hub.faults.push({ on: "hub", kind: "wrong-bytes", match: "config.json" });
  const p = { config: fakeHubConfig(world.hub, world.dir), url: `${world.hub.url}/acme/tiny-hf/resolve/main/config.json`, partialPath: partial, expectedSize: cfg.size, expectedGitSha1: cfg.gitSha1, ...fast };
  await assert.rejects(downloadFile(p), (e: ModelLibraryError) => e.code === "E_HASH_MISMATCH" && /config\.json/.test(e.message) && e.message.includes(cfg.gitSha1!));
  assert.equal(existsSync(partial), false);
  assert.equal(existsSync(`${partial}.json`), false);
  const r = await downloadFile(p);
  assert.equal(r.size, config.length);
  assert.deepEqual(readFileSync(partial), config);
});

test("downloadModel: a tokenizer.json with wrong bytes fails the download (nothing in the library); run again, it lands", async () => {
  world.hub.faults.push({ on: "hub", kind: "wrong-bytes", match: "tokenizer.json" });
  await assert.rejects(
    downloadModel(world.lib, { repoId: "acme/tiny-hf", client: world.client, ...fast }),
    (e: ModelLibraryError) => e.code === "E_HASH_MISMATCH" && /tokenizer\.json/.test(e.message),
  );
  assert.deepEqual(world.lib.allIds(), [], "no model in the library");
  const [entry] = await listDownloads(world.lib.root);
  assert.equal(entry.status, "error");
  const staged = readdirSync(entry.staging_dir!, { recursive: true }).map(String);
  assert.ok(!staged.some((n) => n.startsWith("tokenizer.json")), `no half-written tokenizer.json in staging (${staged.join(", ")})`);

  const r = await downloadModel(world.lib, { repoId: "acme/tiny-hf", client: world.client, ...fast });
  assert.equal(r.status, "completed");
  assert.deepEqual(readFileSync(join(world.lib.modelDir(r.modelId!), "tokenizer.json")), tokenizer);
  assert.deepEqual(await listDownloads(world.lib.root), []);
});
