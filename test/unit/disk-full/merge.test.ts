// A merge across filesystems (copy, verify, delete) into a library on a full disk: the merge stops with E_IO
// "no space left", every source model is whole (the one being copied too), the destination holds no half copy and
// its index agrees with its folders, and the same merge finishes once space is freed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readdirSync, readFileSync, statSync, writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { ModelLibrary, importModels, mergeLibrary } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { isModelLibraryError } from "../../../src/core/errors.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { smallDisk } from "../../helpers/small-disk.js";

/** Every .gguf under dir (hidden folders skipped) → its sha256. */
function weights(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".gguf")) out.set(relative(dir, p), createHash("sha256").update(readFileSync(p)).digest("hex"));
    }
  };
  walk(dir);
  return out;
}

describe("merge into a full disk", () => {
  test.after(() => closeHashWorkers());

  test("across filesystems, the destination fills mid-copy: E_IO, the source whole, the journal finishes later", async (t) => {
    const disk = smallDisk(t, 72); // the merge checks for the bytes + a 64 MiB margin first: filled once it passed
    if (!disk) return;
    const work = tempDir("mlib-merge-full-");
    try {
      const srcRoot = join(work.dir, "src");
      const src = await ModelLibrary.open(srcRoot);
      try {
        for (let i = 0; i < 4; i++) {
          const file = join(work.dir, "files", `m${i}.gguf`);
          mkdirSync(join(work.dir, "files"), { recursive: true });
          writeFileSync(file, buildTinyLlamaGguf({ name: `M${i}`, embeddingLength: 128, blockCount: 2, seed: 10 + i }));
          const [r] = await importModels(src, [file], { name: `m${i}` });
          assert.equal(r.status, "imported");
        }
      } finally {
        src.close();
      }
      const before = weights(srcRoot);
      const each = statSync(join(work.dir, "files", "m0.gguf")).size;
      const destRoot = join(disk.dir, "dest");
      const dest = await ModelLibrary.open(destRoot);
      try {
        let give: (() => void) | null = null;
        const e = await mergeLibrary(dest, { source: srcRoot }, {
          onProgress: (p) => {
            // The first model is merged: leave room for half of the next one's bytes.
            if (p.phase === "move" && !give) give = disk.fill(Math.floor(each / 2));
          },
        }).then(() => null, (x: unknown) => x);
        assert.ok(give, `the disk was filled mid-merge (${String(e)})`);
        assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
        assert.match(e.message, /no space left/);
        assert.match(e.message, /mlib merge .*finishes it/, "says how to finish");
        assert.deepEqual(readdirSync(join(destRoot, ".model-library", "merge-staging"), { recursive: true }).filter((n) => String(n).includes(".gguf")), [], "no half copy left");
        // The source: every model whole, wherever it is (still in src, or verified into dest and deleted).
        const nowSrc = weights(srcRoot);
        const nowDest = new Set(weights(destRoot).values());
        for (const [rel, sha] of before) assert.ok(nowSrc.get(rel) === sha || nowDest.has(sha), `${rel} lost`);
        assert.ok(existsSync(join(destRoot, ".model-library", "merge-journal.json")), "the journal is kept to finish the merge");
        (give as unknown as () => void)();
        const check = await dest.reconcile("full"); // (it records its pass in the index: after the space is back)
        assert.deepEqual([check.added, check.updated, check.removed, check.problems.length], [0, 0, 0, 0], "the index agrees with the folders");
        const done = await mergeLibrary(dest, { source: srcRoot });
        assert.equal(done.resumed, true);
        assert.deepEqual([...weights(destRoot).values()].sort(), [...before.values()].sort(), "every model in the destination, once");
        assert.equal(weights(srcRoot).size, 0, "the source emptied");
        assert.ok(!existsSync(join(destRoot, ".model-library", "merge-journal.json")));
        assert.equal(dest.count(), 4);
      } finally {
        dest.close();
      }
    } finally {
      work.cleanup();
      disk.cleanup();
    }
  });
});

describe("merge on a full disk, one filesystem", () => {
  test.after(() => closeHashWorkers());

  test("no room for the journal: E_IO naming it, nothing moved, no temp file left; done once space is freed", async (t) => {
    const disk = smallDisk(t, 8);
    if (!disk) return;
    try {
      const srcRoot = join(disk.dir, "src");
      const src = await ModelLibrary.open(srcRoot);
      try {
        for (let i = 0; i < 2; i++) {
          const file = join(disk.dir, "files", `m${i}.gguf`);
          mkdirSync(join(disk.dir, "files"), { recursive: true });
          writeFileSync(file, buildTinyLlamaGguf({ name: `M${i}`, seed: 20 + i }));
          assert.equal((await importModels(src, [file], { name: `m${i}`, mode: "move" }))[0].status, "imported");
        }
      } finally {
        src.close();
      }
      const before = weights(srcRoot);
      const destRoot = join(disk.dir, "dest");
      const dest = await ModelLibrary.open(destRoot);
      try {
        const give = disk.fill(4096); // the merge lock's page, nothing more
        const e = await mergeLibrary(dest, { source: srcRoot }).then(() => null, (x: unknown) => x);
        assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
        assert.match(e.message, /merge-journal/);
        assert.match(e.message, /no space left/);
        assert.deepEqual(weights(srcRoot), before, "nothing moved");
        const state = readdirSync(join(destRoot, ".model-library"));
        assert.deepEqual(state.filter((n) => n.endsWith(".tmp")), [], `no temp file left: ${state.join(", ")}`);
        give();
        await mergeLibrary(dest, { source: srcRoot });
        assert.equal(dest.count(), 2);
      } finally {
        dest.close();
      }
    } finally {
      disk.cleanup();
    }
  });
});
