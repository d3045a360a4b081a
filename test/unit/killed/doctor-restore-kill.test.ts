// `mlib doctor --fix` restoring a corrupt metadata.json from its .bak, killed with SIGKILL in the middle: the model
// folder must never be left without a metadata.json (it would then be an "orphan", which the next `doctor --fix`
// or `adopt` gives a brand-new metadata.json, dropping the name, tags and notes the .bak holds).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, runCliJson } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("doctor --fix killed while restoring a corrupt metadata.json: never without one; the next --fix restores the .bak", async () => {
  const t = tempDir("mlib-killed-doctor-");
  try {
    const root = join(t.dir, "lib");
    const gguf = writeGgufModel(join(t.dir, "src", "tiny.gguf"), "Tiny Llama");
    const r = await runCliJson<{ results: { modelId: string; path: string }[] }>(["import", gguf, "--json", "--library", root]);
    const { modelId: id, path: dir } = r.json.results[0]!;
    assert.equal((await runCli(["edit", id, "--name", "My Llama", "--notes", "kept", "--library", root])).code, 0);
    assert.equal((await runCli(["edit", id, "--tag", "mine", "--library", root])).code, 0);
    const meta = join(dir, "metadata.json");
    const good = readFileSync(`${meta}.bak`, "utf8"); // name and notes set by hand
    writeFileSync(meta, "{ torn");

    await killAtPause(["doctor", "--fix", "--library", root], "before-rename:metadata.json");
    assert.ok(existsSync(meta), "the model folder keeps a metadata.json at every moment of the fix");

    const fixed = await runCli(["doctor", "--fix", "--library", root], { env: { MLIB_LEASE_EXPIRE_MS: "1" } });
    assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
    assert.equal(readFileSync(meta, "utf8"), good, "the .bak is what is restored (not a new metadata.json from the files)");
    assert.equal(readFileSync(`${meta}.corrupt`, "utf8"), "{ torn", "the damaged file is kept");
  } finally {
    t.cleanup();
  }
});
