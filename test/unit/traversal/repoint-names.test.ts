// After a merge, a link to a duplicate's file is re-pointed at the library model's file with the same content,
// found by the name that model's metadata.json lists. An edited or hostile one naming "../../x" with that hash had
// the app's link re-pointed at a file outside the library.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { repointLinks } from "../../../src/mapper/repoint-links.js";
import { registryPath } from "../../../src/mapper/registry.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { writeTinyModel } from "../../helpers/mapper-fixtures.js";

test("re-pointing a link never follows a metadata.json file name out of the model folder", async () => {
  const { dir, cleanup } = tempDir("mlib-trav-repoint-");
  const bytes = Buffer.from("gguf bytes of the duplicate");
  const sha256 = createHash("sha256").update(bytes).digest("hex");
  const srcRoot = join(dir, "src");
  const srcFile = join(srcRoot, "llm", "fam", "dup", "dup.gguf");
  const destDir = writeTinyModel(join(dir, "lib"), { id: "llm/fam/m", model_type: "llm", family: "fam", format: "gguf", repo_id: null, files: { "m.gguf": bytes.toString("utf8") } });
  const lib = await ModelLibrary.open(join(dir, "lib"), { reconcile: "full" });
  try {
    // The library model's metadata.json: the content is claimed by a name that leaves the folder.
    const outside = join(dir, "outside.gguf");
    fs.writeFileSync(outside, "not the model");
    const metaPath = join(destDir, "metadata.json");
    const meta = JSON.parse(fs.readFileSync(metaPath, "utf8")) as { files: Record<string, unknown>[] };
    meta.files = [{ name: "../../../../outside.gguf", size: bytes.length, sha256 }];
    fs.writeFileSync(metaPath, JSON.stringify(meta));
    // SRC: its registry records a symlink in the app folder to the duplicate (already removed by the merge).
    const appRoot = join(dir, "app", "models");
    fs.mkdirSync(appRoot, { recursive: true });
    const target = join(appRoot, "dup.gguf");
    fs.symlinkSync(srcFile, target);
    fs.mkdirSync(join(srcRoot, ".model-library"), { recursive: true });
    fs.writeFileSync(registryPath(srcRoot), JSON.stringify({
      by_target: { [target]: { model_id: "llm/fam/dup", source: srcFile, target, link_type: "symlink", created_at: new Date().toISOString(), app_id: "llamacpp", app_version: null, app_root: appRoot } },
      by_model: {},
    }));

    const r = await repointLinks(lib, { sourceRoot: srcRoot, moves: [{ fromId: "llm/fam/dup", toId: "llm/fam/m", toDir: destDir, files: [{ name: "dup.gguf", sha256, size: bytes.length }] }] });
    assert.equal(fs.readlinkSync(target), srcFile, "the link was re-pointed outside the library");
    assert.deepEqual(r.errors, []);
  } finally {
    lib.close();
    cleanup();
  }
});
