// `mlib merge SRC` plans, then moves; `mlib import` in another process stores, in between, the same content as
// one of the source's models (under another name). The merge moved that model in all the same, per its plan:
// the library held the same bytes twice. Made certain: the merge is blocked on the commit lock this test holds,
// stopped (SIGSTOP) while the import runs to its end, then continued.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { hasStackTrace, runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts } from "../../helpers/lock-barrier.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("mlib import of a source model's content between the merge's plan and its move: stored once", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-merge-import-");
  const src = join(dir, "src");
  const dest = join(dir, "dest");
  const lockPath = join(dest, COMMIT_LOCK);
  let held: LockHolder | null = null;
  let attempts: ReturnType<typeof watchLockAttempts> | null = null;
  try {
    const file = writeGgufModel(join(dir, "files", "special.gguf"), "Special", 5);
    const other = writeGgufModel(join(dir, "files", "plain.gguf"), "Plain", 6);
    const s = await runCli(["import", file, other, "--json", "--library", src]);
    assert.equal(s.code, 0, s.stderr);
    const copy = join(dir, "elsewhere", "same-bytes-other-name.gguf");
    fs.mkdirSync(join(dir, "elsewhere"));
    fs.copyFileSync(file, copy);
    assert.equal((await runCli(["init", "--library", dest])).code, 0);

    attempts = watchLockAttempts(lockPath);
    held = await acquireLock(lockPath);
    const merge = startCli(["merge", src, "--json", "--library", dest]);
    await attempts.reached(merge.child.pid!, 2); // planned, waiting to move
    merge.child.kill("SIGSTOP");
    await releaseLock(lockPath, held);
    held = null;
    const imp = await runCli(["import", copy, "--json", "--library", dest]);
    merge.child.kill("SIGCONT");
    assert.equal(imp.code, 0, imp.stderr);
    const stored = JSON.parse(imp.stdout).results[0];
    assert.equal(stored.status, "imported");
    const m = await merge.result;
    assert.ok(!hasStackTrace(m.stderr), m.stderr);

    const list = JSON.parse((await runCli(["list", "--json", "--library", dest])).stdout) as { models: { id: string; sha256?: string }[]; totalCount: number };
    const sameBytes = [];
    for (const model of list.models) {
      const meta = JSON.parse(fs.readFileSync(join(dest, model.id, "metadata.json"), "utf8"));
      if (meta.files.some((f: { sha256: string }) => f.sha256 === JSON.parse(fs.readFileSync(join(dest, stored.modelId, "metadata.json"), "utf8")).files[0].sha256)) sameBytes.push(model.id);
    }
    assert.deepEqual(sameBytes, [stored.modelId], `the same bytes stored twice: ${sameBytes.join(", ")}\nmerge: ${m.stdout}${m.stderr}`);
    assert.equal(list.totalCount, 2, "the source's other model moved in");
    // The source's copy is kept (left, with the reason) or removed as a verified duplicate: never lost.
    const srcFiles = fs.readdirSync(src, { recursive: true }).map(String).filter((f) => f.endsWith(".gguf"));
    assert.ok(srcFiles.length <= 1);
    assert.match(m.stdout + m.stderr, new RegExp(stored.modelId.replace(/[/_]/g, ".")));
  } finally {
    if (held) await releaseLock(lockPath, held);
    attempts?.close();
    cleanup();
  }
});
