// The JSON API over a real library on a real loopback server: search, facets, a model, edit, delete,
// operations with progress over server-sent events, cancel, and the routes not wired yet.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, existsSync } from "node:fs";
import { join } from "node:path";
import { serveLibrary, api, raw, enc, collectEvents, type Served } from "./server-fixture.js";

let s: Served;
before(async () => {
  s = await serveLibrary();
});
after(async () => {
  await s.close();
});

interface ModelsAnswer {
  models: { id: string; officialName: string; format: string; tags: string[] }[];
  totalCount: number;
}

test("GET /api/models lists every model, with totals, paging and sorting", async () => {
  const all = (await raw(s.server.port, "GET", "/api/models")).json() as ModelsAnswer;
  assert.equal(all.totalCount, 3);
  assert.deepEqual(all.models.map((m) => m.id).sort(), s.ids);
  const page = (await raw(s.server.port, "GET", "/api/models?sort=name&limit=1&offset=1")).json() as ModelsAnswer;
  assert.equal(page.totalCount, 3);
  assert.equal(page.models.length, 1);
  const byName = (await raw(s.server.port, "GET", "/api/models?sort=name")).json() as ModelsAnswer;
  assert.equal(page.models[0].id, byName.models[1].id);
});

test("GET /api/models searches and filters (a filter repeated means any of its values)", async () => {
  const q = (await raw(s.server.port, "GET", "/api/models?q=qwen")).json() as ModelsAnswer;
  assert.equal(q.totalCount, 1);
  assert.match(q.models[0].id, /qwen/);
  const gguf = (await raw(s.server.port, "GET", "/api/models?format=gguf")).json() as ModelsAnswer;
  assert.equal(gguf.totalCount, 2);
  const both = (await raw(s.server.port, "GET", "/api/models?format=gguf&format=safetensors")).json() as ModelsAnswer;
  assert.equal(both.totalCount, 3);
  const none = (await raw(s.server.port, "GET", "/api/models?q=qwen&format=safetensors")).json() as ModelsAnswer;
  assert.equal(none.totalCount, 0);
});

test("bad search parameters are a 400 with a code and a message", async () => {
  for (const path of ["/api/models?sort=bogus", "/api/models?limit=0", "/api/models?limit=abc", "/api/models?tagMode=some", "/api/models?nope=1", "/api/models?limit=5000"]) {
    const r = await raw(s.server.port, "GET", path);
    assert.equal(r.status, 400, path);
    const body = r.json() as { code: string; message: string };
    assert.equal(body.code, "E_USAGE");
    assert.ok(body.message.length > 5);
  }
});

test("GET /api/facets counts the matches per group, for the same filters", async () => {
  const f = (await raw(s.server.port, "GET", "/api/facets")).json() as { formats: Record<string, number>; types: Record<string, number> };
  assert.equal(f.formats.gguf, 2);
  assert.equal(f.formats.safetensors, 1);
  const q = (await raw(s.server.port, "GET", "/api/facets?q=qwen")).json() as { formats: Record<string, number> };
  assert.deepEqual(q.formats, { gguf: 1 });
});

test("GET /api/models/:id (percent-encoded or not) gives the record, metadata and metadata.json as stored", async () => {
  const id = s.ids[0];
  const r = await raw(s.server.port, "GET", `/api/models/${enc(id)}`);
  assert.equal(r.status, 200);
  const d = r.json() as { record: { id: string }; metadata: { files: { sha256: string }[] }; metadataText: string };
  assert.equal(d.record.id, id);
  assert.equal(d.metadata.files[0].sha256.length, 64);
  assert.equal(d.metadataText, readFileSync(join(s.root, id, "metadata.json"), "utf8"));
  assert.equal((await raw(s.server.port, "GET", `/api/models/${id}`)).status, 200);
  const missing = await raw(s.server.port, "GET", `/api/models/${enc("llm/none/nothing")}`);
  assert.equal(missing.status, 404);
  assert.equal((missing.json() as { code: string }).code, "E_NOT_FOUND");
  const hostile = await raw(s.server.port, "GET", `/api/models/${enc("../../etc/passwd")}`);
  assert.ok([400, 404].includes(hostile.status));
});

test("PATCH edits name, tags and notes through metadata.json; id and folder stay; fields marked manual", async () => {
  const id = s.ids.find((x) => x.includes("llama"))!;
  const r = await api(s, "PATCH", `/api/models/${enc(id)}`, { name: "My Llama", tags: ["favourite", "chat"], notes: "works well" });
  assert.equal(r.status, 200, r.body);
  const meta = JSON.parse(readFileSync(join(s.root, id, "metadata.json"), "utf8")) as Record<string, unknown>;
  assert.equal(meta.official_name, "My Llama");
  assert.deepEqual(meta.tags, ["favourite", "chat"]);
  assert.equal(meta.notes, "works well");
  assert.deepEqual(meta.manual_fields, ["notes", "official_name", "tags"]);
  assert.ok(existsSync(join(s.root, id, "metadata.json.bak")));
  const found = (await raw(s.server.port, "GET", "/api/models?tag=favourite")).json() as ModelsAnswer;
  assert.deepEqual(found.models.map((m) => m.id), [id]);
  assert.equal(found.models[0].officialName, "My Llama");
  // invalid edits are refused and change nothing
  for (const body of [{ name: "" }, { tags: "x" }, { tags: [1] }, { name: 5 }, { id: "other" }, {}]) {
    const bad = await api(s, "PATCH", `/api/models/${enc(id)}`, body);
    assert.equal(bad.status, 400, JSON.stringify(body));
  }
  assert.equal((JSON.parse(readFileSync(join(s.root, id, "metadata.json"), "utf8")) as Record<string, unknown>).official_name, "My Llama");
});

test("POST /api/verify returns an id; /api/events streams its progress and the end with a summary", async () => {
  const events = collectEvents(s.server.port, (e) => e.phase === "end");
  await events.ready;
  const r = await api(s, "POST", "/api/verify", {});
  assert.equal(r.status, 202, r.body);
  const { id } = r.json() as { id: string };
  const got = await events.done;
  const mine = got.filter((e) => e.id === id);
  assert.equal(mine[0].phase, "start");
  assert.ok(mine.some((e) => e.phase === "hash" && typeof e.done === "number" && typeof e.total === "number" && e.total > 0), JSON.stringify(mine));
  const end = mine[mine.length - 1] as { state: string; summary: { ok: number; failed: number } };
  assert.equal(end.state, "done");
  assert.deepEqual([end.summary.ok, end.summary.failed], [3, 0]);
  const info = (await raw(s.server.port, "GET", `/api/operations/${id}`)).json() as { state: string; result: { results: unknown[]; ok: number } };
  assert.equal(info.state, "done");
  assert.equal(info.result.results.length, 3);
  assert.equal(info.result.ok, 3);
  const list = (await raw(s.server.port, "GET", "/api/operations")).json() as { operations: { id: string; summary: { ok: number }; result?: unknown }[] };
  const listed = list.operations.find((o) => o.id === id)!;
  assert.equal(listed.summary.ok, 3);
  assert.equal(listed.result, undefined, "the list leaves the full results out");
});

test("verify of an unknown id is a 404 before anything starts", async () => {
  const r = await api(s, "POST", "/api/verify", { ids: ["llm/none/x"] });
  assert.equal(r.status, 404);
});

test("POST /api/operations/:id/cancel stops a running operation: it ends as cancelled", async () => {
  const events = collectEvents(s.server.port, (e) => e.phase === "end");
  await events.ready;
  const r = await api(s, "POST", "/api/redetect", { ids: s.ids });
  const { id } = r.json() as { id: string };
  // The operation starts on the next turn: the cancel below lands before its first item.
  const c = await api(s, "POST", `/api/operations/${id}/cancel`);
  assert.equal(c.status, 202, c.body);
  const got = await events.done;
  assert.equal(got[got.length - 1].state, "cancelled");
  assert.equal((await api(s, "POST", `/api/operations/${id}/cancel`)).status, 409);
  assert.equal((await api(s, "POST", "/api/operations/nope/cancel")).status, 404);
});

test("the same verify twice at once (a double click on Verify all): the second is refused with 409, naming the running one", async () => {
  const events = collectEvents(s.server.port, (e) => e.op === "verify" && e.phase === "end");
  await events.ready;
  const [a, b] = await Promise.all([api(s, "POST", "/api/verify", { ids: [] }), api(s, "POST", "/api/verify", { ids: [] })]);
  const started = [a, b].find((r) => r.status === 202);
  const refused = [a, b].find((r) => r.status === 409);
  assert.ok(started && refused, `${a.status} ${a.body} / ${b.status} ${b.body}`);
  const { id } = started.json() as { id: string };
  assert.match(refused.body, new RegExp(`verify of every model is already running \\(operation ${id}\\)`));
  await events.done;
  // Once it has ended, the same verify starts again.
  const again = collectEvents(s.server.port, (e) => e.op === "verify" && e.phase === "end");
  await again.ready;
  assert.equal((await api(s, "POST", "/api/verify", { ids: [] })).status, 202);
  await again.done;
});

test("POST /api/import imports a path on this machine; bad paths are refused", async () => {
  const { writeGgufModel } = await import("../../helpers/library-fixtures.js");
  const file = writeGgufModel(join(s.sources, "new", "phi-3-mini-q8_0.gguf"), "Phi 3 mini", 9);
  const events = collectEvents(s.server.port, (e) => e.op === "import" && e.phase === "end");
  await events.ready;
  const r = await api(s, "POST", "/api/import", { paths: [file], mode: "copy" });
  assert.equal(r.status, 202, r.body);
  const got = await events.done;
  const end = got[got.length - 1] as { state: string; summary: { imported: number } };
  assert.equal(end.state, "done", JSON.stringify(end));
  assert.equal(end.summary.imported, 1);
  const all = (await raw(s.server.port, "GET", "/api/models")).json() as ModelsAnswer;
  assert.equal(all.totalCount, 4);
  for (const body of [{ paths: ["relative/x.gguf"] }, { paths: [] }, { paths: "x" }, { paths: ["/x"], mode: "teleport" }, { paths: ["/x"], allowPickle: "yes" }]) {
    assert.equal((await api(s, "POST", "/api/import", body)).status, 400, JSON.stringify(body));
  }
});

test("DELETE removes the model's folder and row; an unknown id is a 404", async () => {
  const id = s.ids.find((x) => x.includes("mistral"))!;
  const r = await api(s, "DELETE", `/api/models/${enc(id)}?cascade=1`);
  assert.equal(r.status, 200, r.body);
  assert.equal((r.json() as { deleted: boolean }).deleted, true);
  assert.ok(!existsSync(join(s.root, id)));
  assert.equal((await raw(s.server.port, "GET", `/api/models/${enc(id)}`)).status, 404);
  assert.equal((await api(s, "DELETE", `/api/models/${enc(id)}`)).status, 404);
  assert.ok(existsSync(join(s.sources, "mistral-7b.safetensors")), "the import source is never touched");
  // the remembered facets follow the change
  const f = (await raw(s.server.port, "GET", "/api/facets")).json() as { formats: Record<string, number> };
  assert.equal(f.formats.safetensors, undefined);
});

test("unknown routes 404; wrong methods 405", async () => {
  assert.equal((await raw(s.server.port, "GET", "/api/nothing")).status, 404);
  assert.equal((await api(s, "PUT", "/api/models")).status, 405);
});

test("GET /api/stats counts and sizes by group", async () => {
  const st = (await raw(s.server.port, "GET", "/api/stats")).json() as { count: number; byFormat: Record<string, number> };
  assert.ok(st.count >= 2);
  assert.ok(st.byFormat.gguf >= 1);
});

test("HEAD /api/events answers its headers and ends (it stayed open for good, as a GET stream does)", async () => {
  const r = await Promise.race([
    raw(s.server.port, "HEAD", "/api/events"),
    new Promise<never>((_, reject) => setTimeout(() => reject(new Error("HEAD /api/events did not end within 3 s")), 3000)),
  ]);
  assert.equal(r.status, 200);
  assert.match(String(r.headers["content-type"]), /text\/event-stream/);
});
