// `mlib merge` killed while it writes its journal (the plan in its temp file, not renamed yet): nothing has moved,
// the same merge then does the whole plan, and `doctor --fix` removes the temp file the kill left (nothing else
// would: the next merge writes its own).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { runCli, runCliJson } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("merge killed while writing its journal: the same merge finishes, doctor --fix leaves no temp file", async () => {
  const t = tempDir("mlib-killed-merge-");
  try {
    const dest = join(t.dir, "dest");
    const src = join(t.dir, "other");
    const a = writeGgufModel(join(t.dir, "in", "alpha.gguf"), "Alpha", 1);
    const b = writeGgufModel(join(t.dir, "in", "beta.gguf"), "Beta", 2);
    assert.equal((await runCli(["import", a, "--library", dest])).code, 0);
    assert.equal((await runCli(["import", b, "--library", src])).code, 0);

    await killAtPause(["merge", src, "--library", dest], "before-rename:merge-journal.json");
    assert.ok(!existsSync(join(dest, ".model-library", "merge-journal.json")), "the plan never became the journal");
    const again = await runCliJson<{ resumed: boolean }>(["merge", src, "--json", "--library", dest]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const listed = await runCliJson<{ models: { id: string }[] }>(["list", "--json", "--library", dest]);
    assert.equal(listed.json.models.length, 2, "both models in the destination, once each");

    const fixed = await runCli(["doctor", "--fix", "--library", dest], { env: { MLIB_LEASE_EXPIRE_MS: "1" } });
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.deepEqual(readdirSync(join(dest, ".model-library")).filter((n) => n.endsWith(".tmp")), [], "no temp file left");
  } finally {
    t.cleanup();
  }
});
