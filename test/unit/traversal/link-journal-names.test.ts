// link_journal.json (a killed `map apply`'s write-ahead list) names, per link, the temp file it was writing
// (`.<name>.mlib-partial` / `.mlib-new`) and where the user's file was moved aside (`<name>.mlib-replaced-...`):
// `links repair` and `unlink` remove the first and put the second back. A damaged or hand-edited journal naming
// any other file beside the target (the user's own notes in the app folder) had repair delete it or move it.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { repairLinks, unlinkApp } from "../../../src/mapper/index.js";
import { journalPath } from "../../../src/mapper/link-journal.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { writeTinyModel } from "../../helpers/mapper-fixtures.js";

async function setup(dir: string): Promise<{ lib: ModelLibrary; root: string; source: string }> {
  const libRoot = join(dir, "lib");
  const source = join(writeTinyModel(libRoot, { id: "llm/fam/m", model_type: "llm", family: "fam", format: "gguf", repo_id: null, files: { "m.gguf": "gguf bytes" } }), "m.gguf");
  const lib = await ModelLibrary.open(libRoot, { reconcile: "full" });
  const root = join(dir, "app", "models");
  fs.mkdirSync(root, { recursive: true });
  return { lib, root, source };
}

function writeJournal(lib: ModelLibrary, root: string, link: unknown[]): void {
  fs.writeFileSync(journalPath(lib.root), JSON.stringify({
    mlib_link_journal: 1, id: "hostile", created_at: new Date().toISOString(), app_id: "llamacpp", app_version: null,
    app_root: root, link_type: "symlink", links: [link],
  }));
}

for (const run of ["links repair", "unlink"] as const) {
  test(`${run}: a journal's temp name that is not the link's own temp name is never removed`, async () => {
    const { dir, cleanup } = tempDir("mlib-trav-journal-");
    const { lib, root, source } = await setup(dir);
    try {
      const notes = join(root, "my-notes.txt");
      fs.writeFileSync(notes, "the user's own file");
      const target = join(root, "m.gguf");
      fs.symlinkSync(source, target);
      writeJournal(lib, root, [target, source, "llm/fam/m", 0, notes, null]);
      if (run === "links repair") await repairLinks(lib);
      else await unlinkApp(lib, { app: "llamacpp", root });
      assert.equal(fs.readFileSync(notes, "utf8"), "the user's own file");
    } finally {
      lib.close();
      cleanup();
    }
  });
}

test("links repair: a journal's moved-aside name that is not one of ours is never moved to the link's name", async () => {
  const { dir, cleanup } = tempDir("mlib-trav-journal-");
  const { lib, root, source } = await setup(dir);
  try {
    const notes = join(root, "my-notes.txt");
    fs.writeFileSync(notes, "the user's own file");
    const target = join(root, "m.gguf");
    writeJournal(lib, root, [target, source, "llm/fam/m", 0, null, null, notes]);
    await repairLinks(lib);
    assert.equal(fs.readFileSync(notes, "utf8"), "the user's own file");
    assert.equal(fs.existsSync(target), false);
  } finally {
    lib.close();
    cleanup();
  }
});
