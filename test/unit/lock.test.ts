import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn, spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import { withLock, acquireLock, releaseLock } from "../../src/core/lock.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import { currentOwner } from "../../src/core/lease.js";
import { EVAL_LOADER, importPathFor } from "../helpers/cli.js";

const CORE = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/core");

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
}

function runChild(script: string): Promise<{ code: number | null; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [...EVAL_LOADER, "--input-type=module", "-e", script], { stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("exit", (code) => resolve({ code, stderr }));
  });
}

describe("withLock", () => {
  test("3 processes × 50 read-increment-write cycles on one JSON file: no update is lost", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "counter.json");
      const lock = path.join(dir, "counter.json.lock");
      fs.writeFileSync(file, JSON.stringify({ n: 0, by: {} }));
      const script = (who: string): string =>
        `import { withLock } from ${JSON.stringify(importPathFor(path.join(CORE, "lock.ts")))};\n` +
        `import { readJson, writeJsonAtomic } from ${JSON.stringify(importPathFor(path.join(CORE, "atomic-json.ts")))};\n` +
        `for (let i = 0; i < 50; i++) {\n` +
        `  await withLock(${JSON.stringify(lock)}, async () => {\n` +
        `    const v = await readJson(${JSON.stringify(file)});\n` +
        // yield inside the critical section so an unlocked version would interleave and lose updates
        `    await new Promise((r) => setTimeout(r, Math.random() * 2));\n` +
        `    v.n += 1; v.by[${JSON.stringify(who)}] = (v.by[${JSON.stringify(who)}] ?? 0) + 1;\n` +
        `    await writeJsonAtomic(${JSON.stringify(file)}, v);\n` +
        `  }, { timeoutMs: 60000 });\n` +
        `}\n`;
      const results = await Promise.all(["a", "b", "c"].map((w) => runChild(script(w))));
      for (const r of results) assert.equal(r.code, 0, r.stderr);
      const final = JSON.parse(fs.readFileSync(file, "utf8")) as { n: number; by: Record<string, number> };
      assert.equal(final.n, 150);
      assert.deepEqual(final.by, { a: 50, b: 50, c: 50 });
      assert.equal(fs.existsSync(lock), false, "the lock is released at the end");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("calls in one process are serialized too", async () => {
    const dir = tempDir();
    try {
      const lock = path.join(dir, "x.lock");
      let inside = 0;
      let maxInside = 0;
      await Promise.all(
        Array.from({ length: 8 }, () =>
          withLock(lock, async () => {
            inside++;
            maxInside = Math.max(maxInside, inside);
            await new Promise((r) => setTimeout(r, 3));
            inside--;
          }),
        ),
      );
      assert.equal(maxInside, 1);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("returns fn's value and releases the lock when fn throws", async () => {
    const dir = tempDir();
    try {
      const lock = path.join(dir, "x.lock");
      assert.equal(await withLock(lock, () => 42), 42);
      await assert.rejects(
        withLock(lock, () => {
          throw new Error("boom");
        }),
        /boom/,
      );
      assert.equal(fs.existsSync(lock), false);
      assert.equal(await withLock(lock, async () => "again", { timeoutMs: 100 }), "again");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("E_LOCKED after the timeout, naming the lock file and the holder", async () => {
    const dir = tempDir();
    try {
      const lock = path.join(dir, "x.lock");
      const held = await acquireLock(lock);
      const started = Date.now();
      await assert.rejects(withLock(lock, () => 1, { timeoutMs: 150 }), (e: unknown) => {
        assert.ok(e instanceof ModelLibraryError);
        assert.equal(e.code, "E_LOCKED");
        assert.equal(e.path, lock);
        assert.ok(e.message.includes(lock), e.message);
        assert.ok(e.message.includes(`pid ${process.pid}`), e.message);
        assert.ok(e.message.includes(os.hostname()), e.message);
        return true;
      });
      assert.ok(Date.now() - started >= 140);
      await releaseLock(lock, held);
      assert.equal(fs.existsSync(lock), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a lock left by a dead process is taken over", async () => {
    const dir = tempDir();
    try {
      const lock = path.join(dir, "x.lock");
      // A real process takes the lock and dies without releasing it.
      const script =
        `import { acquireLock } from ${JSON.stringify(importPathFor(path.join(CORE, "lock.ts")))};\n` +
        `await acquireLock(${JSON.stringify(lock)});\nprocess.exit(0);\n`;
      const r = await runChild(script);
      assert.equal(r.code, 0, r.stderr);
      const left = JSON.parse(fs.readFileSync(lock, "utf8")) as { pid: number };
      assert.notEqual(left.pid, process.pid);
      assert.equal(await withLock(lock, () => "mine", { timeoutMs: 2000 }), "mine");
      assert.equal(fs.existsSync(lock), false);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a live holder on another host is never judged stale", async () => {
    const dir = tempDir();
    try {
      const lock = path.join(dir, "x.lock");
      // The pid is dead here, but on another host a pid says nothing: we must wait, not break the lock.
      const dead = spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString();
      fs.writeFileSync(lock, JSON.stringify({ pid: Number(dead), hostname: "other-host.example", startTicks: null, acquiredAt: "2020-01-01T00:00:00Z", token: "t" }));
      await assert.rejects(withLock(lock, () => 1, { timeoutMs: 100 }), (e: unknown) => {
        assert.ok(e instanceof ModelLibraryError && e.code === "E_LOCKED");
        assert.ok(e.message.includes("other-host.example"), e.message);
        assert.ok(e.message.includes("another host"), e.message);
        return true;
      });
      assert.ok(fs.existsSync(lock));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a recycled pid (same pid, different start time) does not keep a dead holder's lock", async () => {
    const dir = tempDir();
    try {
      const lock = path.join(dir, "x.lock");
      if (!fs.existsSync(`/proc/${process.pid}/stat`)) return; // start times are read from /proc (Linux)
      // A record as this version writes it: boot id and PID namespace say "this machine, this namespace".
      const me = currentOwner();
      fs.writeFileSync(lock, JSON.stringify({ ...me, startTicks: 1, acquiredAt: "2020-01-01T00:00:00Z", token: "old" }));
      assert.equal(await withLock(lock, () => "taken", { timeoutMs: 1000 }), "taken");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
