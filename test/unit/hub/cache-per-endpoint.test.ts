// Each Hub endpoint (huggingface.co, a mirror, a private Hub named by HF_ENDPOINT) has its own cache file: one cache
// for all answered a search, or offline a repo's files, from whichever Hub had been asked before.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { join } from "node:path";
import { HubClient } from "../../../src/hub/hub-client.js";
import { CACHE_FILE, cacheFileOf } from "../../../src/hub/search-cache.js";
import { fakeHubConfig, startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

let a: FakeHub;
let b: FakeHub;
let tmp: ReturnType<typeof tempDir>;
before(async () => {
  // The same repo id on two Hubs, with other files.
  a = await startFakeHub({ repos: [{ id: "acme/m-GGUF", files: [{ path: "m-Q4_K_M.gguf", content: Buffer.alloc(2000, 1) }] }] });
  b = await startFakeHub({ repos: [{ id: "acme/m-GGUF", files: [{ path: "m-Q8_0.gguf", content: Buffer.alloc(3000, 2) }] }] });
  tmp = tempDir("mlib-cache-endpoint-");
});
after(async () => {
  await a.close();
  await b.close();
  tmp.cleanup();
});

test("huggingface.co keeps hub-cache.sqlite; another endpoint gets its own file", () => {
  assert.equal(cacheFileOf("https://huggingface.co"), CACHE_FILE);
  assert.equal(cacheFileOf("https://huggingface.co/"), CACHE_FILE);
  assert.match(cacheFileOf("https://hf-mirror.com"), /^hub-cache-hf-mirror\.com-[0-9a-f]{8}\.sqlite$/);
  assert.notEqual(cacheFileOf("http://127.0.0.1:1"), cacheFileOf("http://127.0.0.1:2"));
});

test("a search and a tree cached from one Hub do not answer for another", async () => {
  const cacheDir = join(tmp.dir, "cache");
  const fromA = new HubClient(fakeHubConfig(a, cacheDir));
  try {
    assert.equal((await fromA.search({ query: "m-GGUF" })).models[0].downloadOptions[0].quant, "Q4_K_M");
    await fromA.treeOf("acme/m-GGUF");
  } finally {
    fromA.close();
  }
  const fromB = new HubClient(fakeHubConfig(b, cacheDir));
  try {
    const r = await fromB.search({ query: "m-GGUF" });
    assert.equal(r.fromCache, false, "B was asked");
    assert.equal(r.models[0].downloadOptions[0].quant, "Q8_0");
    assert.equal(r.models[0].url, `${b.url}/acme/m-GGUF`);
  } finally {
    fromB.close();
  }
  const offlineC = new HubClient({ endpoint: "http://127.0.0.1:9", token: null, tokenSource: null, offline: true, cacheDir });
  try {
    await assert.rejects(offlineC.treeOf("acme/m-GGUF"), (e: ModelLibraryError) => e.code === "E_NETWORK" && /HF_HUB_OFFLINE/.test(e.message));
  } finally {
    offlineC.close();
  }
  const offlineA = new HubClient({ ...fakeHubConfig(a, cacheDir), offline: true });
  try {
    assert.deepEqual((await offlineA.treeOf("acme/m-GGUF")).map((f) => f.path), ["m-Q4_K_M.gguf"]);
  } finally {
    offlineA.close();
  }
  assert.equal(readdirSync(cacheDir).filter((f) => f.endsWith(".sqlite")).length, 3);
});
