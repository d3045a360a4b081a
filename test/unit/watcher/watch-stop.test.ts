// `mlib watch` stopped (SIGTERM) while it adopts a big model file: it stops at once and exits 0, and the adoption
// it was doing is abandoned whole (no metadata.json written half-way through, nothing indexed from it).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { MLIB_ARGV, REPO_ROOT } from "../../helpers/cli.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { watchLibrary } from "../../../src/watcher/watch-library.js";

async function until(cond: () => boolean, ms: number, what: () => string): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`condition not met in time; ${what()}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("SIGTERM during an adoption: mlib watch stops without finishing the hash and exits 0", async () => {
  const t = tempDir("mlib-watch-stop-");
  const dir = path.join(t.dir, "llm", "llama", "big");
  // A real GGUF header, then a sparse tail: hashing its 384 MB takes a few seconds of CPU, no disk space.
  const file = writeGgufModel(path.join(dir, "big.gguf"), "Big", 7);
  fs.truncateSync(file, 384 * 1024 * 1024);
  const child = spawn(process.execPath, [...MLIB_ARGV, "watch", "--library", t.dir, "--debounce", "20", "--settle", "50"], {
    cwd: REPO_ROOT,
    stdio: ["ignore", "pipe", "pipe"],
  });
  const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
  let stdout = "";
  child.stdout.on("data", (d) => (stdout += d));
  try {
    await until(() => stdout.includes("waiting     "), 15000, () => `mlib watch printed:\n${stdout}`);
    // The settle time is over and the hash under way (it takes seconds); the signal comes in the middle of it.
    await new Promise((r) => setTimeout(r, 400));
    const sent = Date.now();
    child.kill("SIGTERM");
    assert.equal(await exited, 0);
    const tookMs = Date.now() - sent;
    assert.equal(fs.existsSync(path.join(dir, "metadata.json")), false, `the adoption was finished after SIGTERM (exit after ${tookMs} ms):\n${stdout}`);
    assert.doesNotMatch(stdout, /adopted/);
    assert.ok(tookMs < 3000, `took ${tookMs} ms to stop`);
  } finally {
    if (child.exitCode === null && child.signalCode === null) {
      child.kill("SIGKILL");
      await exited;
    }
    t.cleanup();
  }
});

test("the signal fired while the watcher is starting (its first walk of the library) still stops it", async () => {
  const t = tempDir("mlib-watch-stop-");
  // Enough folders that the first walk spans many turns of the event loop.
  for (let i = 0; i < 300; i++) fs.mkdirSync(path.join(t.dir, "llm", `fam${i % 30}`, `m${i}`), { recursive: true });
  const lib = await ModelLibrary.open(t.dir);
  const ac = new AbortController();
  try {
    const starting = watchLibrary(lib, { signal: ac.signal, debounceMs: 20 });
    setImmediate(() => ac.abort()); // during the walk
    const w = await starting.catch((e: Error & { code?: string }) => {
      assert.equal(e.code, "E_CANCELLED"); // refusing to start is as good as stopping
      return null;
    });
    if (w) {
      const stopped = await Promise.race([w.closed.then(() => true), new Promise<boolean>((r) => setTimeout(() => r(false), 3000))]);
      if (!stopped) await w.close();
      assert.ok(stopped, "the watcher kept running after its signal fired during start-up");
      assert.equal(w.watchedFolders(), 0);
    }
  } finally {
    lib.close();
    t.cleanup();
  }
});
