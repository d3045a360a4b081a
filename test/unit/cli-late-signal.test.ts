// Ctrl-C that arrives after a command's last cancellable point: the work lands, and mlib says so. It must not
// print "cancelled" (nor exit 130) over a model that was imported. The child is held at its commit step by the
// commit lock, which this test holds: the signal is sent while the child waits there, past the last safe point.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, truncateSync, watch } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../src/store/model-library.js";
import { acquireLock, releaseLock } from "../../src/core/lock.js";
import { COMMIT_LOCK, STAGING_DIR } from "../../src/store/layout.js";
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

/** Files in the staging folders (a copy in progress). */
function stagedFiles(root: string): number {
  const staging = join(root, ...STAGING_DIR.split("/"));
  if (!existsSync(staging)) return 0;
  return readdirSync(staging, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .reduce((n, d) => n + (existsSync(join(staging, d.name)) ? readdirSync(join(staging, d.name)).length : 0), 0);
}

async function waitFor(what: string, ready: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
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

  test("SIGINT in the second model of an import: 'cancelled', and the first model, already in, is named as kept", async () => {
    const t = tempDir("mlib-late-sigint-");
    try {
      const root = join(t.dir, "lib");
      const first = writeGgufModel(join(t.dir, "src", "first.gguf"), "First Model", 4);
      // 300 MiB (a real header, then a sparse tail): its copy takes long enough to be interrupted.
      const second = writeGgufModel(join(t.dir, "src", "second.gguf"), "Second Model", 5);
      truncateSync(second, 300 * 1024 * 1024);
      const { child, result } = startCli(["import", first, second, "--library", root]);
      await waitFor("the first model in and the second one copying", () => existsSync(root) && modelFolders(root).length === 1 && stagedFiles(root) > 0);
      child.kill("SIGINT");
      const r = await result;
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /^mlib: cancelled$/m);
      const kept = modelFolders(root);
      assert.equal(kept.length, 1);
      assert.match(r.stderr, new RegExp(`^mlib: done before the cancel \\(kept\\): imported .*first\\.gguf as ${kept[0]} `, "m"));
      assert.doesNotMatch(r.stderr, /second\.gguf/);
      assert.deepEqual(stagingLeft(root), []);
    } finally {
      t.cleanup();
    }
  });

  test("a second SIGINT while the import commits: exit 130 at once, and the message does not claim that nothing landed", async () => {
    const t = tempDir("mlib-late-sigint-");
    try {
      const root = join(t.dir, "lib");
      (await ModelLibrary.open(root)).close();
      const src = writeGgufModel(join(t.dir, "src", "forced.gguf"), "Forced Model", 6);
      const lockPath = join(root, COMMIT_LOCK);
      const held = await acquireLock(lockPath);
      try {
        const { child, result } = startCli(["import", src, "--library", root]);
        await lockAttemptBy(lockPath, child.pid!);
        child.kill("SIGINT");
        await new Promise((r) => setTimeout(r, 300));
        child.kill("SIGINT");
        const r = await result;
        assert.equal(r.code, 130, r.stderr);
        assert.doesNotMatch(r.stderr, /^mlib: cancelled/m, "a forced stop mid-commit is not known to have cancelled anything");
        assert.match(r.stderr, /^mlib: stopped at once \(a second SIGINT\): what was being committed may or may not be in; the next command indexes it and removes unfinished staging$/m);
      } finally {
        await releaseLock(lockPath, held);
      }
      // The next command finds the library whole: no staging left, the model in or not.
      (await ModelLibrary.open(root)).close();
      assert.deepEqual(stagingLeft(root), []);
    } finally {
      t.cleanup();
    }
  });
});
