// `mlib rm` killed with SIGKILL in the middle of deleting a model's folder: the model is then either whole in its
// place (and listed) or gone from it — never a folder of some of its files (an "orphan" the next `adopt` or `watch`
// would take for a new, partial model). Whatever the kill left is cleaned by the next command, and `doctor` is clean.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, watch, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, runCliJson, startCli } from "../../helpers/cli.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

const EXTRA = 3000; // enough small files that the deletion is still under way when the kill lands

test("rm killed half-way: the model is whole or gone, the next command cleans up, doctor is clean", async () => {
  const t = tempDir();
  try {
    const root = join(t.dir, "lib");
    const gguf = writeGgufModel(join(t.dir, "src", "tiny.gguf"), "Tiny Llama");
    const imported = await runCliJson<{ results: { modelId: string; path: string }[] }>(["import", gguf, "--json", "--library", root]);
    assert.equal(imported.code, 0, imported.stderr);
    const { modelId: id, path: dir } = imported.json.results[0]!;
    // Files beside the model's own (a folder someone put there): the deletion of the folder takes a while.
    const extra = join(dir, "extra");
    mkdirSync(extra);
    for (let i = 0; i < EXTRA; i++) writeFileSync(join(extra, `f${i}.txt`), "x");
    const before = readdirSync(dir).sort();

    // Killed at its first deletion inside the folder (inotify follows the folder wherever it is renamed to).
    const { child, result } = startCli(["rm", id, "--yes", "--library", root]);
    const watcher = watch(extra, () => child.kill("SIGKILL"));
    const r = await result;
    watcher.close();
    assert.notEqual(r.code, 0, `the rm was not killed before it ended: ${r.stdout}${r.stderr}`);

    if (existsSync(dir)) {
      assert.deepEqual(readdirSync(dir).sort(), before, "a model folder is never left with part of its files");
      assert.equal(readdirSync(extra).length, EXTRA, "a model folder is never left with part of its files");
    }
    // The next command: the library agrees with the disk, nothing is left behind, doctor finds nothing.
    const listed = await runCliJson<{ models: { id: string }[] }>(["list", "--json", "--library", root]);
    assert.equal(listed.code, 0, listed.stderr);
    assert.equal(listed.json.models.some((m) => m.id === id), existsSync(dir), "listed exactly when its folder is there");
    const staging = join(root, ".model-library", "staging");
    assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], "nothing left in staging after the next command");
    const doctor = await runCli(["doctor", "--library", root]);
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
    if (existsSync(dir)) {
      const again = await runCli(["rm", id, "--yes", "--library", root]);
      assert.equal(again.code, 0, again.stderr);
      assert.ok(!existsSync(dir));
    }
  } finally {
    t.cleanup();
  }
});
