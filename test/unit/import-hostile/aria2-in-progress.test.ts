// aria2 preallocates a download at its full size and fills it in place, keeping `<name>.aria2` beside it until the
// end: the file has a valid header and the right size while its tail is still zeros. It was identified and stored
// as a whole model (and verify would later call the zeros "OK", as they are what was hashed).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, rmSync, truncateSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { identify } from "../../../src/identify/identify.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { modelFolders, withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

test("a file aria2 is still downloading is flagged by identify and refused by import until its control file is gone", async () => {
  await withTempLibrary(async (lib, src, root) => {
    mkdirSync(src, { recursive: true });
    const file = join(src, "model.gguf");
    const whole = buildTinyLlamaGguf({ name: "Downloading" });
    writeFileSync(file, whole.subarray(0, 4096)); // the first piece arrived...
    truncateSync(file, whole.length); // ...in a file preallocated to its full size
    writeFileSync(`${file}.aria2`, Buffer.alloc(64));

    const ident = await identify(file);
    assert.match(ident.warnings[0], /still being downloaded: model\.gguf\.aria2/);

    const refused = await importModels(lib, { paths: [file] });
    assert.equal(refused.results[0].error?.code, "E_INCOMPLETE");
    assert.match(refused.results[0].error!.message, /still being downloaded \(aria2 control file .*model\.gguf\.aria2/);
    assert.deepEqual(modelFolders(root), []);
    assert.ok(existsSync(file));

    writeFileSync(file, whole); // the download finished: aria2 removes its control file
    rmSync(`${file}.aria2`);
    const imported = await importModels(lib, { paths: [file] });
    assert.equal(imported.imported, 1, JSON.stringify(imported.results));
  });
});
