// Two `mlib download` of different files of one repo at once (two separate downloads: another selection each), both
// named after the repo: they must land as two models, never as one folder holding both files. Both run until blocked
// on the commit lock this test holds (the first to land, in its adoption), then are let go. Fake Hub on loopback.
// (The two choosing their folder at the very same instant: two-repos-one-folder.test.ts.)
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts } from "../../helpers/lock-barrier.js";
import { startFakeHub } from "../../helpers/fake-hub.js";
import { llamaTensors, tempDir, writeSafetensorsModel } from "../../helpers/library-fixtures.js";

test("two downloads of different files of one repo at once: two models, never one folder holding both", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-2downloads-");
  const root = join(dir, "lib");
  const a = fs.readFileSync(writeSafetensorsModel(join(dir, "files", "a.safetensors"), llamaTensors(1, 16, 1)));
  const b = fs.readFileSync(writeSafetensorsModel(join(dir, "files", "b.safetensors"), llamaTensors(1, 16, 2)));
  const hub = await startFakeHub({
    repos: [{ id: "acme/Twin", files: [{ path: "model-a.safetensors", content: a }, { path: "model-b.safetensors", content: b }] }],
  });
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(dir, "hf"), MLIB_CACHE_DIR: join(dir, "cache"), HF_HUB_OFFLINE: undefined };
  const lockPath = join(root, COMMIT_LOCK);
  let held: LockHolder | null = null;
  let attempts: ReturnType<typeof watchLockAttempts> | null = null;
  try {
    assert.equal((await runCli(["init", "--library", root])).code, 0);
    attempts = watchLockAttempts(lockPath);
    held = await acquireLock(lockPath);
    const da = startCli(["download", "acme/Twin", "--file", "model-a.safetensors", "--json", "--library", root], { env });
    const db = startCli(["download", "acme/Twin", "--file", "model-b.safetensors", "--json", "--library", root], { env });
    await Promise.all([attempts.reached(da.child.pid!, 2), attempts.reached(db.child.pid!, 2)]);
    await releaseLock(lockPath, held);
    held = null;
    const [ra, rb] = await Promise.all([da.result, db.result]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const ids = [JSON.parse(ra.stdout).modelId, JSON.parse(rb.stdout).modelId] as string[];
    assert.notEqual(ids[0], ids[1], `both downloads landed in ${ids[0]}`);
    for (const [id, file] of [[ids[0], "model-a.safetensors"], [ids[1], "model-b.safetensors"]]) {
      const weights = fs.readdirSync(join(root, id)).filter((n) => n.endsWith(".safetensors"));
      assert.deepEqual(weights, [file], `${id} holds ${weights.join(", ")}`);
    }
  } finally {
    if (held) await releaseLock(lockPath, held);
    attempts?.close();
    await hub.close();
    cleanup();
  }
});
