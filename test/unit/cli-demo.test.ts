// `mlib demo` needs no input: it writes real-format samples to a temp folder, imports, searches, dedups,
// verifies, and cleans up (unless --keep).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { runCli, runCliJson } from "../helpers/cli.js";

interface DemoSummary {
  libraryRoot: string;
  sourceDir: string;
  kept: boolean;
  imported: { modelId: string; format: string }[];
  failed: number;
  searches: { query: string; totalCount: number; ids: string[] }[];
  dedup: { status: string; duplicateOf: string | null };
  verify: { ok: boolean; models: number; failed: number };
  elapsedMs: number;
}

test("demo --json: imports the samples, finds them, dedups, verifies OK, removes its temp folders", async () => {
  const home = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-demo-home-"));
  try {
    const r = await runCliJson<DemoSummary>(["demo", "--json"], { env: { MODEL_LIBRARY_HOME: home } });
    assert.equal(r.code, 0, r.stderr);
    const s = r.json;
    assert.equal(s.imported.length, 3);
    assert.equal(s.failed, 0);
    assert.deepEqual(s.imported.map((m) => m.format).sort(), ["gguf", "safetensors", "safetensors"]);
    assert.equal(s.verify.ok, true);
    assert.equal(s.verify.models, 3);
    assert.equal(s.dedup.status, "duplicate");
    assert.ok(s.imported.some((m) => m.modelId === s.dedup.duplicateOf));
    const llama = s.searches.find((q) => q.query === "llama");
    const lora = s.searches.find((q) => q.query === "lora");
    assert.ok(llama && llama.totalCount >= 1);
    assert.ok(lora && lora.totalCount === 1, JSON.stringify(lora));
    assert.ok(s.elapsedMs < 10_000);
    assert.equal(s.kept, false);
    assert.equal(fs.existsSync(s.libraryRoot), false, "temp library removed");
    assert.equal(fs.existsSync(s.sourceDir), false, "temp sources removed");
    assert.deepEqual(fs.readdirSync(home), [], "$MODEL_LIBRARY_HOME is never used by the demo");
  } finally {
    fs.rmSync(home, { recursive: true, force: true });
  }
});

test("demo --keep (human): step by step, ends with the library path and commands to try; the library works", async () => {
  const r = await runCli(["demo", "--keep"]);
  assert.equal(r.code, 0, r.stderr);
  const root = /Library: (\S+)/.exec(r.stdout)?.[1];
  assert.ok(root, r.stdout);
  try {
    for (const step of ["1.", "2.", "3.", "4.", "5.", "6."]) assert.match(r.stdout, new RegExp(`^${step.replace(".", "\\.")} `, "m"));
    assert.match(r.stdout, /already in the library as/);
    assert.ok(r.stdout.includes(`mlib --library ${root} list`));
    assert.ok(r.stdout.includes("mlib import ~/models"));
    const list = await runCliJson<{ totalCount: number }>(["--library", root, "list", "--json"]);
    assert.equal(list.json.totalCount, 3);
  } finally {
    fs.rmSync(path.dirname(root), { recursive: true, force: true });
  }
});
