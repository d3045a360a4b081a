// `rm --cascade` removes the links a model's registry entries record, each once proven ours: a copy by its content
// being its source's. A damaged or hand-edited entry whose source is a file outside the library "proved" any file
// with the same content ours: rm deleted the user's file (a copy of their own backup, say), wherever it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { removeModelUnlinked } from "../../../src/mapper/remove-model-links.js";
import { registryPath } from "../../../src/mapper/registry.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { writeTinyModel } from "../../helpers/mapper-fixtures.js";

for (const link_type of ["copy", "hardlink"] as const) {
  test(`rm --cascade never deletes a file an entry calls our ${link_type} of a source outside the library`, async () => {
    const { dir, cleanup } = tempDir("mlib-trav-regcopy-");
    const libRoot = join(dir, "lib");
    writeTinyModel(libRoot, { id: "llm/fam/m", model_type: "llm", family: "fam", format: "gguf", repo_id: null, files: { "m.gguf": "gguf bytes" } });
    const lib = await ModelLibrary.open(libRoot, { reconcile: "full" });
    try {
      const backup = join(dir, "backup", "thesis.txt");
      fs.mkdirSync(join(dir, "backup"));
      fs.writeFileSync(backup, "the user's thesis");
      const target = join(dir, "documents", "thesis.txt");
      fs.mkdirSync(join(dir, "documents"));
      if (link_type === "copy") fs.copyFileSync(backup, target);
      else fs.linkSync(backup, target);
      fs.writeFileSync(registryPath(libRoot), JSON.stringify({
        by_target: { [target]: { model_id: "llm/fam/m", source: backup, target, link_type, created_at: new Date().toISOString(), app_id: "llamacpp", app_version: null } },
        by_model: {},
      }));
      const r = await removeModelUnlinked(lib, { modelId: "llm/fam/m", cascade: true });
      assert.equal(fs.readFileSync(target, "utf8"), "the user's thesis", "the user's file was deleted");
      assert.equal(r.links?.removed ?? 0, 0);
    } finally {
      lib.close();
      cleanup();
    }
  });
}
