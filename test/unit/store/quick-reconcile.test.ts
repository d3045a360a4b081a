// Opening at 100k models must stay quick (issue 9 items 11 and 12): the quick reconcile stats the recorded
// container folders and looks only into those that changed. What other programs add or remove is found.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";

function addModel(root: string, id: string): void {
  mkdirSync(join(root, ...id.split("/")), { recursive: true });
  writeFileSync(join(root, ...id.split("/"), "metadata.json"), JSON.stringify({ official_name: id.split("/").pop() }));
}

describe("quick reconcile", () => {
  test("finds models added and removed by other programs, in changed folders only", async () => {
    const t = tempDir();
    try {
      for (let i = 0; i < 30; i++) addModel(t.dir, `llm/fam${i % 3}/m${i}`);
      addModel(t.dir, "diffusion/sd1/lora");
      let lib = await ModelLibrary.open(t.dir);
      assert.equal(lib.list().totalCount, 31);
      lib.close();

      lib = await ModelLibrary.open(t.dir);
      assert.deepEqual([lib.lastReconcile!.added, lib.lastReconcile!.removed, lib.lastReconcile!.unchanged], [0, 0, 31]);
      lib.close();

      addModel(t.dir, "llm/fam0/new_in_old_family");
      addModel(t.dir, "llm/fam9/new_family");
      addModel(t.dir, "audio/whisper/new_type");
      addModel(t.dir, "deep/er/than/usual");
      rmSync(join(t.dir, "llm", "fam1", "m1"), { recursive: true });
      rmSync(join(t.dir, "diffusion"), { recursive: true }); // a whole type folder
      lib = await ModelLibrary.open(t.dir);
      try {
        assert.equal(lib.lastReconcile!.added, 4);
        assert.equal(lib.lastReconcile!.removed, 2);
        const ids = lib.allIds();
        for (const id of ["llm/fam0/new_in_old_family", "llm/fam9/new_family", "audio/whisper/new_type", "deep/er/than/usual"]) assert.ok(ids.includes(id), id);
        assert.ok(!ids.includes("llm/fam1/m1") && !ids.includes("diffusion/sd1/lora"));
        assert.equal(ids.length, 33);
      } finally {
        lib.close();
      }
      // And the next open has nothing to do again.
      lib = await ModelLibrary.open(t.dir);
      assert.deepEqual([lib.lastReconcile!.added, lib.lastReconcile!.removed], [0, 0]);
      lib.close();
    } finally {
      t.cleanup();
    }
  });
});
