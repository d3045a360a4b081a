// An import the original is doing: its `.tmp_import_<uuid>/` already holds the copied weights and the
// metadata.json it writes there before the rename into place (original-behaviour.md §9.1 steps 6-9). mlib must
// not count it, adopt it, verify it or touch a byte of it; only doctor mentions it.
import { test } from "node:test";
import assert from "node:assert/strict";
import { copyFileSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { adoptOrphans } from "../../../src/operations/adopt-orphans.js";
import { verifyModels } from "../../../src/operations/verify-models.js";
import { runDoctor } from "../../../src/doctor/run-doctor.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { makeOriginalLibrary } from "../../helpers/original-library.js";

test.after(() => closeHashWorkers());

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const n of readdirSync(dir)) out[n] = readFileSync(join(dir, n)).toString("base64");
  return out;
}

test("the original's import in progress (weights and metadata.json in .tmp_import_*) is not counted, adopted, verified or touched", async () => {
  const t = tempDir("mlib-original-staging-");
  try {
    const orig = await makeOriginalLibrary(join(t.dir, "lib"), { appsDir: join(t.dir, "apps") });
    const staging = orig.tmpImports.fresh;
    copyFileSync(join(orig.models.noFiles.dir, "metadata.json"), join(staging, "metadata.json"));
    const before = snapshot(staging);
    const ids = Object.values(orig.models).map((m) => m.id).sort();
    const lib = await ModelLibrary.open(orig.root);
    try {
      assert.deepEqual(lib.allIds(), ids);
      assert.equal(lib.list().totalCount, ids.length);
      const adopted = await adoptOrphans(lib, { computeHashes: false });
      assert.equal(JSON.stringify(adopted).includes(".tmp_import_"), false, JSON.stringify(adopted));
      await lib.reindex();
      assert.deepEqual(lib.allIds(), ids);
      const v = await verifyModels(lib, {});
      assert.deepEqual(v.results.map((r) => r.id).sort(), ids);
      const d = await runDoctor(lib, { fix: true });
      const about = [...d.problems, ...d.notices].filter((p) => p.path.startsWith(staging));
      assert.deepEqual(about.map((p) => p.kind), ["original-staging"]);
    } finally {
      lib.close();
    }
    assert.deepEqual(snapshot(staging), before, "not a byte of it changed");
  } finally {
    t.cleanup();
  }
});
