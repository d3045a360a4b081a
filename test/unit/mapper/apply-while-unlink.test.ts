// `mlib map apply` and `mlib unlink` of the same app and folder in two processes at once. Both work under the
// registry lock, one after the other; whichever goes first, the registry and the folder agree afterwards (every
// recorded link is there and ours, nothing there that is not recorded), and nothing else in the folder is touched.
// The overlap is made certain: this test holds the registry lock until both are blocked on it.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { REGISTRY_LOCK, LinkRegistry } from "../../../src/mapper/registry.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts } from "../../helpers/lock-barrier.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => !d.isDirectory()).map((d) => join(d.parentPath, d.name)).sort();
}

test("mlib map apply and mlib unlink of one app at once: registry and folder agree, the user's file stays", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-apply-unlink-");
  const libRoot = join(dir, "lib");
  (await tinyLibrary(libRoot)).close();
  const env = { XDG_CONFIG_HOME: join(dir, "config") };
  const app = join(dir, "ComfyUI", "models");
  fs.mkdirSync(join(app, "loras"), { recursive: true });
  fs.writeFileSync(join(app, "loras", "users-own.safetensors"), "mine");
  const L = ["--library", libRoot];
  const lockPath = join(libRoot, REGISTRY_LOCK);
  const attempts = watchLockAttempts(lockPath);
  let held: LockHolder | null = null;
  try {
    // A first apply, so the unlink has links to remove.
    assert.equal((await runCli(["map", "apply", "comfyui", "--root", app, "--link", "symlink", ...L], { env })).code, 0);
    const made = LinkRegistry.load(libRoot).forApp("comfyui").length;
    assert.ok(made > 0);
    for (const order of ["round 1", "round 2"]) {
      held = await acquireLock(lockPath);
      const a = startCli(["map", "apply", "comfyui", "--root", app, "--link", "symlink", "--json", ...L], { env });
      await attempts.reached(a.child.pid!, 2);
      const u = startCli(["unlink", "--app", "comfyui", "--root", app, "--json", ...L], { env });
      await attempts.reached(u.child.pid!, 2);
      // (Which one takes the lock first is up to them; the two rounds usually see both orders.)
      await releaseLock(lockPath, held);
      held = null;
      const [ra, ru] = await Promise.all([a.result, u.result]);
      assert.equal(ra.code, 0, `${order}: ${ra.stderr}`);
      assert.equal(ru.code, 0, `${order}: ${ru.stderr}`);
      assert.deepEqual(JSON.parse(ra.stdout).errors, []);
      const reg = LinkRegistry.load(libRoot).forApp("comfyui");
      const recorded = reg.map((e) => e.target).sort();
      const onDisk = filesUnder(app).filter((f) => f !== join(app, "loras", "users-own.safetensors"));
      assert.deepEqual(onDisk, recorded, `${order}: the folder and the registry disagree`);
      for (const f of onDisk) assert.ok(fs.lstatSync(f).isSymbolicLink() && fs.existsSync(f), `${f}: not a working link`);
      assert.ok(recorded.length === 0 || recorded.length === made, `${order}: ${recorded.length} links of ${made}`);
      const check = await runCli(["links", "check", "--json", ...L], { env });
      assert.equal(check.code, 0, check.stdout + check.stderr);
      // Put the links back for the next round.
      if (recorded.length === 0) assert.equal((await runCli(["map", "apply", "comfyui", "--root", app, "--link", "symlink", ...L], { env })).code, 0);
    }
    assert.equal(fs.readFileSync(join(app, "loras", "users-own.safetensors"), "utf8"), "mine");
  } finally {
    if (held) await releaseLock(lockPath, held);
    attempts.close();
    cleanup();
  }
});
