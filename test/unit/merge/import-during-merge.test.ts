// `mlib import` into a library while `mlib merge SRC` runs into it (two processes), the import's file being
// one of the source's models. The merge moves models under the commit lock, but wrote their index rows later
// (a big merge: in its writer thread, one transaction committed only at its end): an import that got the commit
// lock between did not see the moved model in the index, stored the same content a second time (`x_2`), and
// then waited 30 s on the writer's open transaction to index it. Made to happen every time: the merge is
// stopped (its own progress event, in a child process) right after a hold of the commit lock ends.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { availableParallelism } from "node:os";
import * as fs from "node:fs";
import { join } from "node:path";
import { createHash } from "node:crypto";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { blankMetadata, serializeMetadata } from "../../../src/store/metadata.js";
import { importModels } from "../../../src/operations/import-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { runCli } from "../../helpers/cli.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

const TSX = import.meta.resolve("tsx");
const MERGE_CHILD = new URL("../../helpers/merge-child.ts", import.meta.url).pathname;
// Enough for the merge's writer thread (merge-library.ts WRITER_THREAD_MIN).
const BULK = 2050;

function writeBulk(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const dir = join(root, "llm", `fam${i % 20}`, `m${i}`);
    fs.mkdirSync(dir, { recursive: true });
    const bytes = Buffer.alloc(32, i & 0xff);
    bytes.writeUInt32LE(i, 0);
    fs.writeFileSync(join(dir, "model.gguf"), bytes);
    const sha = createHash("sha256").update(bytes).digest("hex");
    const m = blankMetadata();
    m.official_name = `Bulk model ${i}`;
    m.model_type = "llm";
    m.family = `fam${i % 20}`;
    m.format = "gguf";
    m.files = [{ name: "model.gguf", original_name: "model.gguf", size: bytes.length, sha256: sha, blake3: null }];
    m.hashes = { sha256: sha, blake3: null };
    fs.writeFileSync(join(dir, "metadata.json"), JSON.stringify(serializeMetadata(m)));
  }
}

test("mlib import of a model a running merge has just moved in: a duplicate, not stored twice, no wait", { timeout: 90_000 }, async (t) => {
  if (availableParallelism() < 2) {
    t.skip("one core: the merge writes its rows on its own thread, inside the hold (no writer thread to race)");
    return;
  }
  const { dir, cleanup } = tempDir("mlib-import-merge-");
  const src = join(dir, "src");
  const dest = join(dir, "dest");
  const file = writeGgufModel(join(dir, "files", "special.gguf"), "Special Llama", 7);
  let merge: ReturnType<typeof spawn> | null = null;
  try {
    const s = await ModelLibrary.open(src);
    const [imported] = await importModels(s, [file]);
    s.close();
    await closeHashWorkers();
    assert.equal(imported.status, "imported");
    writeBulk(src, BULK);
    (await ModelLibrary.open(dest)).close();

    // The merge stops dead at its "index" event: every model moved, the commit lock let go.
    merge = spawn(process.execPath, ["--import", TSX, MERGE_CHILD, dest, src, "index", "*"], { stdio: ["ignore", "pipe", "pipe"] });
    let err = "";
    merge.stderr!.on("data", (d) => (err += d));
    await new Promise<void>((resolve, reject) => {
      merge!.stdout!.on("data", (d: Buffer) => String(d).includes("STOP") && resolve());
      merge!.on("close", (code) => reject(new Error(`merge child ended (${code}) before its index event: ${err}`)));
    });
    assert.ok(fs.existsSync(join(dest, imported.modelId!, "metadata.json")), "moved into the library");

    const started = Date.now();
    const r = await runCli(["import", file, "--json", "--library", dest], { timeoutMs: 60_000 });
    const took = Date.now() - started;
    assert.equal(r.code, 0, r.stderr);
    const result = JSON.parse(r.stdout).results[0];
    assert.equal(result.status, "duplicate", `stored twice: ${JSON.stringify(result)}`);
    assert.equal(result.duplicateOf, imported.modelId);
    assert.ok(took < 20_000, `the import waited ${took} ms`);
  } finally {
    merge?.kill("SIGKILL");
    cleanup();
  }
});
