// `mlib lookup` (asking the Hub) and `mlib lookup ID --set-repo R` (the user's own answer) on one model at once.
// The lookup decides from metadata.json as read before its Hub requests, then writes its match under the commit
// lock: the repo the user set meanwhile was overwritten by the Hub's match (a choice made by hand silently lost).
// Made certain: both are blocked on the commit lock this test holds; the Hub lookup is stopped (SIGSTOP) while
// the user's change goes first, then continued. Fake Hub on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts } from "../../helpers/lock-barrier.js";
import { startFakeHub } from "../../helpers/fake-hub.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("a Hub lookup never overwrites the repo the user set by hand meanwhile", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-lookup-manual-");
  const root = join(dir, "lib");
  const file = writeGgufModel(join(dir, "in", "special.gguf"), "Special", 3);
  const hub = await startFakeHub({ repos: [{ id: "acme/Special-GGUF", files: [{ path: "special.gguf", content: fs.readFileSync(file) }] }] });
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(dir, "hf"), MLIB_CACHE_DIR: join(dir, "cache"), HF_HUB_OFFLINE: undefined };
  const lockPath = join(root, COMMIT_LOCK);
  let held: LockHolder | null = null;
  let attempts: ReturnType<typeof watchLockAttempts> | null = null;
  try {
    const imp = await runCli(["import", file, "--json", "--library", root], { env });
    assert.equal(imp.code, 0, imp.stderr);
    const id = JSON.parse(imp.stdout).results[0].modelId as string;

    attempts = watchLockAttempts(lockPath);
    held = await acquireLock(lockPath);
    const auto = startCli(["lookup", id, "--json", "--library", root], { env });
    await attempts.reached(auto.child.pid!, 2); // asked the Hub, found the match, waiting to write it
    const manual = startCli(["lookup", id, "--set-repo", "me/my-own", "--library", root], { env });
    await attempts.reached(manual.child.pid!, 2);
    auto.child.kill("SIGSTOP");
    await releaseLock(lockPath, held);
    held = null;
    const rm = await manual.result;
    auto.child.kill("SIGCONT");
    const ra = await auto.result;
    assert.equal(rm.code, 0, rm.stderr);
    assert.equal(ra.code, 0, ra.stderr);

    const meta = JSON.parse(fs.readFileSync(join(root, id, "metadata.json"), "utf8"));
    assert.equal(meta.repo_id, "me/my-own", "the repo set by hand was overwritten by the Hub lookup");
    assert.equal(meta.match_source, "manual");
    assert.match(ra.stdout, /kept-manual/, ra.stdout);
  } finally {
    if (held) await releaseLock(lockPath, held);
    attempts?.close();
    await hub.close();
    cleanup();
  }
});
