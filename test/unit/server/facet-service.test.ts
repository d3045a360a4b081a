// Facets counted in the worker thread: the same counts as the index, remembered until the data changes
// (a write by any connection), shared when asked twice at once, dropped when every asker has gone.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { ModelIndex } from "../../../src/index/model-index.js";
import type { SearchFilters } from "../../../src/index/index-types.js";
import { FacetService } from "../../../src/server/facet-service.js";
import { makeRecord } from "../../helpers/index-records.js";
import { tempDir } from "../../helpers/library-fixtures.js";

let tmp: { dir: string; cleanup: () => void };
let index: ModelIndex;
let service: FacetService;
let countedHere = 0;

before(() => {
  tmp = tempDir("mlib-facets-");
  index = ModelIndex.open(join(tmp.dir, "index.db"));
  index.upsert(makeRecord({ id: "llm/qwen/a", family: "qwen", format: "gguf", quantization: "Q4_K_M", tags: ["chat"] }));
  index.upsert(makeRecord({ id: "llm/qwen/b", family: "qwen", format: "safetensors", tags: ["chat", "code"] }));
  index.upsert(makeRecord({ id: "diffusion/sdxl/c", modelType: "diffusion", family: "sdxl", format: "safetensors" }));
  service = new FacetService(index.dbPath, (q, f) => {
    countedHere++;
    return index.facets(q, f);
  });
});
after(async () => {
  await service.close();
  index.close();
  tmp.cleanup();
});

test("counts in the worker equal the index's own, for queries and filters", async () => {
  const cases: [string, SearchFilters][] = [["", {}], ["qwen", {}], ["", { formats: ["safetensors"] }], ["", { tags: ["chat", "code"], tagMode: "all" }]];
  for (const [q, f] of cases) {
    assert.deepEqual(await service.get(q, f), index.facets(q, f), `${q} ${JSON.stringify(f)}`);
  }
  assert.equal(countedHere, 0, "nothing was counted on this thread");
});

test("remembered until any connection writes; asked twice at once, counted once", async () => {
  const first = await service.get("", {});
  assert.equal(await service.get("", {}), first, "the same object: from the cache");
  index.upsert(makeRecord({ id: "llm/llama/d", family: "llama", format: "gguf" }));
  const after = await service.get("", {});
  assert.notEqual(after, first);
  assert.equal(after.families.llama, 1);
  const [a, b] = await Promise.all([service.get("q", { families: ["qwen"] }), service.get("q", { families: ["qwen"] })]);
  assert.equal(a, b);
});

test("a request whose asker has gone before its turn is dropped, not counted", async () => {
  const gone = new AbortController();
  const running = service.get("", { formats: ["gguf"] });
  const dropped = service.get("", { formats: ["onnx"] }, gone.signal);
  gone.abort();
  await running;
  await assert.rejects(dropped, (e: { code?: string }) => e.code === "E_CANCELLED");
});
