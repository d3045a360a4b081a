// doctor reads the file names a model's metadata.json lists. An edited or hostile one naming "../../x" made doctor
// stat a file outside the model folder and, with --fix, hash that outside file and record its hashes as the model's.
import { test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../../src/index.js";
import { runDoctor } from "../../../src/doctor/run-doctor.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

test("doctor never follows a metadata.json file name out of the model folder, and --fix never hashes through it", async () => {
  await withTempLibrary(async (lib, src, root) => {
    const summary = await importModels(lib, { paths: [writeGgufModel(join(src, "m.gguf"), "M", 1)] });
    const id = summary.results[0].modelId!;
    const outside = join(root, "..", "outside.bin");
    writeFileSync(outside, "not part of any model");
    const metaPath = join(lib.modelDir(id), "metadata.json");
    const meta = JSON.parse(readFileSync(metaPath, "utf8")) as { files: Record<string, unknown>[] };
    const hostile = "../".repeat(id.split("/").length + 1) + "outside.bin";
    meta.files.push({ name: hostile, size: null, sha256: null, blake3: null });
    writeFileSync(metaPath, JSON.stringify(meta));

    const result = await runDoctor(lib, { fix: true });
    const after = JSON.parse(readFileSync(metaPath, "utf8")) as { files: { name: string; sha256: string | null }[] };
    assert.equal(after.files.find((f) => f.name === hostile)?.sha256 ?? null, null, "the outside file was hashed as the model's");
    const p = result.problems.find((x) => x.id === id && x.message.includes(JSON.stringify(hostile)));
    assert.ok(p, `the bad name is reported: ${JSON.stringify(result.problems.map((x) => x.message))}`);
    assert.match(p.message, /not inside the model folder/);
    assert.ok(!result.problems.some((x) => x.path === join(lib.modelDir(id), ...hostile.split("/"))), "a path outside the folder was looked at");
  });
});
