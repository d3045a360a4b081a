// File names in a Hub listing are data from a server: a name with a newline or another control character landed
// in the library as it was (a file name that breaks every listing and script), and a name part longer than the
// 255 bytes a filesystem takes (or a file name too long for the `.part.json` temp name beside it) failed only after
// the download began, with an ENAMETOOLONG naming a staging path. Both are refused before anything is fetched,
// naming the repo and the file; the longest name that can be downloaded still is. A folder named "..." (dots
// only) landed, then failed ("no model files found": the library skips it as hidden), leaving its files behind.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { ModelLibraryError } from "../../../src/core/errors.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";

const content = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 15, contextLength: 4096, seed: 1 });
const fast = { retry: { attempts: 2, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000, controlPollMs: 50 };
let world: HubWorld;

before(async () => {
  world = await openHubWorld({
    repos: [
      { id: "evil/newline", files: [{ path: "m\nrm -rf.gguf", content }] },
      { id: "evil/bell", files: [{ path: "sub\u0007/m.gguf", content }] },
      { id: "evil/long", files: [{ path: `${"a".repeat(300)}.gguf`, content }] },
      { id: "evil/long-utf8", files: [{ path: `${"é".repeat(130)}/m.gguf`, content }] },
      { id: "evil/dots", files: [{ path: ".../m.gguf", content }] },
      { id: "evil/dots-middle", files: [{ path: "a/..../m.gguf", content }] },
      { id: "acme/longest", files: [{ path: `${"b".repeat(214)}.gguf`, content }] },
    ],
  }, "mlib-trav-hub-");
});
after(() => world.close());

const cases: [string, RegExp][] = [
  ["evil/newline", /control character \(U\+000A\)/],
  ["evil/bell", /control character \(U\+0007\)/],
  ["evil/long", /its name is longer than 219 bytes/],
  ["evil/long-utf8", /a folder name in it is longer than 255 bytes/],
  ["evil/dots", /a part made of dots only \("\.\.\."\)/],
  ["evil/dots-middle", /a part made of dots only \("\.\.\.\."\)/],
];
for (const [repoId, why] of cases) {
  test(`a Hub file name of ${repoId} is refused before any download, naming it`, async () => {
    const before = world.hub.requests.filter((q) => q.origin === "cdn").length;
    await assert.rejects(downloadModel(world.lib, { repoId, client: world.client, ...fast }), (e: ModelLibraryError) => {
      assert.equal(e.code, "E_INVALID", e.message);
      assert.match(e.message, new RegExp(`${repoId}: refusing the Hub file name`));
      assert.match(e.message, why);
      return true;
    });
    assert.equal(world.hub.requests.filter((q) => q.origin === "cdn").length, before, "nothing was fetched");
    assert.deepEqual(readdirSync(world.lib.root).filter((n) => !n.startsWith(".")), [], "nothing landed in the library");
  });
}

test("the longest file name that fits (219 bytes) is downloaded", async () => {
  const r = await downloadModel(world.lib, { repoId: "acme/longest", client: world.client, ...fast });
  assert.equal(r.status, "completed");
  assert.equal(Buffer.byteLength(r.files[0].path), 219);
});
