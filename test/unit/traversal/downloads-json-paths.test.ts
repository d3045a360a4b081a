// downloads.json records each download's staging folder (`staging_dir`, `dest_dir`); cancel removes that folder
// and doctor --fix removes dead ones. A damaged or hand-edited entry naming a folder outside the library's staging
// area ("../..", the library itself, a user's folder) must never be removed: the download's own folder is.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { cancelDownloads } from "../../../src/hub/control-downloads.js";
import { downloadsStagingRoot, listDownloads, saveDownload, type DownloadEntry } from "../../../src/hub/download-state.js";
import { tempDir } from "../../helpers/library-fixtures.js";

test("cancel never removes a staging_dir outside the staging area; the download's own folder goes", async () => {
  const { dir, cleanup } = tempDir("mlib-trav-dljson-");
  const lib = await ModelLibrary.open(join(dir, "lib"));
  try {
    const root = lib.root;
    const user = join(dir, "user-folder");
    mkdirSync(user);
    writeFileSync(join(user, "keep.txt"), "the user's");
    const staging = downloadsStagingRoot(root);
    const hostile = [user, join(staging, ".."), join(staging, "..", ".."), root, staging, `${staging}/x/../../..`, "relative/../../x"];
    const ids = hostile.map((_, i) => `4f3a0c1e-0000-4000-8000-00000000000${i}`);
    for (const [i, staging_dir] of hostile.entries()) {
      const e: DownloadEntry = {
        download_id: ids[i], repo_id: `acme/m${i}`, filename: "m.gguf", filenames: ["m.gguf"], dest_dir: staging_dir, staging_dir,
        total_bytes: 100, status: "paused",
        download_request: { repo_id: `acme/m${i}`, family: null, official_name: "m", model_type: null, quant: null, filename: null, filenames: null, revision: "main" },
        created_at: new Date().toISOString(),
      };
      await saveDownload(root, e);
      mkdirSync(join(staging, ids[i]), { recursive: true });
      writeFileSync(join(staging, ids[i], "m.gguf.part"), "partial");
    }
    const r = await cancelDownloads(root, "all");
    assert.equal(r.filter((x) => x.outcome === "cancelled").length, hostile.length);
    assert.ok(existsSync(join(user, "keep.txt")), "a folder outside the staging area was removed");
    assert.ok(existsSync(join(root, ".model-library")), "the library's own folder was removed");
    for (const id of ids) assert.equal(existsSync(join(staging, id)), false, "the download's own staging folder is removed");
    assert.deepEqual(await listDownloads(root), []);
    assert.deepEqual(readdirSync(dir).sort(), ["lib", "user-folder"]);
  } finally {
    lib.close();
    cleanup();
  }
});
