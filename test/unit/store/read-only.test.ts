// Issue 9 item 8 (index side): a library readable but not writable by the user (another owner, a shared
// folder): list, search, show, stats and verify work, with the index in $XDG_CACHE_HOME/model-library/<hash>/.
// Run for real as another user (nobody) on a `chmod -R a-w` copy; skipped where that is not possible.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, cpSync, existsSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { cacheIndexDir } from "../../../src/store/layout.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { makeOriginalLibrary } from "../../helpers/original-library.js";
import { MLIB_ARGV, REPO_ROOT } from "../../helpers/cli.js";

const NOBODY = ["--reuid=65534", "--regid=65534", "--clear-groups"];

function canRunAsNobody(): string | null {
  if (process.getuid?.() !== 0) return "not root: cannot switch to another user";
  const r = spawnSync("setpriv", [...NOBODY, process.execPath, "-e", `require("fs").readFileSync(${JSON.stringify(MLIB_ARGV[MLIB_ARGV.length - 1])})`]);
  if (r.error || r.status !== 0) return "setpriv cannot run node as nobody here";
  return null;
}

function asNobody(args: string[], env: Record<string, string>): { code: number; stdout: string; stderr: string } {
  const r = spawnSync("setpriv", [...NOBODY, process.execPath, ...MLIB_ARGV, ...args], {
    cwd: REPO_ROOT,
    encoding: "utf8",
    env: { ...process.env, ...env, HOME: "/nonexistent", NO_COLOR: "1" },
    timeout: 60_000,
  });
  return { code: r.status ?? 1, stdout: r.stdout, stderr: r.stderr };
}

describe("a read-only library", () => {
  test.after(() => closeHashWorkers());

  test("list, search, show, stats and verify work as a user who cannot write to it; the index goes to the cache folder", async (tc) => {
    const why = canRunAsNobody();
    if (why) {
      tc.skip(why);
      return;
    }
    const t = tempDir();
    try {
      chmodSync(t.dir, 0o755);
      const made = join(t.dir, "made");
      const lib = await ModelLibrary.open(made);
      const [a] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"), "Alpha Chat", 1)]);
      lib.close();
      // Ours (with .model-library/) and an original-written one, both read-only for everyone.
      const ours = join(t.dir, "ours");
      cpSync(made, ours, { recursive: true });
      const original = join(t.dir, "original");
      const orig = await makeOriginalLibrary(original, { appsDir: join(t.dir, "apps") });
      for (const root of [ours, original]) spawnSync("chmod", ["-R", "a-w,a+rX", root]);
      const cache = join(t.dir, "cache");
      mkdirSync(cache);
      chmodSync(cache, 0o777);
      const env = { XDG_CACHE_HOME: cache };

      // (Few runs: each starts node + tsx as another user, ~1.5 s here. `verify` of the whole original library
      // is content9's part: it reports the original's bare-name files.)
      const runs = [
        [ours, a.modelId!, 1, [["search", "alpha"], ["show", a.modelId!], ["stats"], ["verify"]]],
        [original, orig.models.gguf.id, 4, [["verify", orig.models.gguf.id]]],
      ] as const;
      for (const [root, , count, commands] of runs) {
        const list = asNobody(["list", "--json", "--library", root], env);
        assert.equal(list.code, 0, list.stderr);
        assert.equal((JSON.parse(list.stdout) as { totalCount: number }).totalCount, count);
        assert.match(list.stderr, /is not writable here: its index is kept in .*cache\/model-library\//);
        for (const args of commands) {
          const r = asNobody([...args, "--library", root], env);
          assert.equal(r.code, 0, `${args.join(" ")} on ${root}: ${r.stderr}`);
          assert.doesNotMatch(r.stderr, /not writable/, "the cache index is made once");
        }
        assert.ok(existsSync(join(cacheIndexDir(root, env), "index.db")));
      }
      // Nothing was written into either library.
      assert.deepEqual(readdirSync(join(ours, ".model-library")).sort(), readdirSync(join(made, ".model-library")).sort());
      assert.equal(existsSync(join(original, ".model-library")), false);
    } finally {
      spawnSync("chmod", ["-R", "u+w", t.dir]);
      t.cleanup();
    }
  });
});
