// Issue 9 item 8 (verify/rm side): a model whose metadata.json no longer parses, or lists no files while
// weights sit in its folder, is not silently "OK": verify (of all models, or by id, even after a reindex)
// fails on it with exit 1, and `mlib rm` can remove it.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary, importModels } from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { runCli, runCliJson } from "../helpers/cli.js";
import { tempDir, writeGgufModel } from "../helpers/library-fixtures.js";

describe("broken models", () => {
  test.after(() => closeHashWorkers());

  test("corrupt metadata.json and `files: []`: verify fails on both (all, by id, after reindex); rm removes the corrupt one", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      const lib = await ModelLibrary.open(root);
      let ids: string[];
      try {
        const results = await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"), "Alpha", 1), writeGgufModel(join(t.dir, "src", "b.gguf"), "Beta", 2)]);
        ids = results.map((r) => r.modelId!);
        assert.ok(ids.every(Boolean), JSON.stringify(results));
      } finally {
        lib.close();
      }
      const [corrupt, empty] = ids;
      writeFileSync(join(root, ...corrupt.split("/"), "metadata.json"), "{ not json");
      const emptyMeta = join(root, ...empty.split("/"), "metadata.json");
      writeFileSync(emptyMeta, JSON.stringify({ ...JSON.parse(readFileSync(emptyMeta, "utf8")), files: [] }));

      for (const round of ["after edit", "after reindex"]) {
        if (round === "after reindex") assert.equal((await runCli(["reindex", "--library", root])).code === 2, false);
        const [all, one] = await Promise.all([
          runCliJson<{ results: { id: string; ok: boolean; error: string | null }[] }>(["verify", "--json", "--library", root]),
          runCli(["verify", corrupt, "--library", root]),
        ]);
        assert.equal(all.code, 1, `${round}: ${all.stdout}`);
        for (const id of ids) {
          const r = all.json.results.find((x) => x.id === id);
          assert.ok(r && !r.ok && r.error, `${round}: ${id} must fail verify: ${all.stdout}`);
        }
        assert.equal(one.code, 1, `${round}: ${one.stdout}${one.stderr}`);
      }
      // list names it (the index cannot hold it), in words and in JSON; a filtered list does not.
      const listed = await runCliJson<{ models: { id: string }[]; broken?: { id: string; error: string }[] }>(["list", "--json", "--library", root]);
      assert.deepEqual(listed.json.broken?.map((b) => b.id), [corrupt], listed.stdout);
      assert.match(listed.json.broken![0].error, /not valid JSON/);
      const text = await runCli(["list", "--library", root]);
      assert.match(text.stdout, new RegExp(`BROKEN  ${corrupt}`));
      const filtered = await runCliJson<{ broken?: unknown }>(["list", "--type", "llm", "--json", "--library", root]);
      assert.equal(filtered.json.broken, undefined);
      const rm = await runCli(["rm", corrupt, "--yes", "--library", root]);
      assert.equal(rm.code, 0, rm.stdout + rm.stderr);
      assert.ok(!existsSync(join(root, ...corrupt.split("/"))));
      const after = await runCliJson<{ broken?: unknown }>(["list", "--json", "--library", root]);
      assert.equal(after.json.broken, undefined, "a removed model is no longer listed as broken");
    } finally {
      t.cleanup();
    }
  });
});
