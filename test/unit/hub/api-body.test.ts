// A JSON API answer whose body stalls after its headers: dropped and asked again (it hung the command for good: the
// 30 s watch ended with the headers); one cut short is asked again too; when it keeps happening, E_NETWORK saying so.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { HubClient } from "../../../src/hub/hub-client.js";
import { fakeHubConfig, startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

let hub: FakeHub;
let tmp: ReturnType<typeof tempDir>;
before(async () => {
  hub = await startFakeHub({ repos: [{ id: "acme/x-GGUF", files: [{ path: "x-Q4_K_M.gguf", content: Buffer.alloc(2000, 1) }, { path: "README.md", content: Buffer.from("# x") }] }] });
  tmp = tempDir("mlib-api-body-");
});
after(async () => {
  await hub.close();
  tmp.cleanup();
});

const client = (name: string, attempts = 3): HubClient =>
  new HubClient(fakeHubConfig(hub, join(tmp.dir, name)), { retry: { attempts, baseMs: 1, capMs: 2, maxServerWaitMs: 1000 }, answerMs: 300 });
const treeAsks = (): number => hub.requests.filter((q) => q.url.includes("/tree/")).length;

test("a tree answer whose body stalls after its headers is dropped and asked again (no hang)", async () => {
  const c = client("stall");
  try {
    hub.requests.length = 0;
    hub.faults.push({ on: "hub", kind: "stall", afterBytes: 10, stallMs: 3000, match: "/tree/" });
    const t = Date.now();
    const files = await c.treeOf("acme/x-GGUF");
    assert.equal(files.length, 2);
    assert.ok(Date.now() - t < 2000, `took ${Date.now() - t} ms: waited for the stall to end`);
    assert.equal(treeAsks(), 2);
  } finally {
    c.close();
  }
});

test("a tree answer cut short mid-body is asked again", async () => {
  const c = client("drop");
  try {
    hub.requests.length = 0;
    hub.faults.push({ on: "hub", kind: "drop", afterBytes: 10, match: "/tree/" });
    const files = await c.treeOf("acme/x-GGUF");
    assert.equal(files.length, 2);
    assert.equal(treeAsks(), 2);
  } finally {
    c.close();
  }
});

test("a body that keeps stalling ends in E_NETWORK saying so, after the attempts", async () => {
  const c = client("always", 2);
  try {
    hub.faults.push({ on: "hub", kind: "stall", afterBytes: 5, stallMs: 3000, times: 2, match: "/api/models/acme/x-GGUF" });
    const t = Date.now();
    await assert.rejects(c.info("acme/x-GGUF"), (e: ModelLibraryError) => e.code === "E_NETWORK" && /stopped coming in: no byte for 0.3 s/.test(e.message) && /2 attempts/.test(e.message));
    assert.ok(Date.now() - t < 2000);
  } finally {
    c.close();
    hub.faults.length = 0;
  }
});
