// Merges big enough (2,000+ models) to write their index rows in the writer thread, and gatherSource's reading.
// The count is the point: a merge of fewer than 2,000 models (WRITER_THREAD_MIN, merge-library.ts) writes its rows
// on the main thread, and the cancel and kill -9 tests must stop with rows in that thread. The libraries live
// in memory (memoryTempDir): writing and removing 2,100 model folders on the disk took most of these tests' time.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { blankMetadata, serializeMetadata } from "../../../src/store/metadata.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { gatherSource } from "../../../src/merge/gather-source.js";
import { memoryTempDir, tempDir } from "../../helpers/library-fixtures.js";
import { runMergeUntilStopThenKill } from "../../helpers/merge-kill.js";

const MODELS = 2100;

/** n model folders `llm/fam<k>/m<i>` with one small weight file each, hashed in metadata.json as an import would. */
function writeModels(root: string, n: number): void {
  for (let i = 0; i < n; i++) {
    const dir = path.join(root, "llm", `fam${i % 20}`, `m${i}`);
    fs.mkdirSync(dir, { recursive: true });
    const bytes = Buffer.alloc(32, i & 0xff);
    bytes.writeUInt32LE(i, 0);
    fs.writeFileSync(path.join(dir, "model.gguf"), bytes);
    const sha = createHash("sha256").update(bytes).digest("hex");
    const m = blankMetadata();
    m.official_name = `Bulk model ${i}`;
    m.model_type = "llm";
    m.family = `fam${i % 20}`;
    m.security_tier = "safe";
    m.format = "gguf";
    m.files = [{ name: "model.gguf", original_name: "model.gguf", size: bytes.length, sha256: sha, blake3: null }];
    m.hashes = { sha256: sha, blake3: null };
    fs.writeFileSync(path.join(dir, "metadata.json"), JSON.stringify(serializeMetadata(m)));
  }
}

async function checkAllMerged(destRoot: string, srcRoot: string): Promise<void> {
  const lib = await ModelLibrary.open(destRoot);
  try {
    const r = await lib.reconcile("full");
    assert.deepEqual([r.added, r.updated, r.removed, r.problems.length], [0, 0, 0, 0], "index out of step with metadata.json");
    assert.equal(lib.stats().count, MODELS);
    assert.equal(lib.search("bulk").totalCount, MODELS);
    assert.equal(lib.get("llm/fam7/m1007")?.officialName, "Bulk model 1007");
  } finally {
    lib.close();
  }
  assert.deepEqual(fs.readdirSync(srcRoot), [], "every model left the source, the emptied folders too");
  assert.equal(fs.existsSync(path.join(destRoot, ".model-library", "merge-journal.json")), false);
}

describe("mergeLibrary: many models (index rows in the writer thread)", () => {
  test(`${MODELS} models: renamed, every row indexed, the index agrees with the folders`, async () => {
    const t = memoryTempDir("mlib-merge-many-");
    const srcRoot = path.join(t.dir, "src");
    const destRoot = path.join(t.dir, "dest");
    writeModels(srcRoot, MODELS);
    const ino = fs.statSync(path.join(srcRoot, "llm", "fam3", "m3", "model.gguf")).ino;
    try {
      const lib = await ModelLibrary.open(destRoot);
      const r = await mergeLibrary(lib, { source: srcRoot });
      lib.close();
      assert.equal(r.counts.moved, MODELS);
      assert.equal(r.bytesCopied, 0);
      assert.equal(fs.statSync(path.join(destRoot, "llm", "fam3", "m3", "model.gguf")).ino, ino, "renamed, not copied");
      await checkAllMerged(destRoot, srcRoot);
    } finally {
      t.cleanup();
    }
  });

  test("cancelled with rows in the writer thread: they are committed before E_CANCELLED, the next run finishes", async () => {
    const t = memoryTempDir("mlib-merge-many-cancel-");
    const srcRoot = path.join(t.dir, "src");
    const destRoot = path.join(t.dir, "dest");
    writeModels(srcRoot, MODELS);
    try {
      const lib = await ModelLibrary.open(destRoot);
      const ac = new AbortController();
      await assert.rejects(
        mergeLibrary(lib, { source: srcRoot }, { signal: ac.signal, onProgress: (e) => { if (e.phase === "move" && e.done === 1300) ac.abort(); } }),
        (e: Error & { code?: string }) => e.code === "E_CANCELLED" && /stopped after 1300 of 2100/.test(e.message),
      );
      // Read at once, on the library's own connection: every model moved so far is already in the index.
      assert.equal(lib.stats().count, 1300);
      const r1 = await lib.reconcile("full");
      assert.deepEqual([r1.added, r1.removed], [0, 0], "the index disagrees with the folders after the cancel");
      const r = await mergeLibrary(lib, { source: srcRoot });
      lib.close();
      assert.equal(r.resumed, true);
      await checkAllMerged(destRoot, srcRoot);
    } finally {
      t.cleanup();
    }
  });

  test("kill -9 while the writer thread has rows in flight: the same merge finishes, the index agrees", async () => {
    const t = memoryTempDir("mlib-merge-many-kill-");
    const srcRoot = path.join(t.dir, "src");
    const destRoot = path.join(t.dir, "dest");
    writeModels(srcRoot, MODELS);
    try {
      // Stopped dead at the 1,600th move: the thread has been sent rows of the models before it meanwhile.
      await runMergeUntilStopThenKill([destRoot, srcRoot, "move", "1600"]);
      assert.ok(fs.existsSync(path.join(destRoot, ".model-library", "merge-journal.json")), "journal kept by the killed run");
      const lib = await ModelLibrary.open(destRoot);
      const r = await mergeLibrary(lib, { source: srcRoot });
      lib.close();
      assert.equal(r.resumed, true);
      assert.equal(r.counts.moved, MODELS);
      await checkAllMerged(destRoot, srcRoot);
    } finally {
      t.cleanup();
    }
  });
});

describe("gatherSource", () => {
  test("reads every metadata.json whole, reports the broken ones, walks a folder named metadata.json", async () => {
    const t = tempDir("mlib-gather-");
    try {
      const put = (rel: string, text: string) => {
        fs.mkdirSync(path.join(t.dir, path.dirname(rel)), { recursive: true });
        fs.writeFileSync(path.join(t.dir, rel), text);
      };
      const big = { official_name: "Big", notes: "x".repeat(200_000) };
      put("llm/a/big/metadata.json", JSON.stringify(big));
      put("llm/a/small/metadata.json", JSON.stringify({ official_name: "Small" }));
      put("llm/a/empty/metadata.json", "");
      put("llm/a/cut/metadata.json", '{"official_name": "Cu');
      put("llm/odd/metadata.json/inner/metadata.json", JSON.stringify({ official_name: "Inner" }));
      const got = await gatherSource(t.dir);
      assert.deepEqual(
        got.map((m) => m.rel),
        ["llm/a/big", "llm/a/cut", "llm/a/empty", "llm/a/small", "llm/odd/metadata.json/inner"],
      );
      const by = new Map(got.map((m) => [m.rel, m]));
      assert.deepEqual(by.get("llm/a/big")!.parsed, big);
      assert.equal(by.get("llm/a/big")!.metaSize, JSON.stringify(big).length);
      assert.equal(by.get("llm/a/small")!.error, null);
      assert.match(by.get("llm/a/empty")!.error!, /metadata\.json: not valid JSON/);
      assert.match(by.get("llm/a/cut")!.error!, /not valid JSON/);
      assert.equal((by.get("llm/odd/metadata.json/inner")!.parsed as { official_name: string }).official_name, "Inner");
    } finally {
      t.cleanup();
    }
  });
});
