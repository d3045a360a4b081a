// Issue 9 item 6: staging folders and the commit lock carry a lease their owner renews; another process
// breaks one only when it expired or its owner is provably dead (same host, boot and PID namespace, pid
// gone), and otherwise leaves it and says so. Real child processes, killed with SIGKILL.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, rmSync, statSync, utimesSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { makeStagingDir, releaseStaging, cleanStaging } from "../../../src/store/staging.js";
import { acquireLock, releaseLock, withLock } from "../../../src/core/lock.js";
import { currentOwner } from "../../../src/core/lease.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { MLIB_ARGV, REPO_ROOT, nodeArgvFor } from "../../helpers/cli.js";

const CHILD = fileURLToPath(new URL("../../helpers/lease-child.ts", import.meta.url));

/** Starts the lease child and resolves with it and the path it holds once it says `ready`. */
function startChild(what: "staging" | "lock", root: string, env: Record<string, string> = {}): Promise<{ child: ChildProcess; path: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgvFor(CHILD), what, root], { env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let errText = "";
    child.stderr!.on("data", (d: Buffer) => (errText += d.toString()));
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      const m = /ready (.+)\n/.exec(out);
      if (m) resolve({ child, path: m[1] });
    });
    child.on("exit", (code) => reject(new Error(`lease child exited (${code}) before ready: ${errText}`)));
  });
}

function killHard(child: ChildProcess): Promise<void> {
  return new Promise((resolve) => {
    child.removeAllListeners("exit");
    child.on("exit", () => resolve());
    child.kill("SIGKILL");
  });
}

function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString());
}

const ago = (ms: number) => new Date(Date.now() - ms);

describe("leases on staging and the commit lock", () => {
  test("a staging folder of a process killed with SIGKILL (same host, boot, PID namespace) is removed on open", async () => {
    const t = tempDir();
    try {
      const { child, path } = await startChild("staging", t.dir);
      assert.ok(existsSync(path) && existsSync(`${path}.lease`));
      // While the owner runs, it is left alone (and reported).
      let lib = await ModelLibrary.open(t.dir);
      lib.close();
      assert.ok(existsSync(path));
      assert.match(lib.staging!.leftAlone[0]?.why ?? "", /is running/);
      assert.equal(lib.staging!.leftAlone[0]?.running, true);
      assert.deepEqual(lib.notices, [], "an import seen running here is not worth a notice");
      await killHard(child);
      lib = await ModelLibrary.open(t.dir);
      lib.close();
      assert.equal(existsSync(path), false);
      assert.equal(existsSync(`${path}.lease`), false);
      assert.match(lib.staging!.removed[0]?.why ?? "", /has exited/);
    } finally {
      t.cleanup();
    }
  });

  test("the owner renews its lease on a timer (nothing for the importer to call)", async () => {
    const t = tempDir();
    try {
      const { child, path } = await startChild("staging", t.dir, { MLIB_LEASE_RENEW_MS: "100" });
      try {
        utimesSync(`${path}.lease`, ago(60_000), ago(60_000));
        await new Promise((r) => setTimeout(r, 600));
        const age = Date.now() - statSync(`${path}.lease`).mtimeMs;
        assert.ok(age < 5000, `renewed ${age} ms ago (set to 60 s ago before)`);
      } finally {
        await killHard(child);
      }
      // The commit lock, taken with acquireLock and held: renewed the same way until released.
      const lock = await startChild("lock", t.dir, { MLIB_LEASE_RENEW_MS: "100" });
      try {
        utimesSync(lock.path, ago(60_000), ago(60_000));
        await new Promise((r) => setTimeout(r, 600));
        const age = Date.now() - statSync(lock.path).mtimeMs;
        assert.ok(age < 5000, `lock renewed ${age} ms ago (set to 60 s ago before)`);
      } finally {
        await killHard(lock.child);
      }
      // Our own staging: the lease ends when the folder goes.
      const mine = await makeStagingDir(t.dir);
      assert.ok(existsSync(`${mine}.lease`));
      rmdirQuiet(mine);
      releaseStaging(mine);
      assert.equal(existsSync(`${mine}.lease`), false);
    } finally {
      t.cleanup();
    }
  });

  test("a lease from another PID namespace is left alone while renewed, removed once expired", () => {
    const t = tempDir();
    try {
      const stagingRoot = join(t.dir, ".model-library", "staging");
      mkdirSync(join(stagingRoot, "123-abc"), { recursive: true });
      // Same host and boot, a pid that does not exist here: in another namespace that proves nothing.
      const other = { ...currentOwner(), pid: deadPid(), pidNs: "pid:[4026599999]" };
      writeFileSync(join(stagingRoot, "123-abc.lease"), JSON.stringify(other));
      let report = cleanStaging(t.dir);
      assert.equal(report.removed.length, 0);
      assert.match(report.leftAlone[0].why, /another PID namespace/);
      assert.ok(existsSync(join(stagingRoot, "123-abc")));
      // Not renewed for longer than the expiry: broken.
      utimesSync(join(stagingRoot, "123-abc.lease"), ago(3 * 60_000), ago(3 * 60_000));
      report = cleanStaging(t.dir);
      assert.equal(report.removed.length, 1);
      assert.match(report.removed[0].why, /not renewed for 1[0-9]{2} s/);
      assert.equal(existsSync(join(stagingRoot, "123-abc")), false);
      // The expiry is configurable (tests, slow shared folders).
      mkdirSync(join(stagingRoot, "124-abc"));
      writeFileSync(join(stagingRoot, "124-abc.lease"), JSON.stringify(other));
      utimesSync(join(stagingRoot, "124-abc.lease"), ago(2000), ago(2000));
      assert.equal(cleanStaging(t.dir, { timings: { renewMs: 100, expireMs: 1000 } }).removed.length, 1);
    } finally {
      t.cleanup();
    }
  });

  test("the commit lock of a killed holder is broken; one held from another PID namespace is waited for, then broken when expired", async () => {
    const t = tempDir();
    try {
      const lockPath = join(t.dir, COMMIT_LOCK);
      const { child } = await startChild("lock", t.dir);
      await assert.rejects(withLock(lockPath, () => 1, { timeoutMs: 200 }), /locked by pid .*is running/);
      await killHard(child);
      assert.equal(await withLock(lockPath, () => "taken", { timeoutMs: 2000 }), "taken");

      writeFileSync(lockPath, JSON.stringify({ ...currentOwner(), pid: deadPid(), pidNs: "pid:[4026599999]", acquiredAt: "x" }));
      await assert.rejects(withLock(lockPath, () => 1, { timeoutMs: 200 }), /another PID namespace/);
      assert.ok(existsSync(lockPath));
      utimesSync(lockPath, ago(3 * 60_000), ago(3 * 60_000));
      assert.equal(await withLock(lockPath, () => "taken", { timeoutMs: 2000 }), "taken");
    } finally {
      t.cleanup();
    }
  });

  test("the lock's temp file a kill -9 leaves is removed by the same rule", async () => {
    const t = tempDir();
    try {
      const lockPath = join(t.dir, COMMIT_LOCK);
      mkdirSync(join(t.dir, ".model-library"));
      const dead = { ...currentOwner(), pid: deadPid() };
      const otherNs = { ...currentOwner(), pid: deadPid(), pidNs: "pid:[4026599999]" };
      const deadTmp = join(t.dir, ".model-library", `.commit.lock.${dead.pid}.${dead.token}.tmp`);
      const liveTmp = join(t.dir, ".model-library", `.commit.lock.${otherNs.pid}.${otherNs.token}.tmp`);
      writeFileSync(deadTmp, JSON.stringify(dead));
      writeFileSync(liveTmp, JSON.stringify(otherNs));
      const h = await acquireLock(lockPath);
      await releaseLock(lockPath, h);
      assert.equal(existsSync(deadTmp), false, "dead writer's temp file removed");
      assert.equal(existsSync(liveTmp), true, "another namespace's fresh temp file left");
      utimesSync(liveTmp, ago(3 * 60_000), ago(3 * 60_000));
      await releaseLock(lockPath, await acquireLock(lockPath));
      assert.deepEqual(readdirSync(join(t.dir, ".model-library")), []);
    } finally {
      t.cleanup();
    }
  });

  test("the commit lock and temp files of the layout before .model-library/ are removed once expired", async () => {
    const t = tempDir();
    try {
      // Records as the earlier version wrote them: no boot id, no PID namespace (so age alone decides).
      const old = { pid: deadPid(), hostname: "h", startTicks: null, acquiredAt: "x", token: "t" };
      writeFileSync(join(t.dir, ".commit.lock"), JSON.stringify(old));
      writeFileSync(join(t.dir, "..commit.lock.1.t.tmp"), JSON.stringify(old));
      let lib = await ModelLibrary.open(t.dir);
      lib.close();
      assert.ok(existsSync(join(t.dir, ".commit.lock")), "fresh: left");
      for (const f of [".commit.lock", "..commit.lock.1.t.tmp"]) utimesSync(join(t.dir, f), ago(3 * 60_000), ago(3 * 60_000));
      lib = await ModelLibrary.open(t.dir);
      lib.close();
      assert.equal(existsSync(join(t.dir, ".commit.lock")), false);
      assert.equal(existsSync(join(t.dir, "..commit.lock.1.t.tmp")), false);
    } finally {
      t.cleanup();
    }
  });

  test("`mlib list` run in another PID namespace leaves a live import's staging alone", async (tc) => {
    if (spawnSync("unshare", ["--pid", "--fork", "--mount-proc", "true"]).status !== 0) {
      tc.skip("unshare --pid --fork --mount-proc is not permitted here");
      return;
    }
    const t = tempDir();
    try {
      const lib = await ModelLibrary.open(t.dir);
      lib.close();
      const staging = await makeStagingDir(t.dir); // this process: alive, but its pid means nothing in the new namespace
      writeFileSync(join(staging, "half.gguf"), "copy in progress");
      const r = spawnSync("unshare", ["--pid", "--fork", "--mount-proc", process.execPath, ...MLIB_ARGV, "list", "--library", t.dir], {
        cwd: REPO_ROOT,
        encoding: "utf8",
        timeout: 30_000,
      });
      assert.equal(r.status, 0, r.stderr);
      assert.ok(existsSync(join(staging, "half.gguf")), "the import in progress survived");
      assert.match(r.stderr, /left the import folder .* in place: .*another PID namespace/);
      rmdirQuiet(staging);
      releaseStaging(staging);
    } finally {
      t.cleanup();
    }
  });
});

function rmdirQuiet(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
