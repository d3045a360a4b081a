// metadata.json rewrites on a full disk (a small tmpfs holds the library): edit, redetect and restore fail with
// a clear E_IO naming the file and "no space left"; metadata.json and metadata.json.bak survive byte for byte,
// no temp file is left, and the same command works once space is freed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import Database from "better-sqlite3";
import { ModelLibrary, importModels, editModel, redetectModels, restoreMetadata } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { isModelLibraryError } from "../../../src/core/errors.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { HubClient } from "../../../src/hub/hub-client.js";
import { lookupModels } from "../../../src/hub/lookup-models.js";
import { smallDisk } from "../../helpers/small-disk.js";

const NOTES = "n".repeat(40_000); // metadata.json of ~40 KB: more than the room left, more than the lock's page

function snapshot(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name of readdirSync(dir)) if (name.startsWith("metadata") || name.startsWith(".metadata")) out[name] = readFileSync(join(dir, name), "utf8");
  return out;
}

const diskFull = (e: unknown): boolean => isModelLibraryError(e) && e.code === "E_IO" && /no space left|disk (is )?full/i.test(e.message);

describe("metadata.json on a full disk", () => {
  test.after(() => closeHashWorkers());

  test("edit, redetect, restore: E_IO 'no space left', metadata.json and its .bak whole; works once space is freed", async (t) => {
    const disk = smallDisk(t, 4);
    if (!disk) return;
    const src = tempDir();
    try {
      const lib = await ModelLibrary.open(join(disk.dir, "lib"));
      try {
        const [r] = await importModels(lib, [writeGgufModel(join(src.dir, "tiny.gguf"))]);
        assert.equal(r.status, "imported");
        const id = r.modelId!;
        await editModel(lib, { id, notes: "first" }); // a .bak exists from now on
        const before = snapshot(r.path!);
        assert.ok(before["metadata.json.bak"], "a .bak to keep");
        const give = disk.fill(8192); // room for the lock file, not for a 40 KB metadata.json

        const edit = await editModel(lib, { id, notes: NOTES }).then(() => null, (e: unknown) => e);
        assert.ok(diskFull(edit), String(edit));
        assert.match((edit as Error).message, /metadata\.json/);
        assert.deepEqual(snapshot(r.path!), before, "edit: metadata.json and .bak unchanged, no temp file");
        assert.equal((await lib.getMetadata(id)).notes, "first");

        // Hub metadata (`mlib lookup --set-repo`): the same write, the same answer.
        const giveMore = disk.fill(4096); // now only the lock's page: no room for even a small metadata.json
        const client = new HubClient({ endpoint: "http://127.0.0.1:9", token: null, tokenSource: null, offline: true, cacheDir: join(src.dir, "cache") });
        const lookup = await lookupModels(lib, { ids: [id], setRepo: "acme/tiny", client }).then(
          (r) => r,
          (x: unknown) => x,
        );
        client.close();
        if (!Array.isArray(lookup)) assert.ok(diskFull(lookup), String(lookup));
        else assert.ok(lookup.every((r) => r.outcome === "error" && /no space left/.test(r.error ?? "")), JSON.stringify(lookup));
        assert.deepEqual(snapshot(r.path!), before, "lookup: metadata.json and .bak unchanged");
        giveMore();

        const restore = await restoreMetadata(lib, { id, force: true }).then(() => null, (e: unknown) => e);
        // Either refused for room (E_IO) or done (a hard link and a small copy may fit): never a torn file.
        if (restore !== null) assert.ok(diskFull(restore), String(restore));
        for (const [name, text] of Object.entries(snapshot(r.path!))) if (name.endsWith(".json") || name.endsWith(".bak")) JSON.parse(text);

        give();
        await editModel(lib, { id, notes: NOTES });
        assert.equal((await lib.getMetadata(id)).notes, NOTES);
        // A hand edit redetect will correct: it has something to write.
        const file = join(r.path!, "metadata.json");
        writeFileSync(file, readFileSync(file, "utf8").replace(/"quantization": "[^"]*"/, '"quantization": "WRONG"'));
        const again = snapshot(r.path!);
        disk.fill(4096);
        const re = await redetectModels(lib, { ids: [id] });
        assert.match(re.results[0].error ?? "", /no space left/, JSON.stringify(re.results));
        assert.deepEqual(snapshot(r.path!), again, "redetect: metadata.json and .bak unchanged, no temp file");
      } finally {
        lib.close();
      }
    } finally {
      src.cleanup();
      disk.cleanup();
    }
  });

  test("the index full after metadata.json is written: E_IO that says disk full, never a bare SQLITE_FULL; the index catches up", async (t) => {
    const disk = smallDisk(t, 4);
    if (!disk) return;
    const src = tempDir();
    try {
      const root = join(disk.dir, "lib");
      const lib = await ModelLibrary.open(root);
      let id = "";
      let give = () => undefined as void;
      try {
        const [r] = await importModels(lib, [writeGgufModel(join(src.dir, "tiny.gguf"))]);
        id = r.modelId!;
        // An empty WAL: the next index write must grow it, and the disk will have no room for that.
        const side = new Database(lib.index.dbPath);
        side.pragma("wal_checkpoint(TRUNCATE)");
        side.close();
        give = disk.fill(3 * 4096); // the lock and a small metadata.json fit; a 16 KB index page does not
        const e = await editModel(lib, { id, name: "Renamed Llama" }).then(() => null, (x: unknown) => x);
        assert.ok(e, "the index write failed");
        assert.ok(diskFull(e), String(e));
        const message = (e as Error).message;
        assert.ok(message.includes(lib.index.dbPath), message);
        assert.match(message, /metadata\.json was saved/, "says what did land");
        assert.equal((await lib.getMetadata(id)).official_name, "Renamed Llama", "metadata.json holds the edit");
        JSON.parse(readFileSync(join(lib.modelDir(id), "metadata.json.bak"), "utf8"));
        give();
      } finally {
        lib.close();
      }
      const again = await ModelLibrary.open(root);
      try {
        assert.equal(again.get(id)?.officialName, "Renamed Llama", "the index caught up from metadata.json");
      } finally {
        again.close();
      }
    } finally {
      src.cleanup();
      disk.cleanup();
    }
  });
});
