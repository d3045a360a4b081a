// Repo ids in the Hub's search answers are data from a server: one such as "../evil-chat" (or with a backslash, a
// URL, a NUL) must never become a model's repo_id, which later commands join into URLs, cache keys and (map's
// publisher-repo layout) folder names. The lookup leaves it out, as it does any answer that is not a repo id.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { importInPlace } from "../../../src/operations/import-in-place.js";
import { lookupModels } from "../../../src/hub/lookup-models.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";

let world: HubWorld;
before(async () => {
  world = await openHubWorld({
    repos: [{ id: "../evil-chat", tags: ["gguf"], files: [{ path: "evil-chat.Q4_K_M.gguf", content: Buffer.from("not ours") }] }],
  }, "mlib-trav-repoids-");
});
after(() => world.close());

test("a search answer whose repo id leaves owner/name is never recorded as a model's repo_id", async () => {
  const { lib, client } = world;
  const dir = join(lib.root, "llm", "llama", "evil-chat");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "evil-chat.gguf"), buildTinyLlamaGguf({ name: "Evil chat", fileType: 15, contextLength: 2048, seed: 5 }));
  const id = (await importInPlace(lib, { modelDir: dir, officialName: "evil-chat" })).modelId;
  const [r] = await lookupModels(lib, { ids: [id], client });
  assert.notEqual(r.repoId, "../evil-chat", JSON.stringify(r));
  assert.equal((await lib.getMetadata(id)).repo_id ?? null, null);
});
