// The commands that rewrite a model's metadata.json (edit, lookup --set-repo, redetect, restore) killed with SIGKILL
// at the two moments of the atomic write: before the rename (the new content in a temp file, the .bak replaced)
// and after it (the new file in place, the index not told). Either way metadata.json and its .bak parse, the same
// command run again does its work, the index agrees with metadata.json, and `doctor --fix` leaves nothing behind.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { runCli, runCliJson } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { importModels } from "../../../src/operations/import-models.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

// Made in this process (the library's own API: what `mlib import` and `mlib edit` call), to spare two CLI starts a test.
async function libraryWithModel(dir: string): Promise<{ root: string; id: string; modelDir: string }> {
  const root = join(dir, "lib");
  const gguf = writeGgufModel(join(dir, "src", "tiny.gguf"), "Tiny Llama");
  const lib = await ModelLibrary.open(root);
  try {
    const [r] = await importModels(lib, [gguf]);
    assert.equal(r!.status, "imported", r!.error?.message);
    // A first edit, so a .bak exists (the moment under test replaces it).
    await lib.updateMetadata(r!.modelId!, (m) => {
      m.notes = "first";
    });
    return { root, id: r!.modelId!, modelDir: r!.path! };
  } finally {
    lib.close();
  }
}

function parses(file: string): Record<string, unknown> {
  return JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
}

/** After the kill: metadata.json and .bak parse; then the command again, and doctor --fix leaves the library clean. */
async function checkAfterKill(root: string, modelDir: string, again: string[], expect: (meta: Record<string, unknown>) => void) {
  const meta = join(modelDir, "metadata.json");
  parses(meta);
  parses(`${meta}.bak`);
  const r = await runCli([...again, "--library", root]);
  assert.equal(r.code, 0, r.stdout + r.stderr);
  expect(parses(meta));
  parses(`${meta}.bak`);
  // Exit 0: nothing remains once the safe fixes are applied (MLIB_LEASE_EXPIRE_MS: the kill's temp file counts as old).
  const fixed = await runCli(["doctor", "--fix", "--library", root], { env: { MLIB_LEASE_EXPIRE_MS: "1" } });
  assert.equal(fixed.code, 0, `doctor --fix after the kill and the same command again:\n${fixed.stdout}${fixed.stderr}`);
  const tmps = readdirSync(modelDir).filter((n) => n.endsWith(".tmp"));
  assert.deepEqual(tmps, [], "no temp file of the killed write is left in the model folder");
}

describe("metadata.json writers killed mid-write", () => {
  test.after(() => closeHashWorkers());
  for (const moment of ["before-rename:metadata.json", "after-rename:metadata.json"]) {
    test(`edit killed ${moment}`, async () => {
      const t = tempDir();
      try {
        const { root, id, modelDir } = await libraryWithModel(t.dir);
        const args = ["edit", id, "--name", "Renamed Llama", "--tag", "kept"];
        await killAtPause([...args, "--library", root], moment);
        const list = await runCliJson<{ models: { id: string; officialName: string }[] }>(["list", "--json", "--library", root]);
        const row = list.json.models.find((m) => m.id === id);
        const meta = parses(join(modelDir, "metadata.json"));
        assert.equal(row?.officialName, meta.official_name, "what is listed is what metadata.json says after the kill");
        await checkAfterKill(root, modelDir, args, (m) => {
          assert.equal(m.official_name, "Renamed Llama");
          assert.deepEqual(m.tags, ["kept"]);
        });
        // The index itself (not only the listed rows, which are re-read from metadata.json) finds the new name.
        const found = await runCliJson<{ models: { id: string }[] }>(["search", "Renamed", "--json", "--library", root]);
        assert.deepEqual(found.json.models.map((m) => m.id), [id]);
      } finally {
        t.cleanup();
      }
    });
  }

  test("lookup --set-repo killed before its rename", async () => {
    const t = tempDir();
    try {
      const { root, id, modelDir } = await libraryWithModel(t.dir);
      const args = ["lookup", id, "--set-repo", "someone/tiny-llama"];
      await killAtPause([...args, "--library", root], "before-rename:metadata.json", { env: { HF_HUB_OFFLINE: "1" } });
      await checkAfterKill(root, modelDir, args, (m) => assert.equal(m.repo_id, "someone/tiny-llama"));
    } finally {
      t.cleanup();
    }
  });

  for (const moment of ["before-rename:metadata.json", "after-rename:metadata.json"]) {
    test(`redetect killed ${moment}`, async () => {
      const t = tempDir();
      try {
        const { root, id, modelDir } = await libraryWithModel(t.dir);
        // An older identify revision recorded, so redetect has something to rewrite.
        const file = join(modelDir, "metadata.json");
        const meta = parses(file);
        delete meta.identify_version;
        meta.family = "unknown";
        await import("node:fs").then((fs) => fs.writeFileSync(file, JSON.stringify(meta, null, 2)));
        await runCli(["reindex", "--library", root]);
        await killAtPause(["redetect", id, "--library", root], moment);
        await checkAfterKill(root, modelDir, ["redetect", id], (m) => assert.equal(m.family, "llama"));
        // The index itself (a filter is answered from it) has the family metadata.json has.
        const byFamily = await runCliJson<{ models: { id: string }[] }>(["list", "--family", "llama", "--json", "--library", root]);
        assert.deepEqual(byFamily.json.models.map((m) => m.id), [id]);
      } finally {
        t.cleanup();
      }
    });
  }

  test("restore killed before its rename", async () => {
    const t = tempDir();
    try {
      const { root, id, modelDir } = await libraryWithModel(t.dir);
      const file = join(modelDir, "metadata.json");
      const before = parses(`${file}.bak`);
      await import("node:fs").then((fs) => fs.writeFileSync(file, "{ torn"));
      await killAtPause(["restore", id, "--library", root], "before-rename:metadata.json");
      assert.equal(readFileSync(file, "utf8"), "{ torn", "metadata.json is the old file until the rename");
      parses(`${file}.bak`);
      const r = await runCli(["restore", id, "--library", root]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.deepEqual(parses(file), before, "the backup is what is restored");
      const fixed = await runCli(["doctor", "--fix", "--library", root], { env: { MLIB_LEASE_EXPIRE_MS: "1" } });
      assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
      assert.deepEqual(readdirSync(modelDir).filter((n) => n.endsWith(".tmp")), []);
    } finally {
      t.cleanup();
    }
  });
  test("restore --force killed before its rename, then again: the replaced file is kept once", async () => {
    const t = tempDir();
    try {
      const { root, id, modelDir } = await libraryWithModel(t.dir);
      const file = join(modelDir, "metadata.json");
      const replaced = readFileSync(file, "utf8");
      await killAtPause(["restore", id, "--force", "--library", root], "before-rename:metadata.json");
      const r = await runCli(["restore", id, "--force", "--library", root]);
      assert.equal(r.code, 0, r.stdout + r.stderr);
      const kept = readdirSync(modelDir).filter((n) => n.startsWith("metadata.json.replaced-"));
      assert.equal(kept.length, 1, `one copy of the replaced file, not one per run: ${kept.join(", ")}`);
      assert.equal(readFileSync(join(modelDir, kept[0]!), "utf8"), replaced);
    } finally {
      t.cleanup();
    }
  });
});
