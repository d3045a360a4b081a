import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { runDoctor } from "../../../src/doctor/run-doctor.js";
import { tempDir, writeGgufModel, writeShardSet } from "../../helpers/library-fixtures.js";
import { runCli } from "../../helpers/cli.js";

async function importOne(lib: ModelLibrary, file: string, name: string): Promise<string> {
  const [r] = await importModels(lib, [file], { name });
  assert.equal(r.status, "imported", r.error?.message);
  return r.modelId!;
}

describe("runDoctor", () => {
  test("a healthy library: no problems, mlib doctor exits 0; imported files carry their mtime", async () => {
    const t = tempDir("mlib-doctor-");
    try {
      const lib = await ModelLibrary.open(path.join(t.dir, "lib"));
      const id = await importOne(lib, writeGgufModel(path.join(t.dir, "a.gguf"), "A", 1), "healthy");
      const meta = await lib.getMetadata(id);
      assert.equal(typeof meta.files![0].mtime, "number");
      const r = await runDoctor(lib);
      assert.deepEqual(r.problems, []);
      lib.close();
      const cli = await runCli(["doctor", "--library", path.join(t.dir, "lib")]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /1 models checked: no problems/);
    } finally {
      t.cleanup();
    }
  });

  test("finds every kind of problem; --fix applies the safe fixes and leaves the rest reported", async () => {
    const t = tempDir("mlib-doctor-");
    const root = path.join(t.dir, "lib");
    try {
      const lib = await ModelLibrary.open(root);
      const corrupt = await importOne(lib, writeGgufModel(path.join(t.dir, "b.gguf"), "B", 2), "corrupt one");
      await lib.updateMetadata(corrupt, (m) => { m.notes = "good version"; }); // leaves a .bak
      fs.writeFileSync(path.join(lib.modelDir(corrupt), "metadata.json"), "{ torn");
      const changed = await importOne(lib, writeGgufModel(path.join(t.dir, "c.gguf"), "C", 3), "changed one");
      const cFile = fs.readdirSync(lib.modelDir(changed)).find((n) => n.endsWith(".gguf"))!;
      fs.appendFileSync(path.join(lib.modelDir(changed), cFile), "more");
      const unhashed = await importOne(lib, writeGgufModel(path.join(t.dir, "d.gguf"), "D", 4), "unhashed one");
      // No hash at all (per file nor at model level: a model-level hash covers the largest file, as the original records it).
      await lib.updateMetadata(unhashed, (m) => { m.hashes = null; for (const f of m.files!) { f.sha256 = null; f.blake3 = null; } });
      const dropped = await importOne(lib, writeGgufModel(path.join(t.dir, "e.gguf"), "E", 5), "dropped from index");
      lib.index.delete(dropped);
      const orphan = writeGgufModel(path.join(root, "llm", "llama", "orphan", "orphan.gguf"), "Orphan", 6);
      fs.utimesSync(orphan, new Date(Date.now() - 60_000), new Date(Date.now() - 60_000)); // a copy that is over (doctor-safety.test.ts)
      writeShardSet(path.join(root, "llm", "llama", "partial"), "model", 3, [3]);
      const oldStaging = path.join(root, ".staging", "999999999-abc");
      fs.mkdirSync(oldStaging, { recursive: true });
      fs.utimesSync(oldStaging, new Date(Date.now() - 600_000), new Date(Date.now() - 600_000)); // untouched for 10 min
      fs.mkdirSync(path.join(root, ".tmp_import_0b1c"), { recursive: true });
      // Untouched for two hours (one changed within the hour is an import the original is doing: a notice).
      fs.utimesSync(path.join(root, ".tmp_import_0b1c"), new Date(Date.now() - 7_200_000), new Date(Date.now() - 7_200_000));
      fs.writeFileSync(path.join(lib.modelDir(changed), "next.gguf.part"), "x");
      fs.mkdirSync(path.join(lib.modelDir(changed), "extra", "deep"), { recursive: true });
      fs.writeFileSync(path.join(lib.modelDir(changed), "extra", "deep", "side.bin.part"), "x");
      fs.writeFileSync(path.join(lib.modelDir(dropped), "resumable.gguf.part"), "x");
      fs.writeFileSync(path.join(lib.modelDir(dropped), "resumable.gguf.part.json"), "{}");

      const r = await runDoctor(lib);
      const kinds = [...new Set(r.problems.map((p) => p.kind))].sort();
      // `.part` files in a model folder and in its sub-folders; the resumable one (with its record) is not one.
      assert.deepEqual(r.problems.filter((p) => p.kind === "part-without-download").map((p) => path.relative(lib.modelDir(changed), p.path)).sort(), [
        path.join("extra", "deep", "side.bin.part"), "next.gguf.part",
      ]);
      assert.deepEqual(kinds, [
        "file-changed", "incomplete-shards", "index-out-of-step", "metadata-corrupt", "no-hashes", "no-metadata",
        "original-staging", "part-without-download", "staging-dead",
      ]);
      assert.equal(r.fixable, 5);
      assert.match(r.problems.find((p) => p.kind === "metadata-corrupt")!.remedy, /metadata\.json\.bak/);

      const fixed = await runDoctor(lib, { fix: true });
      assert.deepEqual(fixed.fixErrors, []);
      assert.deepEqual(fixed.fixed.map((f) => f.kind).sort(), ["index-out-of-step", "metadata-corrupt", "no-hashes", "no-metadata", "staging-dead"]);
      assert.deepEqual([...new Set(fixed.problems.map((p) => p.kind))].sort(), ["file-changed", "incomplete-shards", "original-staging", "part-without-download"]);
      assert.equal(fixed.fixable, 0);
      assert.equal((await lib.getMetadata(corrupt)).notes, null); // the .bak: the version before the last write
      assert.ok(fs.existsSync(path.join(lib.modelDir(corrupt), "metadata.json.corrupt")));
      assert.match((await lib.getMetadata(unhashed)).files![0].sha256 ?? "", /^[0-9a-f]{64}$/);
      assert.ok(lib.get(dropped));
      assert.ok(lib.get("llm/llama/orphan"));
      assert.ok(fs.existsSync(path.join(root, ".tmp_import_0b1c")), "the original's staging is never touched");
      lib.close();

      const cli = await runCli(["doctor", "--json", "--library", root]);
      assert.equal(cli.code, 1);
      assert.equal(JSON.parse(cli.stdout).problems.length, 5); // (two .part files)
    } finally {
      t.cleanup();
    }
  });

  test("a stopped merge is reported with the command that finishes it; merge copies without a journal are removed", async () => {
    const t = tempDir("mlib-doctor-");
    const root = path.join(t.dir, "lib");
    try {
      const lib = await ModelLibrary.open(root);
      fs.mkdirSync(path.join(root, ".model-library"), { recursive: true });
      fs.writeFileSync(path.join(root, ".model-library", "merge-journal.json"), JSON.stringify({ version: 1, source: "/mnt/old", plan: [] }));
      const r = await runDoctor(lib, { fix: true });
      assert.deepEqual(r.problems.map((p) => p.kind), ["merge-unfinished"]);
      assert.match(r.problems[0].remedy, /mlib merge \/mnt\/old/);
      fs.rmSync(path.join(root, ".model-library", "merge-journal.json"));
      fs.mkdirSync(path.join(root, ".model-library", "merge-staging", "3"), { recursive: true });
      const r2 = await runDoctor(lib, { fix: true });
      assert.deepEqual(r2.fixed.map((f) => f.kind), ["staging-dead"]);
      assert.deepEqual(r2.problems, []);
      assert.equal(fs.existsSync(path.join(root, ".model-library", "merge-staging")), false);
      lib.close();
    } finally {
      t.cleanup();
    }
  });
});
