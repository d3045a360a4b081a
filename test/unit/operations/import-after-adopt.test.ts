// `mlib adopt` (a model file dropped into the library's folders) and `mlib import` of the same bytes from elsewhere,
// in two processes at once. The adoption wrote metadata.json under the commit lock but its index row only after
// letting go: an import taking the lock in between found no such content in the index and stored it a second time.
// The order is forced: both are blocked on the commit lock this test holds; the import is stopped (SIGSTOP) while
// the adoption goes first, and the adoption is stopped the moment it lets the lock go (inotify on the lock file).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts } from "../../helpers/lock-barrier.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("mlib import of the bytes mlib adopt is adopting at the same moment: stored once", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-adopt-import-");
  const root = join(dir, "lib");
  const lockPath = join(root, COMMIT_LOCK);
  let held: LockHolder | null = null;
  let attempts: ReturnType<typeof watchLockAttempts> | null = null;
  let lockWatch: fs.FSWatcher | null = null;
  try {
    assert.equal((await runCli(["init", "--library", root])).code, 0);
    const dropped = writeGgufModel(join(root, "llm", "llama", "dropped", "dropped.gguf"), "Dropped", 8);
    const elsewhere = join(dir, "elsewhere", "same-bytes.gguf");
    fs.mkdirSync(join(dir, "elsewhere"));
    fs.copyFileSync(dropped, elsewhere);

    attempts = watchLockAttempts(lockPath);
    held = await acquireLock(lockPath);
    const adopt = startCli(["adopt", "--json", "--library", root]);
    await attempts.reached(adopt.child.pid!, 2);
    const imp = startCli(["import", elsewhere, "--json", "--library", root]);
    await attempts.reached(imp.child.pid!, 2);
    imp.child.kill("SIGSTOP");
    // The adoption takes the lock, writes, lets go: stopped right there, the import is let go instead.
    let sawAdopter = false;
    const released = new Promise<void>((resolve) => {
      lockWatch = fs.watch(join(root, ".model-library"), (_e, name) => {
        if (name !== "commit.lock") return;
        let pid: number | null = null;
        try {
          pid = (JSON.parse(fs.readFileSync(lockPath, "utf8")) as { pid: number }).pid;
        } catch {
          pid = null;
        }
        if (pid === adopt.child.pid) sawAdopter = true;
        else if (pid === null && sawAdopter) {
          adopt.child.kill("SIGSTOP");
          resolve();
        }
      });
    });
    await releaseLock(lockPath, held);
    held = null;
    await Promise.race([released, adopt.result]);
    imp.child.kill("SIGCONT");
    const ri = await imp.result;
    adopt.child.kill("SIGCONT");
    const ra = await adopt.result;
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(ri.code, 0, ri.stderr);
    const result = JSON.parse(ri.stdout).results[0];
    assert.equal(result.status, "duplicate", `stored a second time: ${JSON.stringify(result)}`);
    assert.equal(result.duplicateOf, "llm/llama/dropped");
    const list = JSON.parse((await runCli(["list", "--json", "--library", root])).stdout);
    assert.equal(list.totalCount, 1);
  } finally {
    (lockWatch as fs.FSWatcher | null)?.close();
    if (held) await releaseLock(lockPath, held);
    attempts?.close();
    cleanup();
  }
});
