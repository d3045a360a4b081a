// The routes of issue 13's missing actions over HTTP, on a real library, real folders and the fake Hub on
// loopback: links check and repair (per app or all) as operations with their summaries, map config (ComfyUI's
// extra_model_paths.yaml written, A1111's flags answered), Hub lookup of a model (a hash match; a repo set by
// hand kept unless force), download --complete of a model whose shard set lacks a shard; each refused without
// the token (401), from a foreign Origin (403), and with bad bodies (400 { code, message }) before anything runs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, readFileSync, rmSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { importInPlace } from "../../../src/operations/import-in-place.js";
import { startFakeHub, type FakeHub, fakeHubConfig } from "../../helpers/fake-hub.js";
import { llamaTensors } from "../../helpers/library-fixtures.js";
import { serveLibrary, api, raw, collectEvents, type Served } from "./server-fixture.js";

const shard = (i: number): Buffer => buildSafetensors(llamaTensors(1, 16, 20 + i), { format: "pt" });

let hub: FakeHub;
let s: Served;
let qwenBytes: Buffer;
before(async () => {
  s = await serveLibraryWithHub();
});
after(async () => {
  await s.close();
  await hub.close();
});

async function serveLibraryWithHub(): Promise<Served> {
  hub = await startFakeHub({ repos: [{ id: "acme/sharded", files: [1, 2, 3].map((i) => ({ path: `model-0000${i}-of-00003.safetensors`, content: shard(i) })) }] });
  const served = await serveLibrary({ hub: fakeHubConfig(hub, join(process.env.TMPDIR ?? "/tmp", `mlib-actions-cache-${process.pid}`)) });
  // the Hub holds our qwen file under another name: a lookup matches it by hash
  qwenBytes = readFileSync(join(served.sources, "qwen2.5-7b-instruct-q4_k_m.gguf"));
  hub.addRepo({ id: "acme/qwen2.5-7b-instruct-GGUF", tags: ["gguf"], files: [{ path: "Qwen-Q4_K_M.gguf", content: qwenBytes }] });
  return served;
}

/** Starts an operation over HTTP and returns its end event. */
async function run(path: string, body: unknown, op: string): Promise<Record<string, unknown>> {
  let id = "";
  const events = collectEvents(s.server.port, (e) => e.op === op && e.phase === "end" && e.id === id);
  await events.ready;
  const r = await api(s, "POST", path, body);
  assert.equal(r.status, 202, r.body);
  ({ id } = r.json() as { id: string });
  assert.equal((r.json() as { op: string }).op, op);
  const all = await events.done;
  return all[all.length - 1];
}

const qwenId = () => s.ids.find((id) => id.includes("qwen"))!;

test("POST /api/links/check and /api/links/repair: states per app, per model or all; links the user removed or replaced forgotten, their files left", async () => {
  const appDir = join(s.tmp, "llama.cpp");
  mkdirSync(appDir);
  const root = join(appDir, "models");
  const mapped = await run("/api/map", { app: "llamacpp", root, onConflict: "rename", link: "symlink" }, "map");
  assert.equal(mapped.state, "done", JSON.stringify(mapped));
  let end = await run("/api/links/check", {}, "links-check");
  assert.equal(end.state, "done");
  assert.deepEqual((end.summary as { counts: Record<string, number> }).counts, { healthy: 2, broken: 0, changed: 0, foreign: 0, missing: 0, unreadable: 0 });
  assert.equal((end.summary as { ok: boolean }).ok, true);
  // one link removed by the user, the other replaced by a symlink of the user's own (changed)
  const [a, b] = ["qwen2.5-7b-instruct-q4_k_m.gguf", "llama-3-8b-q4_k_m.gguf"].map((f) => join(root, f));
  unlinkSync(a);
  unlinkSync(b);
  const { symlinkSync } = await import("node:fs");
  symlinkSync(join(s.root, "nowhere", "gone.gguf"), b);
  end = await run("/api/links/check", { app: "llamacpp" }, "links-check");
  const summary = end.summary as { ok: boolean; counts: Record<string, number>; problems: { target: string; status: string }[] };
  assert.equal(summary.ok, false);
  assert.equal(summary.counts.missing, 1);
  assert.equal(summary.counts.changed, 1);
  assert.equal(summary.problems.length, 2);
  assert.deepEqual(summary.problems.map((p) => p.target).sort(), [a, b].sort());
  // per model: only that model's link
  end = await run("/api/links/check", { model: qwenId() }, "links-check");
  assert.deepEqual((end.summary as { problems: { target: string }[] }).problems.map((p) => p.target), [a]);
  // another app has no links: nothing checked
  end = await run("/api/links/check", { app: "comfyui" }, "links-check");
  assert.equal((end.summary as { checked: number }).checked, 0);

  end = await run("/api/links/repair", {}, "links-repair");
  assert.equal(end.state, "done", JSON.stringify(end));
  const repaired = end.summary as { repaired: number; errors: number; actions: { target: string; action: string; was: string }[] };
  assert.equal(repaired.errors, 0);
  assert.deepEqual(Object.fromEntries(repaired.actions.map((x) => [x.target, `${x.was} ${x.action}`])), { [a]: "missing forgotten", [b]: "changed forgotten" });
  assert.ok(lstatSync(b).isSymbolicLink(), "the user's own symlink stays");
  assert.equal(existsSync(a), false, "a link the user removed is not made again");
  end = await run("/api/links/check", {}, "links-check");
  assert.deepEqual((end.summary as { counts: Record<string, number>; ok: boolean }).counts, { healthy: 0, broken: 0, changed: 0, foreign: 0, missing: 0, unreadable: 0 });
  assert.equal(((await api(s, "GET", "/api/links")).json() as { links: unknown[] }).links.length, 0);
});

test("POST /api/map/config: ComfyUI's extra_model_paths.yaml written (the user's sections kept), A1111's flags answered", async () => {
  const comfy = join(s.tmp, "ComfyUI");
  mkdirSync(comfy);
  writeFileSync(join(comfy, "extra_model_paths.yaml"), "# mine\nother:\n  base_path: /elsewhere\n");
  const r = await api(s, "POST", "/api/map/config", { app: "comfyui", root: join(comfy, "models") });
  assert.equal(r.status, 200, r.body);
  const result = r.json() as { kind: string; file: string; backup: string | null; changed: boolean };
  assert.equal(result.kind, "comfyui-yaml");
  assert.equal(result.file, join(comfy, "extra_model_paths.yaml"));
  const text = readFileSync(result.file, "utf8");
  assert.match(text, /# mine/);
  assert.match(text, /other:\n {2}base_path: \/elsewhere/);
  assert.match(text, new RegExp(`model_library:\\n {2}base_path: ${s.root.replace(/[.]/g, "\\.")}`));
  const webui = join(s.tmp, "webui");
  mkdirSync(webui);
  const f = await api(s, "POST", "/api/map/config", { app: "a1111", root: join(webui, "models") });
  assert.equal(f.status, 200, f.body);
  assert.equal((f.json() as { kind: string }).kind, "flags");
  assert.equal(existsSync(join(webui, "extra_model_paths.yaml")), false);
  // the app folder must exist; a broken yaml is refused, left as it is
  const missing = await api(s, "POST", "/api/map/config", { app: "comfyui", root: join(s.tmp, "nope", "models") });
  assert.equal(missing.status, 404);
  assert.equal((missing.json() as { code: string }).code, "E_NOT_FOUND");
  writeFileSync(join(comfy, "extra_model_paths.yaml"), "a: [unclosed\n");
  const broken = await api(s, "POST", "/api/map/config", { app: "comfyui", root: join(comfy, "models") });
  assert.equal(broken.status, 400);
  assert.equal((broken.json() as { code: string }).code, "E_INVALID");
  assert.equal(readFileSync(join(comfy, "extra_model_paths.yaml"), "utf8"), "a: [unclosed\n");
});

test("POST /api/lookup: a hash match fills the repo; a repo set by hand is kept unless force", async () => {
  const id = qwenId();
  let end = await run("/api/lookup", { ids: [id] }, "lookup");
  assert.equal(end.state, "done", JSON.stringify(end));
  let [r] = (end.summary as { results: { id: string; outcome: string; repoId: string; method: string }[] }).results;
  assert.deepEqual([r.id, r.outcome, r.repoId, r.method], [id, "matched", "acme/qwen2.5-7b-instruct-GGUF", "hash"]);
  assert.equal((await s.library.getMetadata(id)).repo_id, "acme/qwen2.5-7b-instruct-GGUF");
  await s.library.updateMetadata(id, (m) => {
    // decided by hand: "no Hub repo" (as `mlib lookup --mark-manual`)
    m.repo_id = null;
    m.match_source = "manual";
    m.pending_online_lookup = false;
  });
  end = await run("/api/lookup", { ids: [id] }, "lookup");
  [r] = (end.summary as { results: { outcome: string }[] }).results as typeof r[];
  assert.equal(r.outcome, "kept-manual");
  assert.equal((await s.library.getMetadata(id)).repo_id, null);
  end = await run("/api/lookup", { ids: [id], force: true }, "lookup");
  [r] = (end.summary as { results: { outcome: string; repoId: string }[] }).results as typeof r[];
  assert.deepEqual([r.outcome, r.repoId], ["matched", "acme/qwen2.5-7b-instruct-GGUF"]);
  assert.equal((await s.library.getMetadata(id)).repo_id, "acme/qwen2.5-7b-instruct-GGUF");
});

test("POST /api/download { completeModelId }: only the missing shard is fetched into the model's folder", async () => {
  const dir = join(s.root, "llm", "llama", "sharded");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model-00001-of-00003.safetensors"), shard(1));
  writeFileSync(join(dir, "model-00003-of-00003.safetensors"), shard(3));
  const { modelId } = await importInPlace(s.library, { modelDir: dir, officialName: "sharded", repoId: "acme/sharded", allowIncomplete: true });
  const shown = (await api(s, "GET", `/api/models/${encodeURIComponent(modelId)}`)).json() as { missingShards: string[] };
  assert.deepEqual(shown.missingShards, ["model-00002-of-00003.safetensors"]);
  // with a repo or quant besides: refused
  const both = await api(s, "POST", "/api/download", { completeModelId: modelId, repoId: "acme/sharded" });
  assert.equal(both.status, 400);
  const end = await run("/api/download", { completeModelId: modelId }, "download");
  assert.equal(end.state, "done", JSON.stringify(end));
  assert.deepEqual(readFileSync(join(dir, "model-00002-of-00003.safetensors")), shard(2));
  const after = (await api(s, "GET", `/api/models/${encodeURIComponent(modelId)}`)).json() as { missingShards: string[]; metadata: { files: unknown[] } };
  assert.deepEqual(after.missingShards, []);
  assert.equal(after.metadata.files.length, 3);
  // nothing missing any more: refused at once
  const again = await api(s, "POST", "/api/download", { completeModelId: modelId });
  assert.equal(again.status, 400);
  assert.match((again.json() as { message: string }).message, /no shard is missing/);
  rmSync(join(process.env.TMPDIR ?? "/tmp", `mlib-actions-cache-${process.pid}`), { recursive: true, force: true });
});

test("a running download --complete is listed with its operation, refused twice, paused and resumed through /api/downloads", async () => {
  const dir = join(s.root, "llm", "llama", "sharded-two");
  mkdirSync(dir, { recursive: true });
  // contents of their own: a shard already in the library would be linked, not fetched
  hub.addRepo({ id: "acme/sharded-two", files: [1, 2, 3].map((i) => ({ path: `model-0000${i}-of-00003.safetensors`, content: shard(10 + i) })) });
  writeFileSync(join(dir, "model-00001-of-00003.safetensors"), shard(11));
  writeFileSync(join(dir, "model-00002-of-00003.safetensors"), shard(12));
  const { modelId } = await importInPlace(s.library, { modelDir: dir, officialName: "sharded two", repoId: "acme/sharded-two", allowIncomplete: true });
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 4000, times: 1 });
  const started = await api(s, "POST", "/api/download", { completeModelId: modelId });
  assert.equal(started.status, 202, started.body);
  const { id: opId } = started.json() as { id: string };
  type Row = { download_id: string; status: string; operationId: string | null };
  const list = async () => ((await api(s, "GET", "/api/downloads")).json() as { downloads: Row[] }).downloads;
  let row: Row | undefined;
  for (const end = Date.now() + 10_000; !row && Date.now() < end; await new Promise((r) => setTimeout(r, 25))) {
    row = (await list()).find((d) => d.status === "downloading" && d.operationId === opId);
  }
  assert.ok(row, "the completion is listed as downloading, with this server's operation");
  const twice = await api(s, "POST", "/api/download", { completeModelId: modelId });
  assert.equal(twice.status, 409, twice.body);
  const paused = await api(s, "POST", `/api/downloads/${row.download_id}/pause`);
  assert.equal(paused.status, 200, paused.body);
  assert.equal((paused.json() as { outcome: string }).outcome, "paused");
  assert.equal(existsSync(join(dir, "model-00003-of-00003.safetensors")), false);
  let id = "";
  const events = collectEvents(s.server.port, (e) => e.op === "download" && e.phase === "end" && e.id === id);
  await events.ready;
  const resumed = await api(s, "POST", `/api/downloads/${row.download_id}/resume`);
  assert.equal(resumed.status, 202, resumed.body);
  ({ id } = resumed.json() as { id: string });
  const all = await events.done;
  assert.equal(all[all.length - 1].state, "done", JSON.stringify(all[all.length - 1]));
  assert.deepEqual(readFileSync(join(dir, "model-00003-of-00003.safetensors")), shard(13));
});

test("the new routes: 401 without the token, 403 from a foreign origin, 400/404 with { code, message } for bad bodies", async () => {
  const port = s.server.port;
  const routes: [string, unknown][] = [
    ["/api/links/check", {}],
    ["/api/links/repair", {}],
    ["/api/map/config", { app: "comfyui", root: "/tmp/x/models" }],
    ["/api/lookup", { ids: [] }],
    ["/api/download", { completeModelId: qwenId() }],
  ];
  for (const [path, body] of routes) {
    const text = JSON.stringify(body);
    const noToken = await raw(port, "POST", path, { headers: { "content-type": "application/json" }, body: text });
    assert.equal(noToken.status, 401, path);
    assert.equal((noToken.json() as { code: string }).code, "E_AUTH");
    const foreign = await api(s, "POST", path, body, { origin: "http://evil.example" });
    assert.equal(foreign.status, 403, path);
    assert.equal((foreign.json() as { code: string }).code, "E_FORBIDDEN_ORIGIN");
    const get = await api(s, "GET", path);
    assert.equal(get.status, 405, path);
  }
  const bad: [string, unknown, number][] = [
    ["/api/links/check", { app: "../etc" }, 400],
    ["/api/links/repair", { app: "comfyui", extra: 1 }, 400],
    ["/api/map/config", { app: "comfyui", root: "relative/models" }, 400],
    ["/api/map/config", { app: "comfyui", root: "/tmp/x/models", dryRun: true }, 400],
    ["/api/lookup", { ids: "all" }, 400],
    ["/api/lookup", { ids: ["llm/none/nothing"] }, 404],
    ["/api/lookup", { ids: [qwenId()], force: "yes" }, 400],
    ["/api/download", { completeModelId: "llm/none/nothing" }, 404],
    ["/api/download", { completeModelId: qwenId() }, 400], // a single file: no shard missing
  ];
  for (const [path, body, status] of bad) {
    const r = await api(s, "POST", path, body);
    assert.equal(r.status, status, `${path} ${JSON.stringify(body)}: ${r.body}`);
    const e = r.json() as { code: string; message: string };
    assert.ok(e.code.startsWith("E_") && e.message.length > 0, r.body);
  }
});

test("filtered lists (answered in memory by the server) follow an edit at once, and a model added by another process", async () => {
  const id = qwenId();
  const before = await api(s, "GET", "/api/models?tag=fresh-tag");
  assert.equal((before.json() as { totalCount: number }).totalCount, 0);
  const edit = await api(s, "PATCH", `/api/models/${encodeURIComponent(id)}`, { tags: ["fresh-tag"] });
  assert.equal(edit.status, 200, edit.body);
  const after = (await api(s, "GET", "/api/models?tag=fresh-tag&sort=name")).json() as { totalCount: number; models: { id: string }[] };
  assert.deepEqual([after.totalCount, after.models.map((m) => m.id)], [1, [id]]);
  const searched = (await api(s, "GET", "/api/models?q=qwen&tag=FRESH-TAG")).json() as { totalCount: number };
  assert.equal(searched.totalCount, 1);
  // another connection (another process's import) writes a model: the server's lists are read again
  const { ModelLibrary } = await import("../../../src/store/model-library.js");
  const other = await ModelLibrary.open(s.root, { reconcile: "none" });
  try {
    const dir = join(s.root, "llm", "llama", "from-elsewhere");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "elsewhere.safetensors"), shard(40));
    await importInPlace(other, { modelDir: dir, officialName: "from elsewhere", family: "fresh-family" });
  } finally {
    other.close();
  }
  const seen = (await api(s, "GET", "/api/models?family=FRESH-FAMILY&type=llm&sort=size")).json() as { totalCount: number; models: { id: string }[] };
  assert.equal(seen.totalCount, 1);
  assert.match(seen.models[0].id, /from-elsewhere$/);
});
