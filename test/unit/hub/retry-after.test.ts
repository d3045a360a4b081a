// Retry-After as RFC 9110 says: delta-seconds or an HTTP-date (its three forms), a decimal tolerated, anything else
// ignored; a wait past the policy's cap refused at once. Then against the fake Hub: a 429 asking "0.4" is waited for
// (Date.parse alone read "0.4" as a day of 2000 and retried at once), on a download part and on a JSON API call.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { retryAfterMs, serverWaitMs } from "../../../src/hub/retry.js";
import { downloadFile } from "../../../src/hub/download-file.js";
import { HubClient } from "../../../src/hub/hub-client.js";
import { fakeHubConfig, startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

const headers = (h: Record<string, string>): { get(name: string): string | null } => ({ get: (n) => h[n.toLowerCase()] ?? null });
const NOW = Date.parse("1994-11-06T08:49:30Z");

test("Retry-After: delta-seconds, a decimal rounded up to the ms, each HTTP-date form; junk ignored", () => {
  assert.equal(retryAfterMs("120", NOW), 120_000);
  assert.equal(retryAfterMs(" 0 ", NOW), 0);
  assert.equal(retryAfterMs("1.5", NOW), 1500);
  assert.equal(retryAfterMs("0.0004", NOW), 1);
  assert.equal(retryAfterMs("Sun, 06 Nov 1994 08:49:37 GMT", NOW), 7000, "IMF-fixdate");
  assert.equal(retryAfterMs("Sunday, 06-Nov-94 08:49:37 GMT", NOW), 7000, "RFC 850");
  assert.equal(retryAfterMs("Sun Nov  6 08:49:37 1994", NOW), 7000, "asctime (GMT, not local time)");
  assert.equal(retryAfterMs("Sun, 06 Nov 1994 08:49:00 GMT", NOW), 0, "a date already past: no wait");
  for (const junk of ["-1", "1e3", "abc", "1.5s", "", "2001-01-05", "1,5"]) assert.equal(retryAfterMs(junk, NOW), null, JSON.stringify(junk));
  assert.ok(Number.isFinite(retryAfterMs("9".repeat(400), NOW)!), "an absurd number stays finite");
});

test("serverWaitMs: Retry-After first, else RateLimit's t= when r=0 (a decimal too), else null", () => {
  assert.equal(serverWaitMs(headers({ "retry-after": "1.5" }), NOW), 1500);
  assert.equal(serverWaitMs(headers({ "retry-after": "soon", ratelimit: '"api";r=0;t=2.5' }), NOW), 2500);
  assert.equal(serverWaitMs(headers({ ratelimit: '"resolvers";r=0;t=166' }), NOW), 166_000);
  assert.equal(serverWaitMs(headers({ ratelimit: '"resolvers";r=12;t=166' }), NOW), null);
  assert.equal(serverWaitMs(headers({}), NOW), null);
});

const data = randomBytes(200_000);
const sha = createHash("sha256").update(data).digest("hex");
let hub: FakeHub;
let dir: string;
before(async () => {
  hub = await startFakeHub({ repos: [{ id: "acme/w", files: [{ path: "w.gguf", content: data }, { path: "config.json", content: Buffer.from("{}") }] }] });
  dir = mkdtempSync(join(tmpdir(), "mlib-retry-after-"));
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

const retry = { attempts: 4, baseMs: 1, capMs: 2, maxServerWaitMs: 5000 };
const fileParams = (name: string) => ({
  config: fakeHubConfig(hub, dir),
  url: `${hub.url}/acme/w/resolve/main/w.gguf`,
  partialPath: join(dir, name),
  expectedSize: data.length,
  expectedSha256: sha,
  connections: 1,
  wholeBelow: 0,
  retry,
});

test("a download part answered 429 with Retry-After 0.4 is fetched again 0.4 s later, not at once", async () => {
  hub.requests.length = 0;
  hub.faults.push({ kind: "status", status: 429, retryAfter: "0.4", times: 1 });
  const r = await downloadFile(fileParams("a.part"));
  assert.equal(r.sha256, sha);
  const cdn = hub.requests.filter((q) => q.origin === "cdn");
  const i = cdn.findIndex((q) => q.status === 429);
  assert.ok(i >= 0 && cdn[i + 1], "the 429 and the request after it");
  assert.ok(cdn[i + 1].at - cdn[i].at >= 390, `waited ${cdn[i + 1].at - cdn[i].at} ms`);
});

test("a Retry-After past the cap fails at once, saying the wait asked for (decimal rounded up)", async () => {
  hub.faults.push({ kind: "status", status: 429, retryAfter: "3600.2", times: 1 });
  const t = Date.now();
  await assert.rejects(downloadFile(fileParams("b.part")), (e: ModelLibraryError) => e.code === "E_NETWORK" && /asks to wait 3600 s/.test(e.message));
  assert.ok(Date.now() - t < 2000);
  hub.faults.length = 0;
});

test("a JSON API call answered 429 with Retry-After 0.4 is asked again 0.4 s later", async () => {
  const client = new HubClient(fakeHubConfig(hub, join(dir, "cache")), { retry });
  try {
    hub.requests.length = 0;
    hub.faults.push({ on: "hub", kind: "status", status: 429, retryAfter: "0.4", times: 1, match: "/tree/" });
    const files = await client.treeOf("acme/w");
    assert.equal(files.length, 2);
    const tree = hub.requests.filter((q) => q.url.includes("/tree/"));
    assert.equal(tree[0].status, 429);
    assert.ok(tree[1].at - tree[0].at >= 390, `waited ${tree[1].at - tree[0].at} ms`);
  } finally {
    client.close();
  }
});

test("a 503 whose Retry-After is past the cap fails at once, saying the wait (it said a bare HTTP 503)", async () => {
  const client = new HubClient(fakeHubConfig(hub, join(dir, "cache503")), { retry });
  try {
    hub.faults.push({ on: "hub", kind: "status", status: 503, retryAfter: "7200", times: 1, match: "/tree/" });
    const t = Date.now();
    await assert.rejects(client.treeOf("acme/w"), (e: ModelLibraryError) => e.code === "E_NETWORK" && /HTTP 503; it asks to wait 7200 s/.test(e.message));
    assert.ok(Date.now() - t < 2000);
  } finally {
    client.close();
    hub.faults.length = 0;
  }
});
