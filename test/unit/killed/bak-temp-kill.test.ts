// A write killed between its backup and its rename leaves metadata.json.bak a hard link of metadata.json itself.
// The next write of that file must then still leave no temp file of its backup behind (a rename between two links
// of one file does nothing and keeps its source).
import { test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, runCliJson } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("edit killed before its rename, then edit again: no .bak temp file left, both files parse", async () => {
  const t = tempDir();
  try {
    const root = join(t.dir, "lib");
    const gguf = writeGgufModel(join(t.dir, "src", "tiny.gguf"), "Tiny Llama");
    const r = await runCliJson<{ results: { modelId: string; path: string }[] }>(["import", gguf, "--json", "--library", root]);
    assert.equal(r.code, 0, r.stderr);
    const { modelId: id, path: dir } = r.json.results[0]!;
    await killAtPause(["edit", id, "--notes", "one", "--library", root], "before-rename:metadata.json");
    const again = await runCli(["edit", id, "--notes", "two", "--library", root]);
    assert.equal(again.code, 0, again.stderr);
    const meta = join(dir, "metadata.json");
    assert.equal((JSON.parse(readFileSync(meta, "utf8")) as { notes: string }).notes, "two");
    JSON.parse(readFileSync(`${meta}.bak`, "utf8"));
    assert.deepEqual(readdirSync(dir).filter((n) => n.startsWith(".metadata.json.bak.")), [], "the backup's temp file is removed");
  } finally {
    t.cleanup();
  }
});
