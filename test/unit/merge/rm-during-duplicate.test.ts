// `mlib merge SRC` removes a source model that duplicates a library model once it has re-hashed both; `mlib rm` of
// that library model in another process meanwhile. The merge read the library's copy early, then removed the
// source's copy without looking again: with the library's copy deleted in between, both copies were gone. Made
// certain: the merge is stopped (SIGSTOP) while it hashes the source's file (seen in /proc/PID/fd), the rm runs to
// its end, then the merge goes on.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { runCli, startCli } from "../../helpers/cli.js";
import { tempDir, writeSafetensorsModel, llamaTensors, bytes } from "../../helpers/library-fixtures.js";

/** Resolves once process `pid` has `file` open (polled: its hashing of a 48 MiB file lasts far longer than a poll). */
async function untilOpen(pid: number, file: string, done: Promise<unknown>): Promise<boolean> {
  let over = false;
  void done.then(() => (over = true));
  while (!over) {
    let fds: string[] = [];
    try {
      fds = fs.readdirSync(`/proc/${pid}/fd`);
    } catch {
      return false;
    }
    for (const fd of fds) {
      try {
        if (fs.readlinkSync(`/proc/${pid}/fd/${fd}`) === file) return true;
      } catch {
        // closed meanwhile
      }
    }
    await new Promise((r) => setTimeout(r, 1));
  }
  return false;
}

test("mlib rm of the library model a merge is removing a source duplicate of: the source copy is kept", { timeout: 60_000 }, async (t) => {
  if (!fs.existsSync("/proc/self/fd")) return t.skip("no /proc here");
  const { dir, cleanup } = tempDir("mlib-rm-dup-");
  const src = join(dir, "src");
  const dest = join(dir, "dest");
  try {
    const size = 48 * 1024 * 1024;
    const file = writeSafetensorsModel(join(dir, "files", "big.safetensors"), [...llamaTensors(1), { name: "model.extra.weight", dtype: "U8", shape: [size], data: bytes(size, 4) }]);
    const d = await runCli(["import", file, "--json", "--library", dest]);
    assert.equal(d.code, 0, d.stderr);
    const id = JSON.parse(d.stdout).results[0].modelId as string;
    const s = await runCli(["import", file, "--json", "--library", src]);
    assert.equal(s.code, 0, s.stderr);
    const srcId = JSON.parse(s.stdout).results[0].modelId as string;
    const srcFile = join(src, srcId, "big.safetensors");

    const merge = startCli(["merge", src, "--json", "--library", dest]);
    const open = await untilOpen(merge.child.pid!, srcFile, merge.result);
    assert.ok(open, "the merge never opened the source's file");
    merge.child.kill("SIGSTOP");
    const rm = await runCli(["rm", id, "--yes", "--library", dest]);
    merge.child.kill("SIGCONT");
    assert.equal(rm.code, 0, rm.stderr);
    const m = await merge.result;
    assert.ok(fs.existsSync(srcFile), `both copies are gone: ${m.stdout}${m.stderr}`);
    assert.match(m.stdout, /removed or changed meanwhile/, m.stdout);
  } finally {
    cleanup();
  }
});
