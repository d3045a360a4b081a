// Ctrl-C that arrives after a command's last cancellable point: the work lands, and mlib says so. It must not
// print "cancelled" (nor exit 130) over a model that was imported. The child is held at its commit step by the
// commit lock, which this test holds: the signal is sent while the child waits there, past the last safe point.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { watch } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../src/store/model-library.js";
import { acquireLock, releaseLock } from "../../src/core/lock.js";
import { COMMIT_LOCK } from "../../src/store/layout.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { startCli } from "../helpers/cli.js";
import { tempDir, writeGgufModel } from "../helpers/library-fixtures.js";
import { modelFolders, stagingLeft } from "../helpers/operations.js";

/** Resolves once the process `pid` tries to take the lock at `lockPath` (it writes its temp file beside it). */
function lockAttemptBy(lockPath: string, pid: number): Promise<void> {
  const dir = join(lockPath, "..");
  const prefix = `.${lockPath.split("/").pop()}.${pid}.`;
  return new Promise((resolve) => {
    const w = watch(dir, (_event, name) => {
      if (name?.startsWith(prefix)) {
        w.close();
        resolve();
      }
    });
  });
}

describe("a signal after the last cancellable point", () => {
  test.after(() => closeHashWorkers());

  for (const json of [false, true]) {
    test(`SIGINT while the import commits${json ? " (--json)" : ""}: the model is imported, exit 0, no 'cancelled', the late signal said`, async () => {
      const t = tempDir("mlib-late-sigint-");
      try {
        const root = join(t.dir, "lib");
        (await ModelLibrary.open(root)).close();
        const src = writeGgufModel(join(t.dir, "src", "late.gguf"), "Late Model", 3);
        const lockPath = join(root, COMMIT_LOCK);
        const held = await acquireLock(lockPath);
        let released = false;
        try {
          const { child, result } = startCli(["import", src, "--library", root, ...(json ? ["--json"] : [])]);
          await lockAttemptBy(lockPath, child.pid!);
          child.kill("SIGINT");
          // The signal reaches the child's event loop while it waits for the lock (it polls every few ms).
          await new Promise((r) => setTimeout(r, 300));
          await releaseLock(lockPath, held);
          released = true;
          const r = await result;
          assert.equal(modelFolders(root).length, 1, "the model landed");
          assert.deepEqual(stagingLeft(root), []);
          assert.doesNotMatch(r.stderr, /^mlib: cancelled/m, r.stderr);
          assert.equal(r.code, 0, r.stderr);
          if (json) assert.equal(JSON.parse(r.stdout).imported, 1);
          else assert.match(r.stdout, /1 imported/);
          assert.match(r.stderr, /^mlib: SIGINT came after the work was done/m);
        } finally {
          if (!released) await releaseLock(lockPath, held);
        }
      } finally {
        t.cleanup();
      }
    });
  }
});
