// verify follows the file names metadata.json lists. An edited or hostile metadata.json naming "../../x" made
// verify read (and report on) a file outside the model folder, even outside the library.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels, verifyModels } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

test("verify never follows a metadata.json file name out of the model folder", async () => {
  await withTempLibrary(async (lib, src, root) => {
    const summary = await importModels(lib, { paths: [writeGgufModel(join(src, "m.gguf"), "M", 1)] });
    const id = summary.results[0].modelId!;
    // A file outside the library whose size and hash the metadata claims: followed, it would verify "OK".
    const outside = join(root, "..", "outside.bin");
    const bytes = Buffer.from("not part of any model");
    writeFileSync(outside, bytes);
    const metaPath = join(lib.modelDir(id), "metadata.json");
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as { files: Record<string, unknown>[] };
    const hostile = "../".repeat(id.split("/").length + 1) + "outside.bin";
    meta.files.push({ name: hostile, size: bytes.length, sha256: createHash("sha256").update(bytes).digest("hex"), blake3: null });
    writeFileSync(metaPath, JSON.stringify(meta));

    const [result] = (await verifyModels(lib, { ids: [id] })).results;
    assert.equal(result.ok, false);
    const entry = result.files.find((f) => f.name === hostile)!;
    assert.equal(entry.status, "missing");
    assert.equal(entry.path, null);
    assert.match(result.error ?? "", /not inside the model folder/);
    assert.match(result.error ?? "", /'\.\.' segment/);
  });
});
