// The mapper over HTTP, on a real library and real folders: the app profiles, a preview (dryRun) that changes
// nothing, apply as an operation with progress, the links listed (all, per app, per model, on the model's
// page), DELETE of a linked model refused without cascade (409 naming the links) and with cascade removing
// the links, unlink removing exactly ours, and bad bodies refused before anything runs.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, readdirSync, readlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { serveLibrary, api, raw, enc, collectEvents, type Served } from "./server-fixture.js";

let s: Served;
let appDir: string;
let root: string;
before(async () => {
  s = await serveLibrary();
  appDir = join(s.tmp, "llama.cpp");
  mkdirSync(appDir);
  root = join(appDir, "models");
});
after(async () => {
  await s.close();
});

interface Preview {
  creates: { modelId: string; target: string }[];
  conflicts: { target: string; reason: string }[];
  skips: unknown[];
}
interface Link {
  model_id: string;
  target: string;
  app_id: string;
  link_type: string;
}

const ggufIds = () => s.ids.filter((id) => !id.includes("mistral"));

test("GET /api/apps lists the built-in profiles", async () => {
  const r = await raw(s.server.port, "GET", "/api/apps");
  assert.equal(r.status, 200);
  const ids = (r.json() as { apps: { id: string }[] }).apps.map((a) => a.id);
  for (const id of ["comfyui", "a1111", "forge", "llamacpp", "lmstudio"]) assert.ok(ids.includes(id), id);
});

test("POST /api/map dryRun previews what apply would make and changes nothing; a user's file there is a conflict", async () => {
  mkdirSync(root, { recursive: true });
  writeFileSync(join(root, "llama-3-8b-q4_k_m.gguf"), "the user's own file");
  const r = await api(s, "POST", "/api/map", { app: "llamacpp", root, dryRun: true });
  assert.equal(r.status, 200, r.body);
  const { preview } = r.json() as { preview: Preview };
  assert.deepEqual(preview.creates.map((c) => c.target), [join(root, "qwen2.5-7b-instruct-q4_k_m.gguf")]);
  assert.deepEqual(preview.conflicts.map((c) => c.target), [join(root, "llama-3-8b-q4_k_m.gguf")]);
  assert.deepEqual(readdirSync(root), ["llama-3-8b-q4_k_m.gguf"], "a preview makes nothing");
});

test("POST /api/map applies as an operation (progress, summary); the links are listed, per app and per model", async () => {
  const events = collectEvents(s.server.port, (e) => e.op === "map" && e.phase === "end");
  await events.ready;
  const r = await api(s, "POST", "/api/map", { app: "llamacpp", root, onConflict: "rename", link: "symlink" });
  assert.equal(r.status, 202, r.body);
  const got = await events.done;
  const end = got[got.length - 1] as { state: string; summary: { made: number; conflicts: number; errors: number } };
  assert.equal(end.state, "done", JSON.stringify(end));
  assert.deepEqual([end.summary.made, end.summary.conflicts, end.summary.errors], [2, 0, 0]);
  assert.equal(readlinkSync(join(root, "qwen2.5-7b-instruct-q4_k_m.gguf")).endsWith("qwen2.5-7b-instruct-q4_k_m.gguf"), true);
  assert.ok(lstatSync(join(root, "llama-3-8b-q4_k_m_1.gguf")).isSymbolicLink(), "renamed beside the user's file");
  assert.equal(lstatSync(join(root, "llama-3-8b-q4_k_m.gguf")).isFile(), true, "the user's file stays");

  const all = (await raw(s.server.port, "GET", "/api/links")).json() as { links: Link[] };
  assert.deepEqual(all.links.map((l) => l.model_id).sort(), ggufIds());
  assert.ok(all.links.every((l) => l.app_id === "llamacpp" && l.link_type === "symlink"));
  assert.equal(((await raw(s.server.port, "GET", "/api/links?app=comfyui")).json() as { links: Link[] }).links.length, 0);
  const one = ggufIds()[0];
  const mine = (await raw(s.server.port, "GET", `/api/links?model=${enc(one)}`)).json() as { links: Link[] };
  assert.deepEqual(mine.links.map((l) => l.model_id), [one]);
  // the model's page says where it is linked
  const shown = (await raw(s.server.port, "GET", `/api/models/${enc(one)}`)).json() as { links: Link[] };
  assert.deepEqual(shown.links.map((l) => l.target), mine.links.map((l) => l.target));
});

test("DELETE of a linked model: 409 naming the links without cascade (nothing removed); cascade removes links and model", async () => {
  const id = ggufIds().find((x) => x.includes("qwen"))!;
  const target = join(root, "qwen2.5-7b-instruct-q4_k_m.gguf");
  const refused = await api(s, "DELETE", `/api/models/${enc(id)}`);
  assert.equal(refused.status, 409, refused.body);
  const body = refused.json() as { code: string; message: string; links: { target: string; app: string }[] };
  assert.equal(body.code, "E_LINKED");
  assert.match(body.message, /linked/);
  assert.deepEqual(body.links.map((l) => l.target), [target]);
  assert.ok(existsSync(join(s.root, id)) && lstatSync(target).isSymbolicLink(), "model and link stay");

  const r = await api(s, "DELETE", `/api/models/${enc(id)}?cascade=1`);
  assert.equal(r.status, 200, r.body);
  const done = r.json() as { deleted: boolean; linksRemoved: number };
  assert.deepEqual([done.deleted, done.linksRemoved], [true, 1]);
  assert.ok(!existsSync(join(s.root, id)));
  assert.throws(() => lstatSync(target), "the link went with it");
  const left = (await raw(s.server.port, "GET", "/api/links")).json() as { links: Link[] };
  assert.ok(left.links.every((l) => l.model_id !== id));
});

test("POST /api/unlink removes exactly our links in that app root; the user's file stays", async () => {
  const events = collectEvents(s.server.port, (e) => e.op === "unlink" && e.phase === "end");
  await events.ready;
  const r = await api(s, "POST", "/api/unlink", { app: "llamacpp", root });
  assert.equal(r.status, 202, r.body);
  const got = await events.done;
  const end = got[got.length - 1] as { state: string; summary: { removed: number } };
  assert.equal(end.state, "done", JSON.stringify(end));
  assert.equal(end.summary.removed, 1);
  assert.deepEqual(readdirSync(root), ["llama-3-8b-q4_k_m.gguf"]);
  assert.equal(((await raw(s.server.port, "GET", "/api/links")).json() as { links: Link[] }).links.length, 0);
});

test("bad mapping bodies and link filters are 400 before anything runs; an app folder that does not exist is 404", async () => {
  const bodies: unknown[] = [
    {},
    { app: "llamacpp" },
    { app: "llamacpp", root: "relative/models" },
    { app: "../etc", root },
    { app: "llamacpp", root, onConflict: "clobber" },
    { app: "llamacpp", root, link: "teleport" },
    { app: "llamacpp", root, dryRun: "yes" },
    { app: "llamacpp", root, configDir: "/tmp" },
    { app: "llamacpp", root, appVersion: "1 && rm" },
    { app: 5, root },
  ];
  for (const b of bodies) {
    const r = await api(s, "POST", "/api/map", b);
    assert.equal(r.status, 400, `${JSON.stringify(b)} → ${r.body}`);
    assert.equal((r.json() as { code: string }).code, "E_USAGE");
  }
  assert.equal((await api(s, "POST", "/api/unlink", { app: "llamacpp", root: "models" })).status, 400);
  const nowhere = await api(s, "POST", "/api/map", { app: "llamacpp", root: join(s.tmp, "no-such-app", "models"), dryRun: true });
  assert.equal(nowhere.status, 404, nowhere.body);
  assert.ok(!existsSync(join(s.tmp, "no-such-app")), "nothing made outside the app folder");
  const unknownApp = await api(s, "POST", "/api/map", { app: "nosuchapp", root, dryRun: true });
  assert.ok([400, 404].includes(unknownApp.status), unknownApp.body);
  for (const q of ["?app=../x", "?bogus=1"]) assert.equal((await raw(s.server.port, "GET", `/api/links${q}`)).status, 400, q);
});
