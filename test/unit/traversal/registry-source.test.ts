// `links repair` re-makes a broken link of ours from its registry entry. An entry whose source is a file outside the
// library (a damaged or hand-edited link_registry.json) had repair link that outside file into the app folder, in
// place of what was at the target.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { repairLinks } from "../../../src/mapper/index.js";
import { registryPath } from "../../../src/mapper/registry.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { writeTinyModel } from "../../helpers/mapper-fixtures.js";

test("links repair never links a source outside the library into the app folder", async () => {
  const { dir, cleanup } = tempDir("mlib-trav-registry-");
  const libRoot = join(dir, "lib");
  writeTinyModel(libRoot, { id: "llm/fam/m", model_type: "llm", family: "fam", format: "gguf", repo_id: null, files: { "m.gguf": "gguf bytes" } });
  const lib = await ModelLibrary.open(libRoot, { reconcile: "full" });
  try {
    const root = join(dir, "app", "models");
    fs.mkdirSync(root, { recursive: true });
    const outside = join(dir, "secret.txt");
    fs.writeFileSync(outside, "not a model, not in the library");
    const target = join(root, "m.gguf");
    fs.writeFileSync(target, "gguf bytes");
    const st = fs.statSync(target);
    fs.writeFileSync(registryPath(libRoot), JSON.stringify({
      by_target: { [target]: { model_id: "llm/fam/m", source: outside, target, link_type: "hardlink", target_inode: st.ino, target_device: st.dev, target_size: st.size, created_at: new Date().toISOString(), app_id: "llamacpp", app_version: null, app_root: root } },
      by_model: {},
    }));
    await repairLinks(lib);
    assert.notEqual(fs.statSync(target).ino, fs.statSync(outside).ino, "the outside file was linked into the app folder");
    assert.equal(fs.readFileSync(target, "utf8"), "gguf bytes");
  } finally {
    lib.close();
    cleanup();
  }
});
