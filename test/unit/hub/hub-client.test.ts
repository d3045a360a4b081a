// The Hub client's rules: config from the environment (HF_ENDPOINT, HF_TOKEN, the token file, HF_HUB_OFFLINE),
// the token on the Hub's requests, API 429/5xx retried, a renamed repo's relative 307 followed, offline answers.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { hubConfig } from "../../../src/hub/config.js";
import { HubClient } from "../../../src/hub/hub-client.js";
import { startFakeHub, type FakeHub, fakeHubConfig } from "../../helpers/fake-hub.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

let hub: FakeHub;
let tmp: ReturnType<typeof tempDir>;
before(async () => {
  hub = await startFakeHub({
    repos: [{ id: "google-bert/bert-base-uncased", aliases: ["bert-base-uncased"], library_name: "transformers", config: { architectures: ["BertForMaskedLM"] }, files: [{ path: "config.json", content: Buffer.from("{}") }, { path: "model.safetensors", content: Buffer.alloc(5000, 7) }] }],
  });
  tmp = tempDir("mlib-hubc-");
});
after(async () => {
  await hub.close();
  tmp.cleanup();
});

test("config: HF_ENDPOINT, HF_TOKEN over the token file, HF_HOME, HF_HUB_OFFLINE", () => {
  const home = join(tmp.dir, "hf");
  mkdirSync(home, { recursive: true });
  writeFileSync(join(home, "token"), "hf_from_file\n");
  const c = hubConfig({ HF_ENDPOINT: "http://127.0.0.1:9/", HF_HOME: home, HF_HUB_OFFLINE: "1", XDG_CACHE_HOME: tmp.dir });
  assert.equal(c.endpoint, "http://127.0.0.1:9");
  assert.equal(c.token, "hf_from_file");
  assert.equal(c.tokenSource, join(home, "token"));
  assert.equal(c.offline, true);
  assert.equal(c.cacheDir, join(tmp.dir, "model-library"));
  assert.equal(hubConfig({ HF_TOKEN: "hf_env", HF_HOME: home }).token, "hf_env");
  assert.equal(hubConfig({ HF_HOME: join(tmp.dir, "none") }).token, null);
  assert.equal(hubConfig({}).endpoint, "https://huggingface.co");
});

test("info follows a renamed repo's 307, sends the token to the Hub, retries a 429 and a 500", async () => {
  const client = new HubClient({ endpoint: hub.url, token: "hf_t", tokenSource: "HF_TOKEN", offline: false, cacheDir: join(tmp.dir, "c1") });
  hub.requests.length = 0;
  hub.faults.push({ on: "hub", kind: "status", status: 429, retryAfter: "0", times: 1 }, { on: "hub", kind: "status", status: 500, times: 1 });
  const info = await client.info("bert-base-uncased");
  client.close();
  assert.equal(info.model.repoId, "google-bert/bert-base-uncased");
  assert.equal(info.model.kind, "fill-mask");
  assert.equal(info.files.length, 2);
  assert.ok(hub.requests.some((r) => r.status === 307));
  assert.ok(hub.requests.every((r) => r.authorization === "Bearer hf_t"));
  assert.equal(hub.requests.filter((r) => r.status === 429).length, 1);
});

test("offline: info and files from the cache, no connection; an uncached repo says HF_HUB_OFFLINE", async () => {
  const cacheDir = join(tmp.dir, "c2");
  const online = new HubClient(fakeHubConfig(hub, cacheDir));
  await online.info("google-bert/bert-base-uncased");
  online.close();
  hub.requests.length = 0;
  const offline = new HubClient({ endpoint: hub.url, token: null, tokenSource: null, offline: true, cacheDir });
  const info = await offline.info("google-bert/bert-base-uncased");
  assert.equal(info.files.length, 2);
  assert.equal((await offline.treeOf("google-bert/bert-base-uncased")).length, 2);
  await assert.rejects(offline.info("someone/else"), (e: ModelLibraryError) => e.code === "E_NETWORK" && /HF_HUB_OFFLINE/.test(e.message));
  offline.close();
  assert.equal(hub.requests.length, 0);
});

test("a missing repo is E_NOT_FOUND saying it may be private; a bad repo id is a usage error", async () => {
  const client = new HubClient(fakeHubConfig(hub, join(tmp.dir, "c3")));
  await assert.rejects(client.info("nobody/nothing"), (e: ModelLibraryError) => e.code === "E_NOT_FOUND" && /private/.test(e.message));
  await assert.rejects(client.info("../etc/passwd"), (e: ModelLibraryError) => e.code === "E_USAGE");
  client.close();
});
