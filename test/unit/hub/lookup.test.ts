// lookupModels against the fake Hub: a Hub file with our SHA-256 is an exact match (1.0, "hash") even under
// another name; otherwise the name heuristics; manual matches kept unless force; attempts counted.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importInPlace } from "../../../src/operations/import-in-place.js";
import { lookupModels, nameConfidence } from "../../../src/hub/lookup-models.js";
import { HubClient } from "../../../src/hub/hub-client.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";

const mine = buildTinyLlamaGguf({ name: "TinyLlama", fileType: 15, contextLength: 2048, seed: 31 });
const other = buildTinyLlamaGguf({ name: "Llama chat", fileType: 15, contextLength: 2048, seed: 32 });
let world: HubWorld;
let lib: ModelLibrary;
let client: HubClient;

async function store(name: string, file: string, bytes: Buffer): Promise<string> {
  const dir = join(lib.root, "llm", "llama", name);
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, file), bytes);
  return (await importInPlace(lib, { modelDir: dir, officialName: name })).modelId;
}

before(async () => {
  world = await openHubWorld({
    repos: [
      { id: "acme/TinyLlama-GGUF", tags: ["gguf", "license:mit"], cardData: { base_model: "acme/TinyLlama", license: "mit" }, files: [{ path: "TinyLlama-Q4_K_M.gguf", content: mine }] },
      { id: "acme/llama-7b-chat-GGUF", tags: ["gguf"], files: [{ path: "llama-7b-chat.Q4_K_M.gguf", content: other.subarray(0, 2000) }] },
    ],
  }, "mlib-lookup-");
  ({ lib, client } = world);
});
after(() => world.close());

test("the original's name confidence", () => {
  assert.equal(nameConfidence("llama", "llama"), 1);
  assert.ok(nameConfidence("llama", "llama-2-7b") > 0.7);
  assert.equal(nameConfidence("llama-7b", "llama-2-7b-chat"), 0.5);
  assert.ok(nameConfidence("gpt", "llama") < 0.3);
});

test("same SHA-256 on the Hub under another name: exact match, repo and card fields filled", async () => {
  const id = await store("tinyllama", "tinyllama-q4_k_m.gguf", mine);
  const [r] = await lookupModels(lib, { ids: [id], client });
  assert.equal(r.outcome, "matched");
  assert.equal(r.method, "hash");
  assert.equal(r.confidence, 1);
  assert.equal(r.repoId, "acme/TinyLlama-GGUF");
  assert.equal(r.matchedFile, "TinyLlama-Q4_K_M.gguf");
  const m = await lib.getMetadata(id);
  assert.equal(m.repo_id, "acme/TinyLlama-GGUF");
  assert.equal(m.match_source, "hf");
  assert.equal(m.pending_online_lookup, false);
  assert.equal(m.lookup_attempts, 1);
  assert.deepEqual(m.base_model, ["acme/TinyLlama"]);
  assert.equal((m.model_card as { license?: string }).license, "mit");
});

test("no hash match: the name heuristics (contained name → 0.8, filename_fuzzy)", async () => {
  const id = await store("llama-7b-chat", "llama-7b-chat.gguf", other);
  const [r] = await lookupModels(lib, { ids: [id], client });
  assert.equal(r.outcome, "matched");
  assert.equal(r.method, "filename_fuzzy");
  assert.equal(r.confidence, 0.8);
  assert.equal(r.repoId, "acme/llama-7b-chat-GGUF");
});

test("manual matches are kept unless --force; --set-repo and a no-match count attempts", async () => {
  const id = await store("mystery", "zzz-unknown.gguf", buildTinyLlamaGguf({ name: "z", fileType: 15, contextLength: 2048, seed: 40 }));
  let [r] = await lookupModels(lib, { ids: [id], client });
  assert.equal(r.outcome, "no-match");
  let m = await lib.getMetadata(id);
  assert.equal(m.lookup_attempts, 1);
  assert.notEqual(m.pending_online_lookup, false);
  [r] = await lookupModels(lib, { ids: [id], setRepo: "me/mine", client });
  assert.equal(r.outcome, "manual");
  m = await lib.getMetadata(id);
  assert.equal(m.match_source, "manual");
  assert.equal(m.repo_id, "me/mine");
  [r] = await lookupModels(lib, { ids: [id], client });
  assert.equal(r.outcome, "kept-manual");
  assert.equal((await lib.getMetadata(id)).repo_id, "me/mine");
  [r] = await lookupModels(lib, { ids: [id], force: true, client });
  assert.equal(r.outcome, "error"); // me/mine does not exist on the Hub: said, nothing overwritten
  assert.equal((await lib.getMetadata(id)).repo_id, "me/mine");
});

test("without ids: only the models still pending a lookup", async () => {
  const id = await store("pending-one", "pending-one.gguf", buildTinyLlamaGguf({ name: "p", fileType: 15, contextLength: 2048, seed: 41 }));
  const results = await lookupModels(lib, { client });
  assert.deepEqual(results.map((r) => r.id), [id]);
});
