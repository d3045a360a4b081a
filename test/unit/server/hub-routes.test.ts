// The Hub over HTTP: the real server against the fake Hub on loopback (nothing reaches the internet). Search
// with download options per quant (a split quant's shards summed), one repo's details, a download as an
// operation whose model then is in the list, pause/resume and cancel of a running download, a second start of
// the same download refused, and bad parameters refused before anything is fetched.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { startFakeHub, type FakeHub, fakeHubConfig } from "../../helpers/fake-hub.js";
import { serveLibrary, api, raw, collectEvents, type Served } from "./server-fixture.js";

const q4 = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 15, contextLength: 4096, seed: 11 });
const q8 = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 7, contextLength: 4096, seed: 12 });
const q2a = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 10, contextLength: 4096, seed: 13 });
const q2b = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 10, contextLength: 4096, seed: 14 });
const f16 = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 1, contextLength: 4096, seed: 15 });

let hub: FakeHub;
let s: Served;
before(async () => {
  hub = await startFakeHub({
    repos: [
      {
        id: "acme/Tiny-Llama-GGUF",
        tags: ["gguf", "llama"],
        pipeline_tag: "text-generation",
        downloads: 1234,
        files: [
          { path: "README.md", content: Buffer.from("# tiny") },
          { path: "tiny-llama-Q4_K_M.gguf", content: q4 },
          { path: "tiny-llama-Q8_0.gguf", content: q8 },
          { path: "tiny-llama-F16.gguf", content: f16 },
          { path: "Q2_K/tiny-llama-Q2_K-00001-of-00002.gguf", content: q2a },
          { path: "Q2_K/tiny-llama-Q2_K-00002-of-00002.gguf", content: q2b },
        ],
      },
    ],
  });
  s = await serveLibrary({ hub: fakeHubConfig(hub, join(process.env.TMPDIR ?? "/tmp", `mlib-hub-cache-${process.pid}`)) });
});
after(async () => {
  await s.close();
  await hub.close();
  const { rmSync } = await import("node:fs");
  rmSync(join(process.env.TMPDIR ?? "/tmp", `mlib-hub-cache-${process.pid}`), { recursive: true, force: true });
});

interface Option {
  quant: string;
  sizeBytes: number;
  files: string[];
}
interface DownloadRow {
  download_id: string;
  status: string;
  repo_id: string;
  operationId: string | null;
  staging_dir: string | null;
}

const downloads = async () => ((await raw(s.server.port, "GET", "/api/downloads")).json() as { downloads: DownloadRow[] }).downloads;

async function waitFor<T>(what: string, get: () => Promise<T | null | undefined>, ms = 10_000): Promise<T> {
  const end = Date.now() + ms;
  for (;;) {
    const v = await get();
    if (v) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

test("GET /api/hub/search: results with download options per quant, a split quant's shards summed", async () => {
  const r = await raw(s.server.port, "GET", "/api/hub/search?q=tiny&limit=5");
  assert.equal(r.status, 200, r.body);
  const { models } = r.json() as { models: { repoId: string; downloadOptions: Option[]; formats: string[] }[] };
  const m = models.find((x) => x.repoId === "acme/Tiny-Llama-GGUF")!;
  assert.ok(m, JSON.stringify(models).slice(0, 300));
  const q2 = m.downloadOptions.find((o) => o.quant === "Q2_K")!;
  assert.equal(q2.files.length, 2);
  assert.equal(q2.sizeBytes, q2a.length + q2b.length);
  assert.equal(m.downloadOptions.find((o) => o.quant === "Q4_K_M")!.sizeBytes, q4.length);
  assert.ok(hub.requests.length > 0 && hub.requests.every((x) => x.origin === "hub" || x.origin === "cdn"));
});

test("GET /api/hub/info: one repo's files and commit", async () => {
  const r = await raw(s.server.port, "GET", "/api/hub/info?repo=acme/Tiny-Llama-GGUF");
  assert.equal(r.status, 200, r.body);
  const d = r.json() as { commitSha: string; files: { path: string; size: number }[] };
  assert.match(d.commitSha, /^[0-9a-f]{40}$/);
  assert.equal(d.files.find((f) => f.path === "tiny-llama-Q8_0.gguf")!.size, q8.length);
  const missing = await raw(s.server.port, "GET", "/api/hub/info?repo=acme/nothing-here");
  assert.equal(missing.status, 404, missing.body);
});

test("POST /api/download runs as an operation with progress; the model lands and is in the list", async () => {
  const events = collectEvents(s.server.port, (e) => e.op === "download" && e.phase === "end");
  await events.ready;
  const r = await api(s, "POST", "/api/download", { repoId: "acme/Tiny-Llama-GGUF", quant: "Q4_K_M" });
  assert.equal(r.status, 202, r.body);
  const got = await events.done;
  const end = got[got.length - 1] as { state: string; summary: { modelId: string; totalBytes: number } };
  assert.equal(end.state, "done", JSON.stringify(end));
  assert.equal(end.summary.totalBytes, q4.length);
  assert.ok(got.some((e) => e.phase === "download" && typeof e.total === "number"), JSON.stringify(got));
  const list = (await raw(s.server.port, "GET", "/api/models?q=tiny")).json() as { models: { id: string }[] };
  assert.deepEqual(list.models.map((m) => m.id), [end.summary.modelId]);
  const shown = (await raw(s.server.port, "GET", `/api/models/${encodeURIComponent(end.summary.modelId)}`)).json() as { metadata: { repo_id: string } };
  assert.equal(shown.metadata.repo_id, "acme/Tiny-Llama-GGUF");
  assert.deepEqual(await downloads(), [], "a finished download leaves no entry");
});

test("pause a running download (it stays, paused), a second start is refused, resume finishes it", async () => {
  // A long stall, so "paused mid-file" holds on a loaded machine too (the pause must not wait for the body).
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 8000, times: 1 });
  const r = await api(s, "POST", "/api/download", { repoId: "acme/Tiny-Llama-GGUF", quant: "Q8_0" });
  assert.equal(r.status, 202, r.body);
  const opId = (r.json() as { id: string }).id;
  const row = await waitFor("the running download", async () => (await downloads()).find((d) => d.operationId === opId));
  assert.equal(row.status, "downloading");
  const again = await api(s, "POST", "/api/download", { repoId: "acme/Tiny-Llama-GGUF", quant: "Q8_0" });
  assert.equal(again.status, 409, again.body);
  const t0 = Date.now();
  const p = await api(s, "POST", `/api/downloads/${row.download_id}/pause`);
  assert.equal(p.status, 200, p.body);
  assert.ok(Date.now() - t0 < 6000, `paused mid-file, not after the stalled body (${Date.now() - t0} ms)`);
  const op = (await raw(s.server.port, "GET", `/api/operations/${opId}`)).json() as { state: string };
  assert.equal(op.state, "cancelled");
  const [paused] = await downloads();
  assert.deepEqual([paused.download_id, paused.status, paused.operationId], [row.download_id, "paused", null]);
  // one nobody runs is paused through downloads.json: already paused, it stays as it is
  const again2 = await api(s, "POST", `/api/downloads/${row.download_id}/pause`);
  assert.equal(again2.status, 200, again2.body);
  assert.equal((again2.json() as { outcome: string }).outcome, "unchanged");

  const events = collectEvents(s.server.port, (e) => e.op === "download" && e.phase === "end");
  await events.ready;
  const res = await api(s, "POST", `/api/downloads/${row.download_id}/resume`);
  assert.equal(res.status, 202, res.body);
  const got = await events.done;
  const end = got[got.length - 1] as { state: string; summary: { downloadId: string; modelId: string } };
  assert.equal(end.state, "done", JSON.stringify(end));
  assert.equal(end.summary.downloadId, row.download_id);
  assert.deepEqual(await downloads(), []);
  assert.equal((await api(s, "POST", `/api/downloads/${row.download_id}/resume`)).status, 404);
});

test("cancel a running download: its entry and partial files are removed", async () => {
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 3000, times: 1 });
  const r = await api(s, "POST", "/api/download", { repoId: "acme/Tiny-Llama-GGUF", quant: "F16" });
  assert.equal(r.status, 202, r.body);
  const opId = (r.json() as { id: string }).id;
  const row = await waitFor("the running download", async () => (await downloads()).find((d) => d.operationId === opId && d.staging_dir));
  const c = await api(s, "POST", `/api/downloads/${row.download_id}/cancel`);
  assert.equal(c.status, 200, c.body);
  assert.equal((c.json() as { outcome: string }).outcome, "cancelled");
  assert.deepEqual(await downloads(), []);
  assert.equal(existsSync(row.staging_dir!), false);
  assert.equal((await api(s, "POST", `/api/downloads/${row.download_id}/pause`)).status, 404);
});

test("a repo the Hub does not have: the download operation fails with the Hub's message", async () => {
  const events = collectEvents(s.server.port, (e) => e.op === "download" && e.phase === "end");
  await events.ready;
  const r = await api(s, "POST", "/api/download", { repoId: "acme/nothing-here" });
  assert.equal(r.status, 202);
  const got = await events.done;
  const end = got[got.length - 1] as { state: string; error: { code: string; message: string } };
  assert.equal(end.state, "failed");
  assert.equal(end.error.code, "E_NOT_FOUND");
  assert.match(end.error.message, /acme\/nothing-here/);
});

test("bad Hub parameters and download bodies are 400, before anything is fetched; the routes need the token", async () => {
  const before = hub.requests.length;
  for (const q of ["?q=x&sort=bogus", "?limit=0", "?limit=500", "?kind=a%20b", "?nope=1"]) assert.equal((await raw(s.server.port, "GET", `/api/hub/search${q}`)).status, 400, q);
  for (const q of ["?repo=../x", "?repo=evil", "?repo=a/b/c", "?repo=a/..", "?repo=acme/x&rev=a%20b"]) assert.equal((await raw(s.server.port, "GET", `/api/hub/info${q}`)).status, 400, q);
  const bodies: unknown[] = [
    {},
    { repoId: "evil" },
    { repoId: "../../etc" },
    { repoId: "a/../b" },
    { repoId: "https://evil.example/x" },
    { repoId: "acme/x", quant: "Q4 K" },
    { repoId: "acme/x", files: ["../x.gguf"] },
    { repoId: "acme/x", files: ["/etc/passwd"] },
    { repoId: "acme/x", files: ["a\\b.gguf"] },
    { repoId: "acme/x", files: [] },
    { repoId: "acme/x", revision: "../main" },
    { repoId: "acme/x", dest: "/tmp" },
  ];
  for (const b of bodies) assert.equal((await api(s, "POST", "/api/download", b)).status, 400, JSON.stringify(b));
  for (const id of ["..", "a%2Fb", "a%20b"]) assert.ok([400, 404].includes((await api(s, "POST", `/api/downloads/${id}/pause`)).status), id);
  assert.equal(hub.requests.length, before, "nothing was asked of the Hub");
  for (const path of ["/api/download", "/api/downloads/x/pause", "/api/downloads/x/resume", "/api/downloads/x/cancel"]) {
    assert.equal((await raw(s.server.port, "POST", path)).status, 401, path);
  }
});
