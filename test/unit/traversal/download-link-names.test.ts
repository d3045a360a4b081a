// A download links content the library already holds (same SHA-256) instead of fetching it, at the file name the
// holding model's metadata.json lists. An edited or hostile one naming "../../x" with that hash made the download
// hard-link a file from outside the library into the new model, unread and unverified.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { importModels } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { openHubWorld } from "../../helpers/hub-world.js";
import { writeGgufModel } from "../../helpers/library-fixtures.js";

test.after(() => closeHashWorkers());

test("a download never links a file from outside the library that a metadata.json name points at", async () => {
  const content = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 15, contextLength: 4096, seed: 1 });
  const world = await openHubWorld({ repos: [{ id: "acme/tiny", files: [{ path: "tiny-Q4_K_M.gguf", content }] }] }, "mlib-trav-dl-");
  try {
    const { lib, client, dir } = world;
    const summary = await importModels(lib, { paths: [writeGgufModel(join(dir, "src", "m.gguf"), "M", 1)] });
    const id = summary.results[0].modelId!;
    // Outside the library: a file of the same size, other bytes; the metadata.json claims it holds the Hub file's hash.
    const outside = join(dir, "outside.gguf");
    const other = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 15, contextLength: 4096, seed: 2 });
    assert.equal(other.length, content.length);
    writeFileSync(outside, other);
    const hostile = "../".repeat(id.split("/").length + 1) + "outside.gguf";
    const sha256 = createHash("sha256").update(content).digest("hex");
    await lib.updateMetadata(id, (m) => {
      m.files!.push({ name: hostile, size: content.length, sha256, blake3: "b".repeat(64) } as never);
    });
    assert.equal(lib.findByHash(sha256)?.id, id, "the index knows the claimed hash");

    const r = await downloadModel(lib, { repoId: "acme/tiny", files: ["tiny-Q4_K_M.gguf"], client, retry: { attempts: 2, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000, controlPollMs: 50 });
    assert.equal(r.status, "completed");
    assert.notEqual(r.files[0].how, "linked");
    assert.deepEqual(readFileSync(join(lib.modelDir(r.modelId!), "tiny-Q4_K_M.gguf")), content, "the model holds the Hub's bytes");
  } finally {
    await world.close();
  }
});
