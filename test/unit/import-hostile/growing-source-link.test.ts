// A file still being written (a download in progress) imported with --mode hardlink or move: the library's file
// is a link to the same bytes. The hashing noticed the change, but the message named the link's staging path inside
// the library (and said "hash it again"): it now names the user's file and says what to do.
import { test } from "node:test";
import assert from "node:assert/strict";
import { appendFileSync, existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { modelFolders, stagingLeft, withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

for (const mode of ["hardlink", "move"] as const) {
  test(`--mode ${mode}: a source that grows while it is hashed is refused, and kept`, async () => {
    await withTempLibrary(async (lib, src, root) => {
      mkdirSync(src, { recursive: true });
      const file = join(src, "growing.gguf");
      writeFileSync(file, buildTinyLlamaGguf({ name: "Growing" }));
      let grown = false;
      const summary = await importModels(lib, { paths: [file], mode }, {
        onProgress: (e) => {
          // The writer appends while the import hashes the linked file.
          if (e.phase === "hash" && !grown) {
            grown = true;
            appendFileSync(file, Buffer.alloc(4096, 7));
          }
        },
      });
      assert.ok(grown, "the test never saw the hash phase");
      assert.equal(summary.results[0].status, "failed", JSON.stringify(summary.results));
      assert.equal(summary.results[0].error?.code, "E_IO");
      assert.ok(summary.results[0].error!.message.startsWith(`${file}: changed while being imported`), summary.results[0].error!.message);
      assert.doesNotMatch(summary.results[0].error!.message, /staging/);
      assert.deepEqual(modelFolders(root), []);
      assert.deepEqual(stagingLeft(root), []);
      assert.ok(existsSync(file));
    });
  });
}
