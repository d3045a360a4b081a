// Two `mlib doctor --fix` at once (a scheduled one and the user's) on a model whose metadata.json is damaged, with a
// good metadata.json.bak. The fix renamed the damaged file away and then, under the commit lock, restored the
// backup: in between the folder had no metadata.json, and the other doctor adopted it as a new model (name, tags
// and notes gone), after which the restore refused to replace it. Made certain: both doctors are blocked on the
// commit lock this test holds; the first one is stopped (SIGSTOP) while the second goes first, then continued.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts } from "../../helpers/lock-barrier.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("two doctor --fix at once on a damaged metadata.json: the backup restored once, the damaged file kept, no new model", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-2doctors-");
  const root = join(dir, "lib");
  const lockPath = join(root, COMMIT_LOCK);
  let held: LockHolder | null = null;
  const attempts = { close: () => undefined } as ReturnType<typeof watchLockAttempts>;
  try {
    const imp = await runCli(["import", writeGgufModel(join(dir, "in", "m.gguf"), "Doctored", 1), "--tag", "mine", "--json", "--library", root]);
    assert.equal(imp.code, 0, imp.stderr);
    const id = JSON.parse(imp.stdout).results[0].modelId as string;
    assert.equal((await runCli(["edit", id, "--notes", "my notes", "--library", root])).code, 0); // .bak: the import's version
    const file = join(root, id, "metadata.json");
    const good = JSON.parse(fs.readFileSync(`${file}.bak`, "utf8"));
    fs.writeFileSync(file, '{ "model_id": "torn');

    Object.assign(attempts, watchLockAttempts(lockPath));
    held = await acquireLock(lockPath);
    const first = startCli(["doctor", "--fix", "--json", "--library", root]);
    await attempts.reached(first.child.pid!, 2);
    const second = startCli(["doctor", "--fix", "--json", "--library", root]);
    await attempts.reached(second.child.pid!, 2);
    first.child.kill("SIGSTOP");
    await releaseLock(lockPath, held);
    held = null;
    const r2 = await second.result;
    first.child.kill("SIGCONT");
    const r1 = await first.result;
    for (const r of [r1, r2]) assert.ok(r.code === 0, `doctor: exit ${r.code}\n${r.stdout}\n${r.stderr}`);

    const after = JSON.parse(fs.readFileSync(file, "utf8"));
    assert.deepEqual(after.tags, good.tags, "the model's metadata was replaced by an adoption");
    assert.equal(after.match_source, good.match_source);
    assert.equal(fs.readFileSync(`${file}.corrupt`, "utf8"), '{ "model_id": "torn', "the damaged file is kept");
    const list = await runCli(["list", "--json", "--library", root]);
    assert.equal(JSON.parse(list.stdout).totalCount, 1);
  } finally {
    if (held) await releaseLock(lockPath, held);
    attempts.close();
    cleanup();
  }
});
