// The read-only operations (searchModels, listModels, getFacets, getStats, showModel, initLibrary) through the
// operations layer: what they answer, and that a fired signal stops them before they read (they are each one
// quick query, so "mid-way" is before it).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { getFacets, getStats, importModels, initLibrary, listModels, searchModels, showModel } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel, writeKohyaLora } from "../../helpers/library-fixtures.js";
import { abortedSignal, assertCancelled, withTempLibrary } from "../../helpers/operations.js";

describe("query operations", () => {
  test.after(() => closeHashWorkers());

  test("search, list, facets, stats, show, init; each refuses a fired signal", () =>
    withTempLibrary(async (lib, src, root) => {
      const { results } = await importModels(lib, {
        paths: [writeGgufModel(join(src, "llama.gguf"), "Tiny Llama", 1), writeKohyaLora(join(src, "style.safetensors"))],
        tags: ["demo"],
      });
      const llama = results.find((r) => r.format === "gguf")!.modelId!;

      const found = await searchModels(lib, { query: "llama", facets: true });
      assert.deepEqual(found.models.map((m) => m.id), [llama]);
      assert.deepEqual(found.facets?.formats, { gguf: 1 });
      assert.equal((await searchModels(lib, { query: "llama" })).facets, undefined, "facets only when asked");

      const listed = await listModels(lib, { formats: ["safetensors"] });
      assert.equal(listed.totalCount, 1);
      assert.equal((await listModels(lib)).totalCount, 2);

      assert.deepEqual((await getFacets(lib, { tags: ["demo"] })).tags, { demo: 2 });

      const stats = await getStats(lib);
      assert.equal(stats.root, root);
      assert.equal(stats.models, 2);
      assert.equal(stats.byFormat.gguf.count, 1);
      assert.ok(stats.byFormat.gguf.bytes > 0);

      const shown = await showModel(lib, { id: `${llama}/` });
      assert.equal(shown.record.id, llama);
      assert.equal(shown.metadata.model_id, llama);
      await assert.rejects(showModel(lib, { id: "llm/none/nope" }), (e: Error & { code?: string }) => e.code === "E_NOT_FOUND");

      assert.deepEqual(await initLibrary(lib), { root, models: 2 });

      const signal = abortedSignal();
      await assertCancelled(searchModels(lib, { query: "llama" }, { signal }));
      await assertCancelled(listModels(lib, {}, { signal }));
      await assertCancelled(getFacets(lib, {}, { signal }));
      await assertCancelled(getStats(lib, {}, { signal }));
      await assertCancelled(showModel(lib, { id: llama }, { signal }));
      await assertCancelled(initLibrary(lib, {}, { signal }));
    }));
});
