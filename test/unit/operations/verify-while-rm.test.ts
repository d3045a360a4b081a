// `mlib verify` (every model) while `mlib rm` deletes one of the models it has not reached yet, in another
// process. verify lists the models first, then hashes them one by one: the deleted one was reported FAILED with
// every file "missing", and the run exited 1, though nothing in the library was wrong. Made certain: the verify
// (a child process, through the API) pauses at its first progress event until the rm has finished. The same with
// the model it is hashing deleted (its files read on through the open handle, so they hashed as intact: reported OK).
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

const TSX = import.meta.resolve("tsx");
const CHILD = new URL("../../helpers/verify-child.ts", import.meta.url).pathname;

interface Summary {
  results: { id: string; ok: boolean; error: string | null; files: { status: string }[] }[];
  ok: number;
  failed: number;
}

async function verifyWhileRemoved(
  ids: (a: string, z: string) => string[],
  victim: "a" | "z" = "z",
  during: (root: string, a: string, z: string) => Promise<void> = async (root, a, z) => {
    const rm = await runCli(["rm", victim === "a" ? a : z, "--yes", "--library", root]);
    assert.equal(rm.code, 0, rm.stderr);
  },
): Promise<{ summary: Summary; a: string; z: string }> {
  const { dir, cleanup } = tempDir("mlib-verify-rm-");
  const root = join(dir, "lib");
  try {
    const imp = await runCli(["import", writeGgufModel(join(dir, "in", "a.gguf"), "Aaa first", 1), writeGgufModel(join(dir, "in", "z.gguf"), "Zzz last", 2), "--json", "--library", root]);
    assert.equal(imp.code, 0, imp.stderr);
    const [a, z] = (JSON.parse(imp.stdout).results as { modelId: string }[]).map((r) => r.modelId).sort();
    const go = join(dir, "go");
    const child = spawn(process.execPath, ["--import", TSX, CHILD, root, go, ...ids(a, z)], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr!.on("data", (d) => (err += d));
    const done = new Promise<number | null>((resolve) => child.on("close", resolve));
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d) => {
        out += d;
        if (out.includes("HASHING")) resolve();
      });
      void done.then((code) => reject(new Error(`verify child ended (${code}) before hashing: ${err}`)));
    });
    await during(root, a, z);
    fs.writeFileSync(go, "");
    assert.equal(await done, 0, err);
    return { summary: JSON.parse(out.slice(out.indexOf("HASHING") + "HASHING".length)) as Summary, a, z };
  } finally {
    cleanup();
  }
}

test("mlib verify of every model while mlib rm deletes one it has not reached: not a failure", { timeout: 60_000 }, async () => {
  const { summary, a, z } = await verifyWhileRemoved(() => []);
  assert.equal(summary.failed, 0, JSON.stringify(summary.results));
  assert.deepEqual(summary.results.map((r) => r.id), [a], `${z} was deleted before verify reached it: no longer one of the library's models`);
});

test("mlib verify ID of a model mlib rm deletes meanwhile: failed, saying it was removed (not 'missing' files)", { timeout: 60_000 }, async () => {
  const { summary, z } = await verifyWhileRemoved((a, z) => [a, z]);
  const r = summary.results.find((x) => x.id === z)!;
  assert.equal(r.ok, false);
  assert.match(r.error ?? "", /removed from the library while verify ran/);
  assert.equal(summary.failed, 1);
});

test("mlib verify of every model while mlib rm deletes the one it is hashing: left out, not reported OK", { timeout: 60_000 }, async () => {
  const { summary, a, z } = await verifyWhileRemoved(() => [], "a");
  assert.equal(summary.failed, 0, JSON.stringify(summary.results));
  assert.deepEqual(summary.results.map((r) => r.id), [z], `${a} was deleted while verify hashed it: no longer one of the library's models`);
});

test("mlib verify ID of the model mlib rm deletes while it is hashed: failed, saying it was removed", { timeout: 60_000 }, async () => {
  const { summary, a, z } = await verifyWhileRemoved((a, z) => [a, z], "a");
  const r = summary.results.find((x) => x.id === a)!;
  assert.equal(r.ok, false, `${a} was deleted while hashed, reported ${JSON.stringify(r)}`);
  assert.match(r.error ?? "", /removed from the library while verify ran/);
  assert.equal(summary.results.find((x) => x.id === z)?.ok, true);
  assert.equal(summary.failed, 1);
});

test("mlib verify of the model mlib edit changes while it is hashed: still verified OK (its metadata.json rewritten, not removed)", { timeout: 60_000 }, async () => {
  const { summary, a } = await verifyWhileRemoved((a, z) => [a, z], "a", async (root, a) => {
    const edit = await runCli(["edit", a, "--notes", "edited while verified", "--library", root]);
    assert.equal(edit.code, 0, edit.stderr);
  });
  assert.equal(summary.failed, 0, JSON.stringify(summary.results));
  assert.equal(summary.results.find((x) => x.id === a)?.ok, true);
});
