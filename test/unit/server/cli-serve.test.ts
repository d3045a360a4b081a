// `mlib serve` and `mlib edit` as a user runs them: a real child process, its printed URL, a real request,
// SIGTERM/SIGINT → exit 0; a non-loopback --host warns; edit writes through the same operation as PATCH.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { MLIB_ARGV, REPO_ROOT, runCli, runCliJson } from "../../helpers/cli.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

let tmp: { dir: string; cleanup: () => void };
let lib: string;
let id: string;

before(async () => {
  tmp = tempDir("mlib-serve-cli-");
  lib = join(tmp.dir, "lib");
  const src = writeGgufModel(join(tmp.dir, "src", "qwen2.5-0.5b-q4_k_m.gguf"), "Qwen2.5 0.5B", 3);
  const r = await runCliJson<{ results: { modelId: string }[] }>(["import", src, "--library", lib, "--json"]);
  id = r.json.results[0].modelId;
});
after(() => tmp.cleanup());

/** Starts `mlib serve`, waits for its URL line; returns the child and the URL. */
function serve(args: string[]): Promise<{ child: ReturnType<typeof spawn>; url: string; stderr: () => string; exit: Promise<number | null> }> {
  const child = spawn(process.execPath, [...MLIB_ARGV, "serve", "--library", lib, "--port", "0", ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  let stdout = "";
  let stderr = "";
  child.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  const exit = new Promise<number | null>((resolve) => child.on("close", (code) => resolve(code)));
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`no URL printed; stdout: ${stdout} stderr: ${stderr}`));
    }, 20_000);
    child.stdout.setEncoding("utf8").on("data", (d: string) => {
      stdout += d;
      const m = /serving on (http:\/\/\S+)/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1], stderr: () => stderr, exit });
      }
    });
    child.on("close", () => {
      clearTimeout(timer);
      reject(new Error(`serve exited early; stdout: ${stdout} stderr: ${stderr}`));
    });
  });
}

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  test(`mlib serve prints its URL with a token, answers, and stops cleanly on ${signal} (exit 0)`, async () => {
    const s = await serve([]);
    const url = new URL(s.url);
    assert.equal(url.hostname, "127.0.0.1");
    assert.ok((url.searchParams.get("token") ?? "").length >= 20);
    const res = await fetch(new URL("/api/models", url));
    assert.equal(res.status, 200);
    assert.equal(((await res.json()) as { totalCount: number }).totalCount, 1);
    // an open event stream must not keep the server from stopping
    const controller = new AbortController();
    const events = await fetch(new URL("/api/events", url), { signal: controller.signal });
    assert.equal(events.status, 200);
    s.child.kill(signal);
    assert.equal(await s.exit, 0, s.stderr());
    controller.abort();
  });
}

test("SIGTERM while a verify is running: the operation is stopped and the server exits 0", async () => {
  const big = join(tmp.dir, "src", "big-model-q8_0.gguf");
  const { buildTinyLlamaGguf } = await import("../../../src/demo/gguf-writer.js");
  const { writeFileSync, appendFileSync } = await import("node:fs");
  writeFileSync(big, buildTinyLlamaGguf({ name: "Big", fileType: 7, seed: 9 }));
  appendFileSync(big, Buffer.alloc(48 * 1024 * 1024, 7)); // tensor data past the header: hashed, not parsed
  const imported = await runCli(["import", big, "--library", lib]);
  assert.equal(imported.code, 0, imported.stderr);
  const s = await serve([]);
  const url = new URL(s.url);
  const token = url.searchParams.get("token")!;
  const res = await fetch(new URL("/api/verify", url), { method: "POST", headers: { "x-mlib-token": token, "content-type": "application/json" }, body: "{}" });
  assert.equal(res.status, 202);
  s.child.kill("SIGTERM");
  assert.equal(await s.exit, 0, s.stderr());
  assert.doesNotMatch(s.stderr(), /Error|at .+:\d+:\d+/);
});

test("--host other than loopback warns", async () => {
  const s = await serve(["--host", "0.0.0.0"]);
  s.child.kill("SIGTERM");
  assert.equal(await s.exit, 0);
  assert.match(s.stderr(), /warning: listening on 0\.0\.0\.0/);
});

// A busy port is no usage error (the same command works once the port is free): exit 1, "something failed",
// with the port named and the way out; it exited 2 as if the command line were wrong.
test("a port in use fails with exit 1 (not the usage-error 2), naming the port and --port", async () => {
  const s = await serve([]);
  const port = new URL(s.url).port;
  const r = await runCli(["serve", "--library", lib, "--port", port]);
  const json = await runCli(["serve", "--library", lib, "--port", port, "--json"]);
  s.child.kill("SIGTERM");
  await s.exit;
  assert.equal(r.code, 1, r.stderr);
  assert.equal(r.stderr, `mlib: port ${port} on 127.0.0.1 is in use (another mlib serve, or another program): pick another with --port\n`);
  assert.equal(r.stdout, "");
  assert.equal(json.code, 1, json.stderr);
  assert.equal(json.stdout, "");
});

test("mlib edit changes name, tags and notes; marks them manual; id and folder stay", async () => {
  const r = await runCli(["edit", id, "--library", lib, "--name", "Tiny Qwen", "--tag", "a,b", "--tag", "c", "--notes", "hello"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /edited .*official_name, tags, notes/);
  const meta = JSON.parse(readFileSync(join(lib, id, "metadata.json"), "utf8")) as Record<string, unknown>;
  assert.equal(meta.official_name, "Tiny Qwen");
  assert.deepEqual(meta.tags, ["a", "b", "c"]);
  assert.equal(meta.notes, "hello");
  assert.deepEqual(meta.manual_fields, ["notes", "official_name", "tags"]);
  const shown = await runCliJson<{ id: string; officialName: string }>(["show", id, "--library", lib, "--json"]);
  assert.equal(shown.json.id, id);
  assert.equal(shown.json.officialName, "Tiny Qwen");
  const nothing = await runCli(["edit", id, "--library", lib]);
  assert.equal(nothing.code, 2);
  assert.match(nothing.stderr, /nothing to change/);
  const unknown = await runCli(["edit", "llm/none/x", "--library", lib, "--name", "x"]);
  assert.equal(unknown.code, 1);
  assert.match(unknown.stderr, /not found/);
});
