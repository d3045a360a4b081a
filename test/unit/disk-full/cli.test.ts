// The CLI on a full disk: `mlib edit` and `mlib list` say "no space left" / "disk full" in one line naming the
// file, exit non-zero, print no stack trace, and `mlib edit` works again once space is freed.
import { test } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelLibrary, importModels } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { hasStackTrace, runCli } from "../../helpers/cli.js";
import { smallDisk } from "../../helpers/small-disk.js";

test.after(() => closeHashWorkers());

test("mlib edit and mlib list on a full disk: one clear line, exit non-zero, no stack; edit works once space is freed", async (t) => {
  const disk = smallDisk(t, 4);
  if (!disk) return;
  const src = tempDir();
  try {
    const root = join(disk.dir, "lib");
    const lib = await ModelLibrary.open(root);
    let id: string;
    try {
      const [r] = await importModels(lib, [writeGgufModel(join(src.dir, "tiny.gguf"))]);
      id = r.modelId!;
    } finally {
      lib.close();
    }
    const give = disk.fill();
    const edit = await runCli(["edit", id, "--notes", "n".repeat(20_000), "--library", root]);
    assert.notEqual(edit.code, 0);
    assert.match(edit.stderr, /no space left|disk full/, edit.stderr);
    assert.ok(!hasStackTrace(edit.stderr), edit.stderr);
    const list = await runCli(["list", "--library", root]);
    if (list.code !== 0) {
      assert.match(list.stderr, /disk full/, list.stderr);
      assert.ok(!hasStackTrace(list.stderr), list.stderr);
    }
    give();
    const again = await runCli(["edit", id, "--notes", "fine", "--library", root]);
    assert.equal(again.code, 0, again.stderr);
  } finally {
    src.cleanup();
    disk.cleanup();
  }
});
