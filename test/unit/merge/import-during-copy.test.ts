// `mlib merge SRC` from another filesystem (each model copied, verified, renamed into place) while `mlib import`
// stores the same bytes, in two processes. The copy was renamed into place under the commit lock, and its index row
// written under a second hold later: an import taking the lock between the two found no such content in the index
// and stored it a second time. The order is forced: both are blocked on the commit lock this test holds; the import
// is stopped (SIGSTOP) while the merge goes first, and the merge is stopped the moment it lets the lock go.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts, whenReleasedBy } from "../../helpers/lock-barrier.js";
import { otherFilesystemDir, tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

// The import goes at the end of the merge's first hold (the rename tried: another filesystem; the import then stores
// the bytes before the copy is renamed into place) or its second (the copy renamed into place).
for (const [when, holds] of [["before the copy is renamed into place", 1], ["just after the copy is renamed into place", 2]] as const) {
test(`mlib import of the bytes a cross-filesystem merge is copying in, ${when}: stored once`, { timeout: 60_000 }, async (t) => {
  const { dir, cleanup } = tempDir("mlib-copy-import-");
  const other = otherFilesystemDir(t, "mlib-copy-import-src-", dir);
  if (!other) return cleanup();
  const src = join(other.dir, "src");
  const dest = join(dir, "dest");
  const lockPath = join(dest, COMMIT_LOCK);
  let held: LockHolder | null = null;
  let attempts: ReturnType<typeof watchLockAttempts> | null = null;
  let release: ReturnType<typeof whenReleasedBy> | null = null;
  try {
    const file = writeGgufModel(join(dir, "files", "copied.gguf"), "Copied", 9);
    const s = await runCli(["import", file, "--json", "--library", src]);
    assert.equal(s.code, 0, s.stderr);
    const id = JSON.parse(s.stdout).results[0].modelId as string;
    assert.equal((await runCli(["init", "--library", dest])).code, 0);
    const elsewhere = join(dir, "elsewhere", "same-bytes.gguf");
    fs.mkdirSync(join(dir, "elsewhere"));
    fs.copyFileSync(file, elsewhere);

    attempts = watchLockAttempts(lockPath);
    held = await acquireLock(lockPath);
    const merge = startCli(["merge", src, "--json", "--library", dest]);
    await attempts.reached(merge.child.pid!, 2); // planned, waiting for its first hold (a rename tried: another filesystem)
    const imp = startCli(["import", elsewhere, "--json", "--library", dest]);
    await attempts.reached(imp.child.pid!, 2);
    imp.child.kill("SIGSTOP");
    release = whenReleasedBy(lockPath, merge.child.pid!, () => merge.child.kill("SIGSTOP"), holds);
    await releaseLock(lockPath, held);
    held = null;
    await Promise.race([release.released, merge.result]);
    imp.child.kill("SIGCONT");
    const ri = await imp.result;
    merge.child.kill("SIGCONT");
    const rm = await merge.result;
    assert.ok(rm.code === 0 || (holds === 1 && rm.code === 1), rm.stdout + rm.stderr);
    assert.equal(ri.code, 0, ri.stderr);
    const result = JSON.parse(ri.stdout).results[0];
    if (holds === 2) {
      assert.equal(result.status, "duplicate", `stored a second time: ${JSON.stringify(result)}`);
      assert.equal(result.duplicateOf, id);
    } else {
      // Stored by the import first: the merge leaves its copy in the source, saying why.
      assert.equal(result.status, "imported");
      assert.match(rm.stdout, /stored in the library as .* by another process/, rm.stdout);
      assert.ok(fs.existsSync(join(src, id, "metadata.json")), "the source's model is kept");
    }
    assert.equal(JSON.parse((await runCli(["list", "--json", "--library", dest])).stdout).totalCount, 1, "the same bytes stored twice");
  } finally {
    release?.close();
    if (held) await releaseLock(lockPath, held);
    attempts?.close();
    other.cleanup();
    cleanup();
  }
});
}
