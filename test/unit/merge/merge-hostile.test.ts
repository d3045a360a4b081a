// Merges from odd or hostile sources: the library itself reached another way, and the like. Each case checks
// that nothing of the library (or outside the source) is removed or read, and that the user is told why.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { MAX_METADATA_BYTES } from "../../../src/store/record.js";
import { acquireLock, releaseLock } from "../../../src/core/lock.js";
import { otherFilesystemDir, tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { runCli } from "../../helpers/cli.js";

async function importAs(lib: ModelLibrary, file: string, name: string): Promise<string> {
  const [r] = await importModels(lib, [file], { name });
  assert.equal(r.status, "imported", r.error?.message);
  return r.modelId!;
}

test("a symlink to the library, or into it, is refused as the library itself: none of its models is removed", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const destRoot = path.join(t.dir, "dest");
  const dest = await ModelLibrary.open(destRoot);
  try {
    const id = await importAs(dest, writeGgufModel(path.join(t.dir, "f", "a.gguf"), "Alpha", 1), "alpha");
    const weight = path.join(dest.modelDir(id), "a.gguf");
    fs.symlinkSync(destRoot, path.join(t.dir, "to-dest"));
    fs.symlinkSync(path.join(destRoot, "llm"), path.join(t.dir, "to-llm"));
    for (const source of [path.join(t.dir, "to-dest"), path.join(t.dir, "to-llm"), path.join(t.dir, "to-dest", "llm")]) {
      await assert.rejects(mergeLibrary(dest, { source }), (e: Error & { code?: string }) => e.code === "E_USAGE" && /into itself/.test(e.message), source);
      assert.ok(fs.existsSync(weight), `merging ${source} removed the library's own model`);
    }
    // The library opened through a symlink, the source given by its real path.
    const viaLink = await ModelLibrary.open(path.join(t.dir, "to-dest"));
    try {
      await assert.rejects(mergeLibrary(viaLink, { source: destRoot }), /into itself/);
    } finally {
      viaLink.close();
    }
    const cli = await runCli(["merge", path.join(t.dir, "to-dest"), "--library", destRoot]);
    assert.notEqual(cli.code, 0, cli.stdout);
    assert.match(cli.stderr, /into itself/);
    assert.ok(fs.existsSync(weight));
    assert.deepEqual(dest.allIds(), [id]);
  } finally {
    dest.close();
    t.cleanup();
  }
});

test("across filesystems, a model that cannot be copied as it is (a named pipe in it) is left and reported; the rest is merged", async (t) => {
  const work = tempDir("mlib-merge-hostile-");
  const other = otherFilesystemDir(t, "mlib-merge-hostile-", work.dir);
  if (!other) return work.cleanup();
  const shm = other.dir;
  try {
    const destRoot = path.join(work.dir, "dest");
    const srcRoot = path.join(shm, "src");
    (await ModelLibrary.open(destRoot)).close();
    const src = await ModelLibrary.open(srcRoot);
    const ids: string[] = [];
    for (const [k, n] of ["a", "b", "c"].entries()) ids.push(await importAs(src, writeGgufModel(path.join(shm, "f", `${n}.gguf`), n, 40 + k), n));
    src.close();
    fs.writeFileSync(path.join(shm, "notes.txt"), "outside the source library");
    // (A link is re-made in the copy where it stays valid, and left by the plan where not: merge-symlinks.test.ts.)
    execFileSync("mkfifo", [path.join(srcRoot, ...ids[1].split("/"), "README.txt")]);

    const first = await runCli(["merge", srcRoot, "--json", "--library", destRoot]);
    assert.equal(first.code, 1, `${first.stdout}\n${first.stderr}`); // something is left in the source
    const r = JSON.parse(first.stdout) as { results: { source: string; outcome: string; reason: string | null }[] };
    assert.deepEqual(r.results.map((x) => [x.source, x.outcome]), [[ids[0], "moved"], [ids[1], "left"], [ids[2], "moved"]]);
    assert.match(r.results[1].reason!, /README\.txt: not a regular file, folder or link/);
    // Left whole in the source, no copy of it in the library or in the merge's staging, and the merge is over.
    assert.ok(fs.lstatSync(path.join(srcRoot, ...ids[1].split("/"), "README.txt")).isFIFO());
    assert.ok(fs.existsSync(path.join(srcRoot, ...ids[1].split("/"), "b.gguf")));
    assert.equal(fs.existsSync(path.join(destRoot, ...ids[1].split("/"))), false);
    assert.equal(fs.existsSync(path.join(destRoot, ".model-library", "merge-journal.json")), false);
    assert.equal(fs.existsSync(path.join(destRoot, ".model-library", "merge-staging")), false);
    assert.equal(fs.readFileSync(path.join(shm, "notes.txt"), "utf8"), "outside the source library");
    // Another merge is not blocked by it.
    fs.mkdirSync(path.join(work.dir, "other"));
    const other = await runCli(["merge", path.join(work.dir, "other"), "--library", destRoot]);
    assert.equal(other.code, 0, other.stderr);
  } finally {
    work.cleanup();
    other.cleanup();
  }
});

test("a huge metadata.json is not parsed or indexed: the model is left and reported, the others merged", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const dest = await ModelLibrary.open(path.join(t.dir, "dest"));
  try {
    const srcRoot = path.join(t.dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const small = await importAs(src, writeGgufModel(path.join(t.dir, "f", "s.gguf"), "Small", 51), "small");
    const huge = await importAs(src, writeGgufModel(path.join(t.dir, "f", "h.gguf"), "Huge", 52), "huge");
    src.close();
    const metaFile = path.join(srcRoot, ...huge.split("/"), "metadata.json");
    const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as Record<string, unknown>;
    meta.tags = Array.from({ length: (MAX_METADATA_BYTES / 8) | 0 }, (_, i) => `t${i}`); // past the limit
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    const before = fs.readFileSync(metaFile);

    const r = await mergeLibrary(dest, { source: srcRoot });
    assert.deepEqual(r.results.map((x) => [x.source, x.outcome]), [[huge, "left"], [small, "moved"]]);
    assert.match(r.results[0].reason!, /too big/);
    assert.deepEqual(dest.allIds(), [small]);
    assert.ok(before.equals(fs.readFileSync(metaFile)), "the huge metadata.json was changed");
  } finally {
    dest.close();
    t.cleanup();
  }
});

test("a merge from another source while one is running is told that one is running (not to go and finish it)", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const destRoot = path.join(t.dir, "dest");
  const dest = await ModelLibrary.open(destRoot);
  const state = path.join(destRoot, ".model-library");
  try {
    fs.mkdirSync(path.join(t.dir, "b"));
    // A merge from A under way: its journal written, its lock held (by this process, as `mlib merge A` holds it).
    fs.mkdirSync(state, { recursive: true });
    fs.writeFileSync(path.join(state, "merge-journal.json"), JSON.stringify({ version: 1, source: path.join(t.dir, "a"), startedAt: "", allowPickle: false, plan: [] }));
    const holder = await acquireLock(path.join(state, "merge.lock"), { timeoutMs: 0 });
    try {
      await assert.rejects(mergeLibrary(dest, { source: path.join(t.dir, "b") }), (e: Error & { code?: string }) =>
        e.code === "E_LOCKED" && /a merge from .*\/a into .* is running/.test(e.message));
    } finally {
      await releaseLock(path.join(state, "merge.lock"), holder);
    }
    // Stopped (nobody holds the lock): finishing it first is the way on.
    await assert.rejects(mergeLibrary(dest, { source: path.join(t.dir, "b") }), (e: Error & { code?: string }) => e.code === "E_EXISTS" && /mlib merge .*\/a/.test(e.message));
    assert.equal(fs.existsSync(path.join(state, "merge.lock")), false);
  } finally {
    dest.close();
    t.cleanup();
  }
});

test("a copy across filesystems does not hold the library's commit lock: an edit meanwhile is not kept waiting for it", async (t) => {
  const work = tempDir("mlib-merge-hostile-");
  const other = otherFilesystemDir(t, "mlib-merge-hostile-", work.dir);
  if (!other) return work.cleanup();
  const shm = other.dir;
  const dest = await ModelLibrary.open(path.join(work.dir, "dest"));
  try {
    const other = await importAs(dest, writeGgufModel(path.join(work.dir, "f", "o.gguf"), "Other", 61), "other");
    const srcRoot = path.join(shm, "src");
    const src = await ModelLibrary.open(srcRoot);
    // Sparse files (no memory taken on the tmpfs): copying and re-hashing them takes the merge a second or more.
    const big = writeGgufModel(path.join(shm, "f", "big.gguf"), "Big", 62);
    fs.truncateSync(big, 48 * 1024 * 1024);
    const id = await importAs(src, big, "big");
    src.close();
    fs.writeFileSync(path.join(srcRoot, ...id.split("/"), "zz-extra.bin"), "");
    fs.truncateSync(path.join(srcRoot, ...id.split("/"), "zz-extra.bin"), 96 * 1024 * 1024);

    const copyEvents: number[] = [];
    let edit: Promise<number> | null = null;
    const merged = mergeLibrary(dest, { source: srcRoot }, {
      onProgress: (e) => {
        if (e.phase !== "copy") return;
        copyEvents.push(Date.now());
        // The first file is copied: an edit of another model now (as `mlib tag`, the web server, an import's commit).
        edit ??= dest.updateMetadata(other, (m) => { m.notes = "edited during the merge"; }).then(() => Date.now());
      },
    });
    const r = await merged;
    assert.deepEqual(r.results.map((x) => x.outcome), ["moved"]);
    assert.ok(edit, "no copy progress seen");
    const editDone = await edit;
    assert.ok(editDone < copyEvents[copyEvents.length - 1], `the edit waited for the copy to end (${copyEvents.length} copy events, the last ${copyEvents[copyEvents.length - 1] - editDone} ms before the edit was done)`);
    assert.equal((await dest.getMetadata(other)).notes, "edited during the merge");
    const rec = await dest.reconcile("full");
    assert.deepEqual([rec.added, rec.updated, rec.removed], [0, 0, 0]);
  } finally {
    dest.close();
    work.cleanup();
    other.cleanup();
  }
});

/** Flips one byte in the middle of a file: same size and mtime kept, different content (bit rot, a bad copy). */
function corruptInPlace(file: string): void {
  const st = fs.statSync(file);
  const fd = fs.openSync(file, "r+");
  const b = Buffer.alloc(1);
  const at = Math.floor(st.size / 2);
  fs.readSync(fd, b, 0, 1, at);
  b[0] ^= 0xff;
  fs.writeSync(fd, b, 0, 1, at);
  fs.closeSync(fd);
  fs.utimesSync(file, st.atime, st.mtime);
}

test("a duplicate's source copy is removed only when the library's copy still has those bytes (not just those recorded hashes)", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const dest = await ModelLibrary.open(path.join(t.dir, "dest"));
  try {
    const good = (n: number) => writeGgufModel(path.join(t.dir, "f", `g${n}.gguf`), "Good", 70 + n);
    // In the library: a model whose file rotted since it was hashed.
    const rotted = await importAs(dest, good(1), "rotted here");
    corruptInPlace(path.join(dest.modelDir(rotted), "g1.gguf"));
    const srcRoot = path.join(t.dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    // In the source: a healthy copy of it; and a pair of the same content, the first of which rotted.
    const healthy = await importAs(src, path.join(t.dir, "f", "g1.gguf"), "healthy copy");
    const [pairA] = await importModels(src, [good(2)], { name: "pair a" });
    const [pairB] = await importModels(src, [path.join(t.dir, "f", "g2.gguf")], { name: "pair b", allowDuplicate: true });
    src.close();
    corruptInPlace(path.join(srcRoot, ...pairA.modelId!.split("/"), "g2.gguf"));
    const goodHashes = [1, 2].map((n) => createHash("sha256").update(fs.readFileSync(path.join(t.dir, "f", `g${n}.gguf`))).digest("hex"));

    const r = await mergeLibrary(dest, { source: srcRoot });
    const outcome = new Map(r.results.map((x) => [x.source, x]));
    assert.equal(outcome.get(healthy)!.outcome, "left", "the healthy copy was removed as a duplicate of a rotted one");
    assert.match(outcome.get(healthy)!.reason!, /does not match|no longer/);
    assert.equal(outcome.get(pairB.modelId!)!.outcome, "left");
    // Every good content is still somewhere.
    const everywhere: string[] = [];
    for (const root of [path.join(t.dir, "dest"), srcRoot]) {
      const walk = (d: string) => {
        for (const e of fs.readdirSync(d, { withFileTypes: true })) {
          if (e.name.startsWith(".")) continue;
          if (e.isDirectory()) walk(path.join(d, e.name));
          else if (e.name.endsWith(".gguf")) everywhere.push(createHash("sha256").update(fs.readFileSync(path.join(d, e.name))).digest("hex"));
        }
      };
      walk(root);
    }
    for (const h of goodHashes) assert.ok(everywhere.includes(h), `content ${h} lost`);
  } finally {
    dest.close();
    t.cleanup();
  }
});

/** Every entry under dir, hidden ones too: path → size, mtime and content hash (folders: their mtime). */
function snapshot(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      const st = fs.lstatSync(p);
      if (e.isDirectory()) {
        out.set(`${r}/`, String(st.mtimeMs));
        walk(p, r);
      } else {
        out.set(r, `${st.size} ${st.mtimeMs} ${e.isFile() ? createHash("sha256").update(fs.readFileSync(p)).digest("hex") : "link"}`);
      }
    }
  };
  walk(dir, "");
  return out;
}

test("mlib merge SRC --dry-run --json writes nothing in SRC, nor in the library's models (no journal, lock, trash or index in SRC)", async () => {
  const t = tempDir("mlib-merge-hostile-");
  try {
    const destRoot = path.join(t.dir, "dest");
    const srcRoot = path.join(t.dir, "src");
    for (const [root, seeds] of [[destRoot, [1, 2]], [srcRoot, [1, 3, 4]]] as const) {
      const lib = await ModelLibrary.open(root);
      for (const s of seeds) await importAs(lib, writeGgufModel(path.join(t.dir, "f", `${path.basename(root)}-${s}.gguf`), `M${s}`, 90 + s), `m${s}`);
      lib.close();
    }
    const srcBefore = snapshot(srcRoot);
    const destBefore = [...snapshot(destRoot)].filter(([k]) => !k.startsWith(".model-library"));
    const r = await runCli(["merge", srcRoot, "--dry-run", "--json", "--library", destRoot]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout) as { dryRun: boolean; plan: { action: string }[] };
    assert.equal(plan.dryRun, true);
    assert.deepEqual(plan.plan.map((p) => p.action).sort(), ["duplicate", "move", "move"]);
    assert.deepEqual(snapshot(srcRoot), srcBefore);
    assert.deepEqual([...snapshot(destRoot)].filter(([k]) => !k.startsWith(".model-library")), destBefore);
    for (const f of ["merge-journal.json", "merge-journal.log", "merge-staging", "merge.lock"]) assert.equal(fs.existsSync(path.join(destRoot, ".model-library", f)), false, f);
  } finally {
    t.cleanup();
  }
});

test("a library model whose file is a symlink to the source's copy (deduplicated by hand) is no duplicate to remove the source for", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const destRoot = path.join(t.dir, "dest");
  const dest = await ModelLibrary.open(destRoot);
  try {
    const file = writeGgufModel(path.join(t.dir, "f", "same.gguf"), "Same", 95);
    const want = createHash("sha256").update(fs.readFileSync(file)).digest("hex");
    const inDest = await importAs(dest, file, "same");
    const srcRoot = path.join(t.dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const inSrc = await importAs(src, file, "same in src");
    src.close();
    // As `jdupes -l` or `rdfind -makesymlinks` leave it: the library's file replaced by a link to the source's.
    const destFile = path.join(dest.modelDir(inDest), "same.gguf");
    fs.rmSync(destFile);
    fs.symlinkSync(path.join(srcRoot, ...inSrc.split("/"), "same.gguf"), destFile);

    const r = await mergeLibrary(dest, { source: srcRoot });
    assert.deepEqual(r.results.map((x) => [x.source, x.outcome]), [[inSrc, "left"]]);
    assert.match(r.results[0].reason!, /link/);
    assert.equal(createHash("sha256").update(fs.readFileSync(destFile)).digest("hex"), want, "the content is gone");
  } finally {
    dest.close();
    t.cleanup();
  }
});

test("a metadata.json that is valid JSON but no object (null, [], a string, a number) is an error item: left, reported", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const dest = await ModelLibrary.open(path.join(t.dir, "dest"));
  try {
    const srcRoot = path.join(t.dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const ids: string[] = [];
    for (const [k, n] of ["kept", "n-null", "n-array", "n-string", "n-number"].entries()) ids.push(await importAs(src, writeGgufModel(path.join(t.dir, "f", `${n}.gguf`), n, 100 + k), n));
    src.close();
    for (const [k, text] of ["null", "[]", '"x"', "42"].entries()) fs.writeFileSync(path.join(srcRoot, ...ids[k + 1].split("/"), "metadata.json"), text);
    const r = await mergeLibrary(dest, { source: srcRoot });
    const by = new Map(r.results.map((x) => [x.source, x]));
    assert.equal(by.get(ids[0])!.outcome, "moved");
    for (const id of ids.slice(1)) {
      assert.equal(by.get(id)!.outcome, "left", id);
      assert.match(by.get(id)!.reason!, /not a model's metadata/);
      assert.ok(fs.existsSync(path.join(srcRoot, ...id.split("/"), "metadata.json")));
    }
    assert.deepEqual(dest.allIds(), [ids[0]]);
  } finally {
    dest.close();
    t.cleanup();
  }
});

test("SRC that is one model's folder (not a library) is refused with the command that takes it in; nothing moves", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const dest = await ModelLibrary.open(path.join(t.dir, "dest"));
  try {
    const srcRoot = path.join(t.dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const id = await importAs(src, writeGgufModel(path.join(t.dir, "f", "one.gguf"), "One", 120), "one");
    src.close();
    const modelDir = path.join(srcRoot, ...id.split("/"));
    const before = snapshot(modelDir);
    await assert.rejects(mergeLibrary(dest, { source: modelDir }), (e: Error & { code?: string }) => e.code === "E_USAGE" && /a model folder.*mlib import/.test(e.message));
    assert.deepEqual(snapshot(modelDir), before);
    assert.deepEqual(dest.allIds(), []);
  } finally {
    dest.close();
    t.cleanup();
  }
});

test("a model folder (or a family folder) in SRC that is a symlink to elsewhere is reported as left, not silently skipped; nothing behind it is touched", async () => {
  const t = tempDir("mlib-merge-hostile-");
  const dest = await ModelLibrary.open(path.join(t.dir, "dest"));
  try {
    const srcRoot = path.join(t.dir, "src");
    const src = await ModelLibrary.open(srcRoot);
    const plain = await importAs(src, writeGgufModel(path.join(t.dir, "f", "p.gguf"), "Plain", 130), "plain");
    const linked = await importAs(src, writeGgufModel(path.join(t.dir, "f", "l.gguf"), "Linked", 131), "linked");
    src.close();
    // The model kept elsewhere, a symlink in its place; and a whole family folder linked in.
    const elsewhere = path.join(t.dir, "elsewhere");
    fs.mkdirSync(elsewhere);
    fs.renameSync(path.join(srcRoot, ...linked.split("/")), path.join(elsewhere, "linked"));
    fs.symlinkSync(path.join(elsewhere, "linked"), path.join(srcRoot, ...linked.split("/")));
    fs.mkdirSync(path.join(elsewhere, "fam", "inside"), { recursive: true });
    fs.symlinkSync(path.join(elsewhere, "fam"), path.join(srcRoot, "llm", "otherfam"));
    const before = snapshot(elsewhere);

    const r = await mergeLibrary(dest, { source: srcRoot });
    assert.deepEqual(r.results.map((x) => [x.source, x.outcome]), [[linked, "left"], [plain, "moved"], ["llm/otherfam", "left"]]);
    assert.match(r.results[0].reason!, /symlink to the folder .*elsewhere.*linked/);
    assert.equal(r.counts.left, 2);
    assert.ok(fs.lstatSync(path.join(srcRoot, ...linked.split("/"))).isSymbolicLink());
    assert.deepEqual(snapshot(elsewhere), before);
    assert.deepEqual(dest.allIds(), [plain]);
  } finally {
    dest.close();
    t.cleanup();
  }
});
