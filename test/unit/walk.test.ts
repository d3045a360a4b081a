// core/walk.ts, the one directory walker: name order, hidden entries, depth, pruning, unreadable folders, limits.
import { test } from "node:test";
import assert from "node:assert/strict";
import { chmodSync, mkdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibraryError } from "../../src/core/errors.js";
import { listFiles, walkFolders, walkFoldersSync } from "../../src/core/walk.js";
import { tempDir } from "../helpers/library-fixtures.js";

function withTree(fn: (root: string) => Promise<void>): Promise<void> {
  const t = tempDir("mlib-walk-");
  for (const f of ["b.bin", "a/x.bin", "a/deep/y.bin", "a/deep/deeper/z.bin", ".hidden/h.bin", ".dot.bin", "c/model/metadata.json", "c/model/w.bin"]) {
    mkdirSync(join(t.dir, f, ".."), { recursive: true });
    writeFileSync(join(t.dir, f), f);
  }
  symlinkSync(join(t.dir, "b.bin"), join(t.dir, "link.bin"));
  return fn(t.dir).finally(() => t.cleanup());
}

test("listFiles: regular files in name order, sub-folders at their place, hidden and symlinks left out", () =>
  withTree(async (root) => {
    const rels = async (o = {}) => (await listFiles(root, o)).map((f) => f.rel);
    assert.deepEqual(await rels(), ["a/deep/deeper/z.bin", "a/deep/y.bin", "a/x.bin", "b.bin", "c/model/metadata.json", "c/model/w.bin"]);
    assert.deepEqual(await rels({ maxDepth: 1 }), ["a/x.bin", "b.bin"]);
    assert.deepEqual(await rels({ maxDepth: 0 }), ["b.bin"]);
    assert.deepEqual((await rels({ skip: () => false })).slice(0, 2), [".dot.bin", ".hidden/h.bin"]);
    const tooMany = () => new ModelLibraryError("E_TOO_LARGE", "too many");
    await assert.rejects(listFiles(root, { maxFiles: { count: 2, error: tooMany } }), /too many/);
  }));

test("listFiles follows a symlink only when followLink vouches for it, and gives the target's stat", () =>
  withTree(async (root) => {
    symlinkSync(join(root, "a"), join(root, "dirlink"));
    const asked: string[] = [];
    const files = await listFiles(root, {
      maxDepth: 0,
      followLink: (abs) => {
        asked.push(abs);
        return abs.endsWith("link.bin") ? statSync(abs) : null;
      },
    });
    assert.deepEqual(files.map((f) => f.rel), ["b.bin", "link.bin"]);
    assert.equal(files[1].target?.size, "b.bin".length);
    assert.equal(files[0].target, undefined, "a regular file has no target");
    assert.deepEqual(asked.sort(), [join(root, "dirlink"), join(root, "link.bin")]);
  }));

test("walkFolders: pre-order in name order, pruned where the visitor says, bounded in depth", () =>
  withTree(async (root) => {
    const seen: string[] = [];
    await walkFolders(root, ({ rel, entries, depth }) => {
      seen.push(`${depth}:${rel}`);
      return !entries.some((e) => e.name === "metadata.json"); // a model folder: not looked into
    });
    assert.deepEqual(seen, ["0:", "1:a", "2:a/deep", "3:a/deep/deeper", "1:c", "2:c/model"]);
    const shallow: string[] = [];
    await walkFolders(root, ({ rel }) => void shallow.push(rel), { maxDepth: 1 });
    assert.deepEqual(shallow, ["", "a", "c"]);
  }));

test("walkFoldersSync: the same visits as walkFolders; enter keeps a sub-folder from being listed at all", () =>
  withTree(async (root) => {
    const visits = async (sync: boolean, options = {}) => {
      const seen: string[] = [];
      const visit = ({ rel, entries, depth, abs }: { rel: string; entries: { name: string }[]; depth: number; abs: string }) => {
        if (rel) assert.equal(abs, join(root, rel), "children concatenated to the root, trailing slash or not");
        seen.push(`${depth}:${rel}:${entries.map((e) => e.name).join(",")}`);
      };
      if (sync) walkFoldersSync(`${root}/`, visit, options);
      else await walkFolders(root, visit, options);
      return seen;
    };
    assert.deepEqual(await visits(true), await visits(false));
    assert.deepEqual(await visits(true, { maxDepth: 1 }), await visits(false, { maxDepth: 1 }));
    const asked: string[] = [];
    const enter = (abs: string) => (asked.push(abs), !abs.endsWith("model") && !abs.endsWith("deep"));
    const seen = (await visits(true, { enter })).map((v) => v.split(":")[1]);
    assert.deepEqual(seen, ["", "a", "c"], "a/deep and c/model neither listed nor visited");
    assert.deepEqual(asked, ["a", "a/deep", "c", "c/model"].map((r) => join(root, r)));
    // enter is given the child's path from the root, the same in both walks: how the store's walks name a model.
    for (const sync of [true, false]) {
      const rels: string[] = [];
      const enterRel = (_abs: string, _e: unknown, rel: string) => (rels.push(rel), rel !== "c/model");
      const seenRel = (await visits(sync, { enter: enterRel })).map((v) => v.split(":")[1]);
      assert.deepEqual(rels, ["a", "a/deep", "a/deep/deeper", "c", "c/model"]);
      assert.deepEqual(seenRel, ["", "a", "a/deep", "a/deep/deeper", "c"]);
    }
    const c = new AbortController();
    c.abort();
    assert.throws(() => walkFoldersSync(root, () => undefined, { signal: c.signal }), (e: ModelLibraryError) => e.code === "E_CANCELLED");
  }));

test("an unreadable folder is an E_IO naming it, or skipped when asked", { skip: process.getuid?.() === 0 ? "root reads every folder" : false }, () =>
  withTree(async (root) => {
    chmodSync(join(root, "a"), 0o000);
    try {
      await assert.rejects(listFiles(root), (e: ModelLibraryError) => e.code === "E_IO" && e.message.includes(join(root, "a")));
      assert.deepEqual((await listFiles(root, { unreadable: "skip" })).map((f) => f.rel), ["b.bin", "c/model/metadata.json", "c/model/w.bin"]);
    } finally {
      chmodSync(join(root, "a"), 0o755);
    }
  }));

test("onUnreadable: an unreadable sub-folder is reported and the walk goes on; an unreadable root still throws", { skip: process.getuid?.() === 0 ? "root reads every folder" : false }, () =>
  withTree(async (root) => {
    chmodSync(join(root, "a"), 0o000);
    try {
      const reported: string[] = [];
      const onUnreadable = (abs: string, e: ModelLibraryError) => void reported.push(`${e.code} ${abs}`);
      assert.deepEqual((await listFiles(root, { onUnreadable })).map((f) => f.rel), ["b.bin", "c/model/metadata.json", "c/model/w.bin"]);
      assert.deepEqual(reported, [`E_IO ${join(root, "a")}`]);
      const seen: string[] = [];
      await walkFolders(root, ({ rel }) => void seen.push(rel), { onUnreadable });
      assert.deepEqual(seen, ["", "c", "c/model"]);
      await assert.rejects(listFiles(join(root, "a"), { onUnreadable }), (e: ModelLibraryError) => e.code === "E_IO");
    } finally {
      chmodSync(join(root, "a"), 0o755);
    }
  }));

test("a fired signal stops the walk with E_CANCELLED", () =>
  withTree(async (root) => {
    const c = new AbortController();
    await assert.rejects(
      walkFolders(root, ({ rel }) => void (rel === "a" && c.abort()), { signal: c.signal }),
      (e: ModelLibraryError) => e.code === "E_CANCELLED",
    );
  }));
