// A search whose repo trees cannot all be read (an error answer, a network failure) is not cached: the next search
// asks the Hub again (it was cached for 24 h, leaving the repo without download options for a day). The trees that
// were read are reused; an older complete answer stays for offline use; the failure is named in the result.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { HubClient } from "../../../src/hub/hub-client.js";
import { fakeHubConfig, startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { tempDir } from "../../helpers/library-fixtures.js";

let hub: FakeHub;
let tmp: ReturnType<typeof tempDir>;
before(async () => {
  hub = await startFakeHub({
    repos: ["one", "two"].map((n, i) => ({ id: `acme/${n}-GGUF`, downloads: 10 - i, files: [{ path: `${n}-Q4_K_M.gguf`, content: Buffer.alloc(2000, i) }] })),
  });
  tmp = tempDir("mlib-search-fail-");
});
after(async () => {
  await hub.close();
  tmp.cleanup();
});

const retry = { attempts: 1, baseMs: 1, capMs: 1, maxServerWaitMs: 1000 };
const treeAsks = (repo: string): number => hub.requests.filter((q) => q.url.startsWith(`/api/models/acme/${repo}-GGUF/tree/`)).length;
const listAsks = (): number => hub.requests.filter((q) => q.url.startsWith("/api/models?")).length;

for (const failure of [{ name: "an error answer (503)", kind: "status" as const, status: 503 }, { name: "a network failure", kind: "drop" as const }]) {
  test(`a tree fetch that failed with ${failure.name} is not cached: the second search asks the Hub again`, async () => {
    const client = new HubClient(fakeHubConfig(hub, join(tmp.dir, failure.kind)), { retry });
    try {
      hub.requests.length = 0;
      hub.faults.push({ on: "hub", kind: failure.kind, status: failure.status, match: "/acme/two-GGUF/tree/" });
      const first = await client.search({ query: "GGUF", sort: "downloads" });
      const two = first.models.find((m) => m.repoId === "acme/two-GGUF")!;
      assert.deepEqual(two.downloadOptions, [], "shown without options");
      assert.equal(treeAsks("two"), 1);

      hub.requests.length = 0;
      const second = await client.search({ query: "GGUF", sort: "downloads" });
      assert.equal(second.fromCache, false, "not answered from the cache");
      assert.equal(listAsks(), 1, "the search asked the Hub again");
      assert.equal(treeAsks("two"), 1, "the failed tree asked again");
      assert.equal(treeAsks("one"), 0, "the tree read the first time is reused");
      assert.equal(second.models.find((m) => m.repoId === "acme/two-GGUF")!.downloadOptions[0]?.quant, "Q4_K_M");
      assert.deepEqual(first.treeFailures?.map((f) => f.repoId), ["acme/two-GGUF"], "the failure is named");
      assert.equal(second.treeFailures, undefined);

      hub.requests.length = 0;
      const third = await client.search({ query: "GGUF", sort: "downloads" });
      assert.equal(third.fromCache, true, "a complete answer is cached");
      assert.equal(hub.requests.length, 0);
    } finally {
      client.close();
    }
  });
}

test("a refresh that fails to read a tree leaves the older complete answer in the cache (offline still has it)", async () => {
  const cacheDir = join(tmp.dir, "refresh");
  const client = new HubClient(fakeHubConfig(hub, cacheDir), { retry });
  const repo = (lastModified: string) => ({ id: "acme/fresh-GGUF", lastModified, files: [{ path: "fresh-Q8_0.gguf", content: Buffer.alloc(3000, 9) }] });
  hub.addRepo(repo("2025-01-01T00:00:00.000Z"));
  try {
    await client.search({ query: "fresh" });
    client.cache()!.setSetting("lastModifiedCheckSeconds", 0); // a repo's details are checked against its lastModified
    hub.addRepo(repo("2025-06-01T00:00:00.000Z")); // changed since: its tree is read again, and that fails
    hub.faults.push({ on: "hub", kind: "status", status: 500, match: "/acme/fresh-GGUF/tree/" });
    const r = await client.search({ query: "fresh", refresh: true });
    assert.equal(r.models[0].downloadOptions.length, 0, "the tree could not be read");
  } finally {
    client.close();
  }
  const offline = new HubClient({ ...fakeHubConfig(hub, cacheDir), offline: true });
  try {
    const r = await offline.search({ query: "fresh" });
    assert.equal(r.fromCache, true);
    assert.ok(r.models.every((m) => m.downloadOptions.length === 1), "the complete answer, options and all");
  } finally {
    offline.close();
  }
});

test("mlib hub search warns about a repo whose files could not be read", async () => {
  const { runCli } = await import("../../helpers/cli.js");
  hub.faults.push({ on: "hub", kind: "status", status: 404, match: "/acme/one-GGUF/tree/" });
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(tmp.dir, "hf"), MLIB_CACHE_DIR: join(tmp.dir, "cli"), HF_HUB_OFFLINE: undefined };
  const r = await runCli(["hub", "search", "GGUF"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /acme\/two-GGUF/);
  assert.match(r.stderr, /warning: acme\/one-GGUF: its files could not be read, so no download options are shown \(.*404.*\); not cached, the next search asks again/);
});
