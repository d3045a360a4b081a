// A FIFO where a lease or the commit lock should be (a hostile or broken shared folder): opening the library and
// taking the lock never block on it (a read of a FIFO waits for a writer forever, and it is read synchronously).
// Run in a child process with a timeout, since a blocked synchronous read cannot be undone from inside.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { existsSync, mkdirSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { tempDir } from "../../helpers/library-fixtures.js";
import { EVAL_LOADER, importPathFor } from "../../helpers/cli.js";

const MODEL_LIBRARY = importPathFor(fileURLToPath(new URL("../../../src/store/model-library.ts", import.meta.url)));
const LOCK = importPathFor(fileURLToPath(new URL("../../../src/core/lock.ts", import.meta.url)));
const hasMkfifo = spawnSync("mkfifo", ["--version"]).status === 0;

/** Runs `code` (an ES module) in a child; its status, or null when it was killed after 15 s. */
function runChild(code: string): { status: number | null; stderr: string } {
  const r = spawnSync(process.execPath, [...EVAL_LOADER, "--input-type=module", "-e", code], { timeout: 15_000, encoding: "utf8" });
  return { status: r.status, stderr: r.stderr };
}

describe("a FIFO in place of a lease or a lock", { skip: hasMkfifo ? false : "needs mkfifo" }, () => {
  test("a FIFO named like a lease (no folder) or its temp file: open() removes it, no wait", () => {
    const t = tempDir();
    try {
      const staging = join(t.dir, ".model-library", "staging");
      mkdirSync(staging, { recursive: true });
      for (const name of ["4242-0a0a0a0a0a0a.lease", "4243-0b0b0b0b0b0b.lease.tmp"]) spawnSync("mkfifo", [join(staging, name)]);
      const r = runChild(`import { ModelLibrary } from ${JSON.stringify(MODEL_LIBRARY)}; (await ModelLibrary.open(${JSON.stringify(t.dir)})).close();`);
      assert.equal(r.status, 0, `open() ${r.status === null ? "hung" : "failed"}: ${r.stderr}`);
      assert.equal(existsSync(join(staging, "4242-0a0a0a0a0a0a.lease")), false);
      assert.equal(existsSync(join(staging, "4243-0b0b0b0b0b0b.lease.tmp")), false);
    } finally {
      t.cleanup();
    }
  });

  test("a FIFO as the commit lock: taking it fails with E_LOCKED after the wait, never blocks", () => {
    const t = tempDir();
    try {
      const lock = join(t.dir, "commit.lock");
      spawnSync("mkfifo", [lock]);
      const r = runChild(
        `import { acquireLock } from ${JSON.stringify(LOCK)};
         try { await acquireLock(${JSON.stringify(lock)}, { timeoutMs: 300 }); console.error("taken"); process.exit(3); }
         catch (e) { console.error(e.code, e.message); process.exit(e.code === "E_LOCKED" ? 0 : 4); }`,
      );
      assert.equal(r.status, 0, `acquireLock ${r.status === null ? "hung" : "ended otherwise"}: ${r.stderr}`);
      assert.match(r.stderr, /commit\.lock: locked by an unreadable lock record/);
    } finally {
      t.cleanup();
    }
  });
});
