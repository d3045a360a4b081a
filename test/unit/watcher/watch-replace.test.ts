// A watched folder replaced by another of the same name (deleted and made again, or another folder renamed into
// its place: a restore from a backup, rsync --delete, a tool that rebuilds a folder): the watch on the old folder
// is dead, and later edits in the new one must still be seen.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { blankMetadata, serializeMetadata } from "../../../src/store/metadata.js";
import { watchLibrary } from "../../../src/watcher/watch-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";

function writeMeta(dir: string, name: string): void {
  fs.mkdirSync(dir, { recursive: true });
  const m = blankMetadata();
  m.official_name = name;
  m.model_type = "llm";
  m.family = "llama";
  fs.writeFileSync(path.join(dir, "metadata.json"), JSON.stringify(serializeMetadata(m)));
}

async function until(cond: () => boolean, what: string, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`not seen in time: ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("a model folder (or a family folder) deleted and made again, or replaced by a rename, is still watched", async () => {
  const t = tempDir("mlib-watch-replace-");
  const lib = await ModelLibrary.open(t.dir);
  const w = await watchLibrary(lib, { debounceMs: 50, settleMs: 300 });
  try {
    assert.equal(w.mode, "all-folders");
    const alpha = path.join(t.dir, "llm", "llama", "alpha");
    writeMeta(alpha, "Alpha");
    await until(() => lib.get("llm/llama/alpha") !== null, "alpha indexed");

    // Deleted and made again.
    fs.rmSync(alpha, { recursive: true });
    writeMeta(alpha, "Bravo");
    await until(() => lib.search("bravo").totalCount === 1, "the re-made folder indexed");
    await w.flush();
    writeMeta(alpha, "Charlie");
    await until(() => lib.search("charlie").totalCount === 1, "an edit in the re-made folder");

    // Another folder renamed into its place.
    const prepared = path.join(t.dir, "llm", "prepared");
    writeMeta(prepared, "Delta");
    fs.rmSync(alpha, { recursive: true });
    fs.renameSync(prepared, alpha);
    await until(() => lib.search("delta").totalCount === 1, "the renamed-in folder indexed");
    await w.flush();
    writeMeta(alpha, "Echo");
    await until(() => lib.search("echo").totalCount === 1, "an edit in the renamed-in folder");

    // A family folder deleted and made again: models added to it later are seen.
    fs.rmSync(path.join(t.dir, "llm", "llama"), { recursive: true });
    await until(() => lib.stats().count === 0, "the family's models gone");
    fs.mkdirSync(path.join(t.dir, "llm", "llama"));
    await w.flush();
    writeMeta(path.join(t.dir, "llm", "llama", "foxtrot"), "Foxtrot");
    await until(() => lib.get("llm/llama/foxtrot") !== null, "a model in the re-made family folder");
    await w.flush();
    writeMeta(path.join(t.dir, "llm", "llama", "foxtrot"), "Golf");
    await until(() => lib.search("golf").totalCount === 1, "an edit in that model");
  } finally {
    await w.close();
    lib.close();
    t.cleanup();
  }
});
