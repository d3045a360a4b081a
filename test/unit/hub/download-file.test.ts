// The download engine against the fake Hub (real HTTP on loopback, a second origin as the CDN): parallel
// ranges, the token kept from the CDN, and each fault: drops, 429, 5xx, wrong bytes, Range ignored, a wrong
// Content-Range, stalls, a gated repo, a missing file, and a pause followed by a resume.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { downloadFile, type DownloadFileParams } from "../../../src/hub/download-file.js";
import { partLayout } from "../../../src/hub/part-layout.js";
import type { HubConfig } from "../../../src/hub/config.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

const big = randomBytes(3 * 1024 * 1024 + 123);
const bigSha = createHash("sha256").update(big).digest("hex");
const small = Buffer.from('{"model_type":"llama"}');
let hub: FakeHub;
let dir: string;

before(async () => {
  hub = await startFakeHub({
    repos: [
      { id: "acme/tiny-GGUF", files: [{ path: "tiny-Q4_K_M.gguf", content: big }, { path: "config.json", content: small }] },
      { id: "acme/gated", gatedToken: "hf_good", files: [{ path: "w.gguf", content: big }] },
    ],
  });
  dir = mkdtempSync(join(tmpdir(), "mlib-dl-"));
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (token: string | null = "hf_secret"): HubConfig => ({ endpoint: hub.url, token, tokenSource: "HF_TOKEN", offline: false, cacheDir: dir });
let n = 0;
function params(over: Partial<DownloadFileParams> = {}): DownloadFileParams {
  return {
    config: config(),
    url: `${hub.url}/acme/tiny-GGUF/resolve/main/tiny-Q4_K_M.gguf`,
    partialPath: join(dir, `f${n++}.part`),
    expectedSize: big.length,
    expectedSha256: bigSha,
    connections: 4,
    partSize: 256 * 1024,
    wholeBelow: 0,
    retry: { attempts: 5, baseMs: 1, capMs: 5, maxServerWaitMs: 5000 },
    stallMs: 5000,
    ...over,
  };
}
const cdnRequests = (): typeof hub.requests => hub.requests.filter((r) => r.origin === "cdn");

test("parallel ranges land every byte and both hashes; the token never reaches the CDN", async () => {
  hub.requests.length = 0;
  const p = params();
  let bytes = 0;
  const r = await downloadFile({ ...p, onBytes: (d) => (bytes += d) });
  assert.equal(r.sha256, bigSha);
  assert.equal(r.size, big.length);
  assert.match(r.blake3, /^[0-9a-f]{64}$/);
  assert.deepEqual(readFileSync(p.partialPath), big);
  assert.equal(bytes, big.length);
  assert.ok(cdnRequests().length >= 13, "one request per part");
  assert.ok(cdnRequests().every((q) => q.authorization === null), "no token sent to the CDN");
  assert.ok(hub.requests.filter((q) => q.origin === "hub").every((q) => q.authorization === "Bearer hf_secret"));
});

test("hashing in a worker thread gives the same digests; wrong bytes are still caught there", async () => {
  const p = params({ hashInWorker: true });
  const r = await downloadFile(p);
  assert.equal(r.sha256, bigSha);
  const inThread = await downloadFile(params({ hashInWorker: false }));
  assert.equal(r.blake3, inThread.blake3);
  hub.faults.push({ kind: "wrong-bytes", times: 1 });
  await assert.rejects(downloadFile(params({ hashInWorker: true })), (e: ModelLibraryError) => e.code === "E_HASH_MISMATCH");
});

test("a small non-LFS file comes whole from the Hub", async () => {
  const p = params({ url: `${hub.url}/acme/tiny-GGUF/resolve/main/config.json`, expectedSize: small.length, expectedSha256: null, wholeBelow: undefined, partSize: undefined });
  const r = await downloadFile(p);
  assert.deepEqual(readFileSync(p.partialPath), small);
  assert.equal(r.sha256, createHash("sha256").update(small).digest("hex"));
});

test("a body dropped mid-way is resumed where it stopped", async () => {
  hub.faults.push({ kind: "drop", afterBytes: 100_000, times: 3 });
  const p = params();
  const r = await downloadFile(p);
  assert.equal(r.sha256, bigSha);
  assert.equal(hub.faults.length, 0);
});

test("429 with Retry-After and 500s are retried", async () => {
  hub.requests.length = 0;
  hub.faults.push({ kind: "status", status: 429, retryAfter: "0", times: 2 }, { kind: "status", status: 500, times: 2 });
  const r = await downloadFile(params());
  assert.equal(r.sha256, bigSha);
  assert.equal(cdnRequests().filter((q) => q.status === 429).length, 2);
  assert.equal(cdnRequests().filter((q) => q.status === 500).length, 2);
});

test("a server that keeps failing ends in E_NETWORK after the attempts", async () => {
  hub.faults.push({ kind: "status", status: 503, times: 1000 });
  await assert.rejects(downloadFile(params({ connections: 1 })), (e: ModelLibraryError) => e.code === "E_NETWORK" && /503/.test(e.message));
  hub.faults.length = 0;
});

test("wrong bytes: E_HASH_MISMATCH, the partial file and its record are deleted", async () => {
  hub.faults.push({ kind: "wrong-bytes", times: 1 });
  const p = params();
  await assert.rejects(downloadFile(p), (e: ModelLibraryError) => e.code === "E_HASH_MISMATCH" && e.message.includes(bigSha));
  assert.equal(existsSync(p.partialPath), false);
  assert.equal(existsSync(`${p.partialPath}.json`), false);
});

test("Range ignored (200): the file is fetched as one stream, not corrupted", async () => {
  hub.faults.push({ kind: "ignore-range", times: 1000 });
  const p = params();
  const r = await downloadFile(p);
  hub.faults.length = 0;
  assert.equal(r.rangeless, true);
  assert.equal(r.sha256, bigSha);
  assert.deepEqual(readFileSync(p.partialPath), big);
});

test("Range ignored on one part only: start over as one stream", async () => {
  hub.faults.push({ kind: "ignore-range", times: 1, match: "" });
  // the probe asks bytes=0-0: let it pass, make a later part's request get a 200
  const p = params();
  hub.requests.length = 0;
  const r = await downloadFile(p);
  assert.equal(r.sha256, bigSha);
  assert.deepEqual(readFileSync(p.partialPath), big);
});

test("a wrong Content-Range is refused and the part fetched again", async () => {
  hub.faults.push({ kind: "bad-content-range", times: 2 });
  const r = await downloadFile(params());
  assert.equal(r.sha256, bigSha);
  assert.equal(hub.faults.length, 0);
});

test("a stalled connection is dropped and retried", async () => {
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 3000, times: 1 });
  const t = Date.now();
  const r = await downloadFile(params({ stallMs: 200 }));
  assert.equal(r.sha256, bigSha);
  assert.ok(Date.now() - t < 2500, "did not wait for the stall to end");
});

test("a gated repo without a token: E_AUTH saying how to set one; not retried", async () => {
  hub.requests.length = 0;
  const url = `${hub.url}/acme/gated/resolve/main/w.gguf`;
  await assert.rejects(downloadFile(params({ url, config: config(null) })), (e: ModelLibraryError) => e.code === "E_AUTH" && /gated/.test(e.message) && /HF_TOKEN/.test(e.message));
  assert.equal(hub.requests.length, 1);
  await assert.rejects(downloadFile(params({ url, config: config("hf_bad") })), (e: ModelLibraryError) => e.code === "E_AUTH" && /no access/.test(e.message));
  const r = await downloadFile(params({ url, config: config("hf_good") }));
  assert.equal(r.sha256, bigSha);
});

test("a missing file: E_NOT_FOUND, one request", async () => {
  hub.requests.length = 0;
  await assert.rejects(downloadFile(params({ url: `${hub.url}/acme/tiny-GGUF/resolve/main/nope.gguf` })), (e: ModelLibraryError) => e.code === "E_NOT_FOUND");
  assert.equal(hub.requests.length, 1);
});

test("abort pauses (E_CANCELLED, record kept); the same call resumes with only the missing parts", async () => {
  const p = params({ connections: 2 });
  const ac = new AbortController();
  hub.faults.push({ kind: "stall", afterBytes: 0, stallMs: 400, times: 1, match: "" });
  let written = 0;
  const first = downloadFile({ ...p, signal: ac.signal, onBytes: (d) => {
    written += d;
    if (written > 1024 * 1024) ac.abort();
  } });
  await assert.rejects(first, (e: ModelLibraryError) => e.code === "E_CANCELLED");
  hub.faults.length = 0;
  const rec = JSON.parse(readFileSync(`${p.partialPath}.json`, "utf8")) as { completed: number[]; partSize: number; lead: number };
  assert.ok(rec.completed.length >= 2, `some parts recorded (${rec.completed.length})`);
  const layout = partLayout(big.length, rec.partSize, rec.lead);
  assert.equal(rec.lead, 2, "one growing lead part per connection");
  assert.equal(layout.length, 13);
  const r = await downloadFile(p);
  assert.equal(r.sha256, bigSha);
  assert.equal(r.resumedBytes, rec.completed.reduce((sum, i) => sum + layout[i].length, 0));
  assert.equal(r.partsFetched, layout.length - rec.completed.length);
  assert.deepEqual(readFileSync(p.partialPath), big);
});

test("an abort while the download is being set up (after the probe, before the parts) fetches no part", async () => {
  const p = params();
  const ac = new AbortController();
  hub.requests.length = 0;
  // onStart runs once the size is known and the file and hasher are ready: the last await before the parts.
  await assert.rejects(downloadFile({ ...p, signal: ac.signal, onStart: () => ac.abort() }), (e: ModelLibraryError) => e.code === "E_CANCELLED");
  const parts = cdnRequests().filter((r) => r.range !== "bytes=0-0");
  assert.deepEqual(parts.map((r) => r.range), [], "no part requested after the abort");
});

test("each part is recorded as it completes, before its connection goes on; the finished record holds the digests", async () => {
  const p = params({ connections: 3 });
  hub.requests.length = 0;
  const seen: number[] = [];
  const wrong: string[] = [];
  // Whenever a range has started, the parts finished before it are in the record already: at most one
  // unrecorded part per connection. (Checked from the progress callback, on the engine's own thread.)
  const r = await downloadFile({
    ...p,
    onBytes: () => {
      const starts = cdnRequests().filter((q) => q.range && q.range !== "bytes=0-0").length;
      if (starts === seen.at(-1)) return;
      seen.push(starts);
      const recorded = existsSync(`${p.partialPath}.json`) ? (JSON.parse(readFileSync(`${p.partialPath}.json`, "utf8")) as { completed: number[] }).completed.length : 0;
      if (recorded < starts - 3) wrong.push(`${starts} ranges started, ${recorded} recorded`);
    },
  });
  assert.equal(r.sha256, bigSha);
  assert.deepEqual(wrong, []);
  const rec = JSON.parse(readFileSync(`${p.partialPath}.json`, "utf8")) as { completed: number[]; lead: number; partSize: number; verified: { sha256: string } | null };
  assert.equal(rec.completed.length, partLayout(big.length, rec.partSize, rec.lead).length);
  assert.equal(rec.verified?.sha256, bigSha);
  assert.ok(seen.length > 3);
  // Asked again: the verified record answers, nothing is fetched.
  hub.requests.length = 0;
  const again = await downloadFile(p);
  assert.equal(again.sha256, bigSha);
  assert.equal(again.fetchedBytes, 0);
  assert.equal(hub.requests.length, 0);
});
