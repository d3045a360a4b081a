// `mlib rm ID` and `mlib map apply` in two processes at once. rm refuses a linked model (without --cascade); it
// checked the links, then deleted the model later: an apply linking the model in between left links (and
// registry entries) pointing at a deleted model, and a linked model deleted without --cascade.
// Made to happen every time: this test holds the commit lock, so rm waits, past its check, right before the
// deletion; apply runs meanwhile (it finishes, or, fixed, waits for the registry lock rm holds), then the
// commit lock is let go. Either order that follows is fine; a dangling link never is.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { REGISTRY_LOCK, LinkRegistry } from "../../../src/mapper/registry.js";
import { startCli } from "../../helpers/cli.js";
import { watchLockAttempts } from "../../helpers/lock-barrier.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const GGUF = "llm/llama/tiny_llama";

test("mlib rm while mlib map apply links the same model: never a deleted model under links", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-rm-apply-");
  const libRoot = join(dir, "lib");
  (await tinyLibrary(libRoot)).close();
  const env = { XDG_CONFIG_HOME: join(dir, "config") };
  const app = join(dir, "llama", "models");
  fs.mkdirSync(app, { recursive: true });
  const commitLock = join(libRoot, COMMIT_LOCK);
  const commitAttempts = watchLockAttempts(commitLock);
  const registryAttempts = watchLockAttempts(join(libRoot, REGISTRY_LOCK));
  let held: Awaited<ReturnType<typeof acquireLock>> | null = await acquireLock(commitLock);
  try {
    const rm = startCli(["rm", GGUF, "--yes", "--library", libRoot], { env });
    await commitAttempts.reached(rm.child.pid!); // past its link check, waiting to delete
    const apply = startCli(["map", "apply", "llamacpp", "--root", app, "--link", "symlink", "--library", libRoot], { env });
    // apply has made its links, or is waiting for the registry lock (its second attempt at it).
    await Promise.race([apply.result, registryAttempts.reached(apply.child.pid!, 2)]);
    await releaseLock(commitLock, held);
    held = null;
    const [r, a] = await Promise.all([rm.result, apply.result]);
    assert.equal(a.code, 0, a.stderr);
    const reg = LinkRegistry.load(libRoot);
    const modelThere = fs.existsSync(join(libRoot, GGUF, "metadata.json"));
    if (modelThere) {
      // apply came first: rm saw its links and refused, naming them.
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /linked into apps; not deleted/);
      assert.equal(reg.forModel(GGUF).length, 1);
    } else {
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(reg.forModel(GGUF), [], "links recorded for a deleted model");
    }
    // Every link apply made points at a file of the library.
    for (const name of fs.readdirSync(app)) assert.ok(fs.existsSync(join(app, name)), `${name}: a link to a deleted model`);
  } finally {
    if (held) await releaseLock(commitLock, held);
    commitAttempts.close();
    registryAttempts.close();
    cleanup();
  }
});
