// A folder holding one file whose name is not valid UTF-8 (copied from an old Windows or Latin-1 system): Node lists
// it with U+FFFD and cannot open it by that name. The whole folder import failed with "<folder>: cannot import
// (ENOENT)", naming neither the file nor the cause, and the good models beside it were not imported either.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

test("a file with a non-UTF-8 name is reported by name; the other models of the folder import", async () => {
  await withTempLibrary(async (lib, src) => {
    mkdirSync(src, { recursive: true });
    // "caf\xe9.gguf" in Latin-1: the byte 0xE9 alone is not UTF-8.
    writeFileSync(Buffer.concat([Buffer.from(`${src}/caf`), Buffer.from([0xe9]), Buffer.from(".gguf")]), buildTinyLlamaGguf({ name: "Latin" }));
    writeFileSync(join(src, "good.gguf"), buildTinyLlamaGguf({ name: "Good" }));
    const summary = await importModels(lib, { paths: [src] });
    assert.equal(summary.imported, 1, JSON.stringify(summary.results));
    const failure = summary.results.find((r) => r.status === "failed")!;
    assert.equal(failure.error?.code, "E_INVALID");
    assert.match(failure.error!.message, /caf\uFFFD\.gguf: this name is not valid UTF-8/);
  });
});

test("a non-UTF-8 name beside a model (a notes file) does not stop the model importing", async () => {
  await withTempLibrary(async (lib, src) => {
    const dir = join(src, "snap");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "a.gguf"), buildTinyLlamaGguf({ name: "A" }));
    writeFileSync(Buffer.concat([Buffer.from(`${dir}/notes-`), Buffer.from([0xff]), Buffer.from(".txt")]), "x");
    const summary = await importModels(lib, { paths: [dir] });
    assert.equal(summary.imported, 1, JSON.stringify(summary.results));
  });
});
