// A kill -9 while a staging lease is being written (store/staging.ts): what it can leave behind is judged at the
// next open, at once, never left "for 2 minutes" as an owner nobody can name. The leftovers are written here by
// hand, as the kill leaves them (an empty or half-written lease without its folder, the lease's temp file),
// rather than hoping a random kill lands in the microseconds of the write.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { cleanStaging, makeStagingDir, releaseStaging } from "../../../src/store/staging.js";
import { currentOwner } from "../../../src/core/lease.js";
import { acquireLock, releaseLock } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { tempDir } from "../../helpers/library-fixtures.js";

function deadPid(): number {
  return Number(spawnSync(process.execPath, ["-e", "process.stdout.write(String(process.pid))"]).stdout.toString());
}

function stagingRootOf(root: string): string {
  const dir = join(root, ".model-library", "staging");
  mkdirSync(dir, { recursive: true });
  return dir;
}

describe("a staging lease torn by a kill", () => {
  test("an empty or half-written lease without its folder is removed on open, at once", async () => {
    const t = tempDir();
    try {
      const staging = stagingRootOf(t.dir);
      const pid = deadPid();
      // Killed after open(O_CREAT) and before the write; killed in the middle of it.
      writeFileSync(join(staging, `${pid}-0a0a0a0a0a0a.lease`), "");
      writeFileSync(join(staging, `${pid}-0b0b0b0b0b0b.lease`), JSON.stringify(currentOwner()).slice(0, 20));
      const lib = await ModelLibrary.open(t.dir);
      lib.close();
      assert.deepEqual(readdirSync(staging), []);
    } finally {
      t.cleanup();
    }
  });

  test("the lease's temp file a kill leaves (empty, or whole with a dead writer) is removed on open, at once", async () => {
    const t = tempDir();
    try {
      const staging = stagingRootOf(t.dir);
      const dead = { ...currentOwner(), pid: deadPid() };
      writeFileSync(join(staging, `${dead.pid}-0c0c0c0c0c0c.lease.tmp`), "");
      writeFileSync(join(staging, `${dead.pid}-0d0d0d0d0d0d.lease.tmp`), JSON.stringify(dead));
      const lib = await ModelLibrary.open(t.dir);
      lib.close();
      assert.deepEqual(readdirSync(staging), []);
    } finally {
      t.cleanup();
    }
  });

  test("a whole lease without its folder is kept while its owner runs (it is about to make the folder)", () => {
    const t = tempDir();
    try {
      const staging = stagingRootOf(t.dir);
      // This process is alive: its lease stays, folder or not.
      writeFileSync(join(staging, `${process.pid}-0e0e0e0e0e0e.lease`), JSON.stringify(currentOwner()));
      cleanStaging(t.dir);
      assert.deepEqual(readdirSync(staging), [`${process.pid}-0e0e0e0e0e0e.lease`]);
    } finally {
      t.cleanup();
    }
  });

  test("makeStagingDir's lease is whole and its temp file gone; a cleaner running meanwhile does not break it", async () => {
    const t = tempDir();
    try {
      const dirs: string[] = [];
      for (let i = 0; i < 20; i++) {
        const made = makeStagingDir(t.dir);
        cleanStaging(t.dir); // between the lease and the folder, or after
        dirs.push(await made);
      }
      const staging = join(t.dir, ".model-library", "staging");
      for (const dir of dirs) {
        assert.ok(existsSync(dir));
        assert.equal(JSON.parse(readFileSync(`${dir}.lease`, "utf8")).pid, process.pid);
      }
      assert.deepEqual(readdirSync(staging).filter((n) => n.endsWith(".tmp")), []);
      for (const dir of dirs) {
        spawnSync("rmdir", [dir]);
        releaseStaging(dir);
      }
      assert.deepEqual(readdirSync(staging), []);
    } finally {
      t.cleanup();
    }
  });

  test("the commit lock's temp file a kill left empty (before its write) is removed at the next lock, at once", async () => {
    const t = tempDir();
    try {
      const dir = join(t.dir, ".model-library");
      mkdirSync(dir);
      const empty = join(dir, `.commit.lock.${deadPid()}.0f0f0f0f0f0f0f0f0f0f0f0f.tmp`);
      writeFileSync(empty, "");
      const lockPath = join(t.dir, COMMIT_LOCK);
      await releaseLock(lockPath, await acquireLock(lockPath));
      assert.deepEqual(readdirSync(dir), []);
    } finally {
      t.cleanup();
    }
  });

  test("a lease that cannot be written again (its folder turned read-only) does not crash the importer; it is rewritten once it can be", async (tc) => {
    const t = tempDir();
    const staging = join(t.dir, ".model-library", "staging");
    let immutable = false;
    try {
      const dir = await makeStagingDir(t.dir, { renewMs: 20, expireMs: 60_000 });
      rmSync(`${dir}.lease`); // broken by someone who judged it expired
      if (spawnSync("chattr", ["+i", staging]).status !== 0) return tc.skip("chattr +i is not available here");
      immutable = true;
      // A few renewals fail (EPERM): an uncaught error from the timer would end this process (and fail the test).
      await new Promise((r) => setTimeout(r, 150));
      spawnSync("chattr", ["-i", staging]);
      immutable = false;
      await new Promise((r) => setTimeout(r, 150));
      assert.equal(JSON.parse(readFileSync(`${dir}.lease`, "utf8")).pid, process.pid, "rewritten once the folder is writable again");
      rmSync(dir, { recursive: true });
      releaseStaging(dir);
    } finally {
      if (immutable) spawnSync("chattr", ["-i", staging]);
      t.cleanup();
    }
  });
});
