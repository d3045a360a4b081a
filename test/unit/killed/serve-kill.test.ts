// `mlib serve` killed with SIGKILL while an import started from the web page is under way (its metadata.json written
// in staging, the model not committed yet), in move mode: the source file is still there, the library holds no
// half model, the next command removes the dead server's staging, the same import then succeeds and doctor is clean.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { CLI_MAIN, REPO_ROOT, runCli, runCliJson } from "../../helpers/cli.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

const TSX = import.meta.resolve("tsx");

test("serve killed during a web import (move mode): the source is kept, staging cleaned, the import again works", async () => {
  const t = tempDir("mlib-killed-serve-");
  try {
    const root = join(t.dir, "lib");
    assert.equal((await runCli(["init", "--library", root])).code, 0);
    const src = writeGgufModel(join(t.dir, "src", "tiny.gguf"), "Tiny Llama");
    const child = spawn(process.execPath, ["--import", TSX, CLI_MAIN, "serve", "--library", root, "--port", "0"], {
      cwd: REPO_ROOT,
      env: { ...process.env, MLIB_TEST_PAUSE_AT: "after-rename:metadata.json" },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const exit = new Promise<string | null>((resolve) => child.on("close", (_code, signal) => resolve(signal)));
    let stdout = "";
    let stderr = "";
    const url = await new Promise<URL>((resolve, reject) => {
      child.stdout.setEncoding("utf8").on("data", (d: string) => {
        stdout += d;
        const m = /serving on (http:\/\/\S+)/.exec(stdout);
        if (m) resolve(new URL(m[1]));
      });
      child.on("close", () => reject(new Error(`serve ended: ${stdout}${stderr}`)));
    });
    const paused = new Promise<void>((resolve) => {
      child.stderr.setEncoding("utf8").on("data", (d: string) => {
        stderr += d;
        if (stderr.includes("MLIB_TEST_PAUSED ")) resolve();
      });
    });
    const token = url.searchParams.get("token")!;
    const res = await fetch(new URL("/api/import", url), {
      method: "POST",
      headers: { "x-mlib-token": token, "content-type": "application/json" },
      body: JSON.stringify({ paths: [src], mode: "move" }),
    });
    assert.equal(res.status, 202);
    await paused; // the import's metadata.json is written in staging; the model is not committed
    child.kill("SIGKILL");
    assert.equal(await exit, "SIGKILL");

    assert.ok(existsSync(src), "the source of a move is kept until the model is committed");
    const listed = await runCliJson<{ models: unknown[] }>(["list", "--json", "--library", root]);
    assert.equal(listed.json.models.length, 0, "no half model in the library");
    const staging = join(root, ".model-library", "staging");
    assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], "the dead server's staging is removed by the next command");
    const again = await runCli(["import", src, "--mode", "move", "--library", root]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.ok(!existsSync(src));
    assert.equal((await runCliJson<{ models: unknown[] }>(["list", "--json", "--library", root])).json.models.length, 1);
    const doctor = await runCli(["doctor", "--library", root]);
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  } finally {
    t.cleanup();
  }
});
