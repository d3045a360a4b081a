// The hub commands as a user runs them (the real CLI in a child process) against the fake Hub: search with
// Link pagination then from the cache, offline answers, a download killed with SIGKILL and resumed by the same
// command (fetching only the part that was in flight), downloads list/pause/cancel, and gated-repo advice.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { startFakeHub, type FakeHub, fakeHubConfig } from "../../helpers/fake-hub.js";
import { runCli, runCliJson, MLIB_ARGV, REPO_ROOT } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";

const MiB = 1024 * 1024;
// 40 MiB of a real GGUF header followed by noise: 5 parts of 8 MiB on 2 connections.
const bigGguf = Buffer.concat([buildTinyLlamaGguf({ name: "Big", fileType: 15, contextLength: 2048, seed: 5 }), randomBytes(40 * MiB)]).subarray(0, 40 * MiB);

let hub: FakeHub;
let tmp: ReturnType<typeof tempDir>;
let env: Record<string, string | undefined>;

before(async () => {
  hub = await startFakeHub({
    repos: [
      ...["alpha", "beta", "gamma", "delta", "epsilon"].map((n, i) => ({
        id: `acme/${n}-7B-GGUF`,
        tags: ["gguf", "Q4_K_M"],
        pipeline_tag: "text-generation",
        downloads: 100 - i,
        files: [{ path: `${n}-7b-Q4_K_M.gguf`, content: buildTinyLlamaGguf({ name: n, fileType: 15, contextLength: 2048, seed: i }) }],
      })),
      { id: "acme/big-GGUF", files: [{ path: "big-Q4_K_M.gguf", content: bigGguf }] },
      { id: "acme/notes", files: [{ path: "README.md", content: Buffer.from("# notes\n") }] },
      { id: "acme/gated-GGUF", gatedToken: "hf_ok", files: [{ path: "g-Q4_K_M.gguf", content: buildTinyLlamaGguf({ name: "g", fileType: 15, contextLength: 2048, seed: 9 }) }] },
    ],
  });
  tmp = tempDir("mlib-clihub-");
  env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(tmp.dir, "hf"), MLIB_CACHE_DIR: join(tmp.dir, "cache"), HF_HUB_OFFLINE: undefined };
});
after(async () => {
  await hub.close();
  tmp.cleanup();
});

const lib = (): string => join(tmp.dir, "lib");

test("hub search follows Link pagination, then answers from the cache; offline answers from the cache only", async () => {
  hub.requests.length = 0;
  const r = await runCliJson<{ models: { repoId: string; downloadOptions: { quant: string; sizeBytes: number }[] }[]; fromCache: boolean }>(["hub", "search", "7B", "--limit", "4", "--sort", "downloads", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json.models.map((m) => m.repoId), ["acme/alpha-7B-GGUF", "acme/beta-7B-GGUF", "acme/gamma-7B-GGUF", "acme/delta-7B-GGUF"]);
  assert.equal(r.json.models[0].downloadOptions[0].quant, "Q4_K_M");
  assert.ok(hub.requests.some((q) => q.url.includes("cursor=")), "followed the Link header");
  hub.requests.length = 0;
  const again = await runCliJson<{ fromCache: boolean; models: unknown[] }>(["hub", "search", "7b ", "--limit", "4", "--sort", "downloads", "--json"], { env });
  assert.equal(again.json.fromCache, true);
  assert.equal(again.json.models.length, 4);
  // --json before the command name counts for a subcommand too (mlib → hub → search).
  const globalJson = await runCliJson<{ fromCache: boolean }>(["--json", "hub", "search", "7B", "--limit", "4", "--sort", "downloads"], { env });
  assert.equal(globalJson.json.fromCache, true, globalJson.stdout);
  assert.equal(hub.requests.length, 0);
  const off = await runCliJson<{ fromCache: boolean }>(["hub", "search", "7B", "--limit", "4", "--sort", "downloads", "--refresh", "--json"], { env: { ...env, HF_HUB_OFFLINE: "1" } });
  assert.equal(off.json.fromCache, true);
  const miss = await runCli(["hub", "search", "never-searched", "--json"], { env: { ...env, HF_HUB_OFFLINE: "1" } });
  assert.equal(miss.code, 1);
  assert.match(miss.stderr, /HF_HUB_OFFLINE/);
  assert.equal(hub.requests.length, 0, "offline: no connection at all");
});

test("hub search takes its words unquoted: `mlib hub search qwen coder` is the query \"qwen coder\"", async () => {
  const before = hub.requests.length;
  const r = await runCliJson<{ models: unknown[] }>(["hub", "search", "never", "seen", "words", "--refresh", "--json"], { env });
  assert.equal(r.code, 0, r.stderr);
  const asked = hub.requests.slice(before).map((q) => new URL(q.url, "http://x").searchParams.get("search")).filter((x) => x !== null);
  assert.deepEqual(asked, ["never seen words"]);
});

test("hub info and hub files", async () => {
  const info = await runCliJson<{ commitSha: string; model: { downloadOptions: { quant: string }[] } }>(["hub", "info", "acme/big-GGUF", "--json"], { env });
  assert.equal(info.code, 0, info.stderr);
  assert.match(info.json.commitSha, /^[0-9a-f]{40}$/);
  const files = await runCliJson<{ files: { path: string; sha256: string; size: number }[] }>(["hub", "files", "acme/big-GGUF", "--json"], { env });
  assert.equal(files.json.files[0].size, 40 * MiB);
  const text = await runCli(["hub", "info", "acme/big-GGUF"], { env });
  assert.match(text.stdout, /Q4_K_M/);
  // The table gives each file the hash a download checks it against: an LFS file's sha256, a git file's blob sha1.
  const lfsTable = await runCli(["hub", "files", "acme/big-GGUF"], { env });
  assert.match(lfsTable.stdout, new RegExp(`big-Q4_K_M\\.gguf.*lfs\\s+${files.json.files[0].sha256}`));
  const gitTable = await runCli(["hub", "files", "acme/notes"], { env });
  const blob = createHash("sha1").update("blob 8\0# notes\n").digest("hex");
  assert.match(gitTable.stdout, new RegExp(`README\\.md.*git\\s+git ${blob}`), gitTable.stdout);
});

test("a gated repo: the error says how to set a token; with HF_TOKEN it works", async () => {
  const r = await runCli(["download", "acme/gated-GGUF", "--library", lib()], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /gated/);
  assert.match(r.stderr, /HF_TOKEN/);
  const ok = await runCliJson<{ modelId: string }>(["download", "acme/gated-GGUF", "--library", lib(), "--json"], { env: { ...env, HF_TOKEN: "hf_ok" } });
  assert.equal(ok.code, 0, ok.stderr);
  assert.ok(ok.json.modelId);
});

test("kill -9 mid-download: the same command resumes and fetches only the part that was in flight", async () => {
  // 8 MiB parts, the first of each connection shorter (part-layout.ts): 0-4, 4-12, 12-20, 20-28, 28-36, 36-40 MiB.
  // Part 2 (bytes 12 MiB..20 MiB) hangs; the other parts complete and are recorded; then the process is killed.
  hub.faults.push({ kind: "stall", matchRange: `bytes=${12 * MiB}-`, stallMs: 60_000, afterBytes: 0, times: 1 });
  const args = ["download", "acme/big-GGUF", "--connections", "2", "--library", lib(), "--json"];
  const child = spawn(process.execPath, [...MLIB_ARGV, ...args], {
    cwd: REPO_ROOT,
    env: Object.fromEntries(Object.entries({ ...process.env, ...env }).filter(([, v]) => v !== undefined)) as NodeJS.ProcessEnv,
    stdio: "ignore",
  });
  const staging = join(lib(), ".model-library", "downloads");
  let record: { completed: number[] } | null = null;
  for (let i = 0; i < 300; i++) {
    await new Promise((r) => setTimeout(r, 50));
    const dirs = existsSync(staging) ? readdirSync(staging) : [];
    const rec = dirs.map((d) => join(staging, d, "big-Q4_K_M.gguf.part.json")).find((f) => existsSync(f));
    if (rec) {
      record = JSON.parse(readFileSync(rec, "utf8")) as { completed: number[] };
      if (record.completed.length >= 5) break;
    }
  }
  child.kill("SIGKILL");
  await new Promise((r) => child.once("exit", r));
  assert.deepEqual(record?.completed.sort(), [0, 1, 3, 4, 5]);
  hub.faults.length = 0;

  const listed = await runCliJson<{ downloads: { status: string; download_id: string }[] }>(["downloads", "list", "--library", lib(), "--json"], { env });
  assert.equal(listed.json.downloads[0].status, "paused", "a download whose process died shows as paused");

  hub.requests.length = 0;
  const r = await runCliJson<{ files: { sha256: string; how: string }[]; modelId: string }>(args, { env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.files[0].how, "resumed");
  const parts = hub.requests.filter((q) => q.origin === "cdn" && q.range !== "bytes=0-0");
  assert.deepEqual(parts.map((q) => q.range), [`bytes=${12 * MiB}-${20 * MiB - 1}`], "only the part in flight is fetched again");
  const stored = readFileSync(join(lib(), ...r.json.modelId.split("/"), "big-Q4_K_M.gguf"));
  assert.ok(stored.equals(bigGguf));
  const after = await runCliJson<{ downloads: unknown[] }>(["downloads", "--library", lib(), "--json"], { env });
  assert.deepEqual(after.json.downloads, []);
});

test("downloads resume ID runs a paused download to the end", async () => {
  const { ModelLibrary } = await import("../../../src/store/model-library.js");
  const { downloadModel } = await import("../../../src/hub/download-model.js");
  const { HubClient } = await import("../../../src/hub/hub-client.js");
  hub.addRepo({ id: "acme/paused-GGUF", files: [{ path: "p-Q4_K_M.gguf", content: bigGguf.subarray(0, 20 * MiB) }] });
  // Parts 0-4, 4-12, 12-20 MiB (part-layout.ts): part 1 hangs until the pause.
  hub.faults.push({ kind: "stall", matchRange: `bytes=${4 * MiB}-`, stallMs: 5000, afterBytes: 0, times: 1 });
  const l = await ModelLibrary.open(lib());
  const client = new HubClient(fakeHubConfig(hub, join(tmp.dir, "cache")));
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 1500);
  await assert.rejects(downloadModel(l, { repoId: "acme/paused-GGUF", connections: 2, client }, { signal: ac.signal }), /paused/);
  client.close();
  l.close();
  hub.faults.length = 0;
  const listed = await runCliJson<{ downloads: { status: string; download_id: string }[] }>(["downloads", "--library", lib(), "--json"], { env });
  const paused = listed.json.downloads.find((d) => d.status === "paused");
  assert.ok(paused);
  const r = await runCliJson<{ modelId: string; files: { how: string }[] }>(["downloads", "resume", paused.download_id.slice(0, 8), "--library", lib(), "--json"], { env, timeoutMs: 60_000 });
  assert.equal(r.code, 0, r.stderr);
  assert.equal(r.json.files[0].how, "resumed");
  assert.ok(readFileSync(join(lib(), ...r.json.modelId.split("/"), "p-Q4_K_M.gguf")).equals(bigGguf.subarray(0, 20 * MiB)));
});

test("downloads pause/cancel of unknown ids are clear errors", async () => {
  const r = await runCli(["downloads", "cancel", "nope", "--library", lib()], { env });
  assert.equal(r.code, 1);
  assert.match(r.stderr, /no download "nope"/);
  const u = await runCli(["downloads", "pause", "--library", lib()], { env });
  assert.equal(u.code, 2);
});
