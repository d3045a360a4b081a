// Locks and leases on a full disk: a lock or a staging lease that cannot be written is E_IO naming it, leaves no
// lock, lease or temp file behind (so nobody believes they hold it), and a lock held while the disk fills stays
// its holder's: renewing needs no space, so another process neither breaks nor takes it.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock } from "../../../src/core/lock.js";
import { isModelLibraryError } from "../../../src/core/errors.js";
import { makeStagingDir, releaseStaging } from "../../../src/store/staging.js";
import { COMMIT_LOCK, STAGING_DIR } from "../../../src/store/layout.js";
import { smallDisk } from "../../helpers/small-disk.js";

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe("locks and leases on a full disk", () => {
  test("a lock that cannot be written: E_IO 'no space left', no lock and no temp file; taken once space is freed", async (t) => {
    const disk = smallDisk(t, 1);
    if (!disk) return;
    try {
      const lock = join(disk.dir, "lib", COMMIT_LOCK);
      mkdirSync(join(lock, ".."), { recursive: true });
      const give = disk.fill();
      for (let i = 0; i < 2; i++) {
        const e = await acquireLock(lock, { timeoutMs: 200 }).then(() => null, (x: unknown) => x);
        assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
        assert.match(e.message, /no space left/);
        assert.ok(e.message.includes(lock), e.message);
      }
      assert.deepEqual(readdirSync(join(lock, "..")), [], "no lock, no temp record");
      give();
      const held = await acquireLock(lock);
      assert.ok(existsSync(lock));
      await releaseLock(lock, held);
    } finally {
      disk.cleanup();
    }
  });

  test("a staging lease that cannot be written: E_IO, no folder and no lease left", async (t) => {
    const disk = smallDisk(t, 1);
    if (!disk) return;
    try {
      const root = join(disk.dir, "lib");
      mkdirSync(join(root, ...STAGING_DIR.split("/")), { recursive: true });
      const give = disk.fill();
      const e = await makeStagingDir(root).then(() => null, (x: unknown) => x);
      assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
      assert.match(e.message, /no space left/);
      assert.deepEqual(readdirSync(join(root, ...STAGING_DIR.split("/"))), [], "nothing left");
      give();
      const dir = await makeStagingDir(root);
      assert.ok(existsSync(dir));
      releaseStaging(dir);
    } finally {
      disk.cleanup();
    }
  });

  test("a lock held by another process while the disk fills stays its own past the lease's expiry", async (t) => {
    const disk = smallDisk(t, 1);
    if (!disk) return;
    const timings = { renewMs: 50, expireMs: 400 };
    const root = join(disk.dir, "lib");
    mkdirSync(join(root, ".model-library"), { recursive: true });
    const child = spawn(process.execPath, ["--import", "tsx", join(import.meta.dirname, "..", "..", "helpers", "lease-child.ts"), "lock", root], {
      env: { ...process.env, MLIB_LEASE_RENEW_MS: String(timings.renewMs), MLIB_LEASE_EXPIRE_MS: String(timings.expireMs) },
      stdio: ["ignore", "pipe", "inherit"],
    });
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (d: Buffer) => d.toString().includes("ready") && resolve());
        child.on("exit", (code) => reject(new Error(`the lock holder exited (${code})`)));
      });
      const give = disk.fill();
      await sleep(3 * timings.expireMs);
      const lock = join(root, COMMIT_LOCK);
      const e = await acquireLock(lock, { timeoutMs: 300, timings }).then(() => null, (x: unknown) => x);
      // Either still locked (waited), or no room for our own record: never taken.
      assert.ok(isModelLibraryError(e) && (e.code === "E_LOCKED" || e.code === "E_IO"), String(e));
      give();
      const again = await acquireLock(lock, { timeoutMs: 300, timings }).then(() => null, (x: unknown) => x);
      assert.ok(isModelLibraryError(again) && again.code === "E_LOCKED", `the holder still renews it: ${String(again)}`);
    } finally {
      child.kill("SIGKILL");
      await new Promise((r) => child.once("exit", r));
      disk.cleanup();
    }
  });
});
