// A killed merge is finished from its journal (<library>/.model-library/merge-journal.json), whose plan names each
// model folder relative to the source and its id in the library. A damaged or hand-edited journal naming
// "../outside" had the finishing merge move a folder from outside the source into the library.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";

for (const [what, item] of [
  ["a source folder that leaves the source", { source: "../outside", destId: "llm/x/stolen" }],
  ["an absolute source folder", { source: "/tmp", destId: "llm/x/stolen" }],
  ["a library id that leaves the library", { source: "llm/x/m", destId: "../../outside2" }],
] as const) {
  test(`a merge journal naming ${what} is refused, naming it; nothing is moved`, async () => {
    const t = tempDir("mlib-trav-mjournal-");
    const dest = await ModelLibrary.open(path.join(t.dir, "dest"));
    try {
      const srcRoot = path.join(t.dir, "src");
      fs.mkdirSync(path.join(srcRoot, "llm", "x", "m"), { recursive: true });
      fs.writeFileSync(path.join(srcRoot, "llm", "x", "m", "m.gguf"), "weights");
      const outside = path.join(t.dir, "outside");
      fs.mkdirSync(outside);
      fs.writeFileSync(path.join(outside, "notes.txt"), "the user's");
      fs.mkdirSync(path.join(dest.root, ".model-library"), { recursive: true });
      fs.writeFileSync(path.join(dest.root, ".model-library", "merge-journal.json"), JSON.stringify({
        version: 1, source: srcRoot, startedAt: new Date().toISOString(), allowPickle: false,
        plan: [{ ...item, action: "move", reason: null, bytes: 7, crossDevice: false, files: [] }],
      }));
      await assert.rejects(mergeLibrary(dest, { source: srcRoot }), (e: Error & { code?: string }) => {
        assert.ok(e.message.includes(JSON.stringify(item.source === "llm/x/m" ? item.destId : item.source)), e.message);
        assert.match(e.message, /merge-journal\.json/);
        return true;
      });
      assert.equal(fs.readFileSync(path.join(outside, "notes.txt"), "utf8"), "the user's");
      assert.ok(fs.existsSync(path.join(srcRoot, "llm", "x", "m", "m.gguf")));
      assert.deepEqual(fs.readdirSync(dest.root).filter((n) => !n.startsWith(".")), []);
      assert.equal(fs.existsSync(path.join(t.dir, "outside2")), false);
    } finally {
      dest.close();
      t.cleanup();
    }
  });
}
