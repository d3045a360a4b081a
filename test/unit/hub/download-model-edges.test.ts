// downloadModel edge cases found in a defect hunt (a real library, the fake Hub on loopback): each test names the
// symptom a user saw.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { closeSync, ftruncateSync, mkdirSync, openSync, writeSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { importInPlace } from "../../../src/operations/import-in-place.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";

const fast = { retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000, controlPollMs: 50 };
let world: HubWorld;

before(async () => {
  world = await openHubWorld({ repos: [] }, "mlib-dlme-");
});
after(() => world.close());

test("a file already in the library is linked even when the disk could not hold a second copy (no 'not enough free space')", async () => {
  const { lib, hub, client } = world;
  // 8 TiB, sparse: more than this disk has free. The library holds it already (its hashes recorded as a download would).
  const dir = join(lib.root, "llm", "unknown", "huge");
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, "huge-Q4_K_M.gguf"), "w");
  writeSync(fd, buildTinyLlamaGguf({ name: "Huge", fileType: 15, contextLength: 2048, seed: 1 }));
  ftruncateSync(fd, 2 ** 43);
  closeSync(fd);
  const sha256 = "a".repeat(64);
  await importInPlace(lib, { modelDir: dir, officialName: "huge", knownHashes: { "huge-Q4_K_M.gguf": { sha256, blake3: "b".repeat(64) } } });
  hub.addRepo({ id: "acme/huge-GGUF", files: [{ path: "huge-Q4_K_M.gguf", file: join(dir, "huge-Q4_K_M.gguf"), sha256 }] });
  hub.requests.length = 0;
  const r = await downloadModel(lib, { repoId: "acme/huge-GGUF", client, ...fast });
  assert.deepEqual(r.files.map((f) => f.how), ["linked"]);
  assert.equal(r.fetchedBytes, 0);
  assert.equal(hub.requests.filter((q) => q.origin === "cdn").length, 0, "nothing fetched");
});
