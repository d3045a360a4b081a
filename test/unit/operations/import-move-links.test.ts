// `import --mode move` of a symbolic link (the user's own, or a Hugging Face snapshot's file: a link into blobs/):
// the link is removed, the file it points to is never deleted (the user did not name it; a blob may serve other
// revisions). It used to say nothing, so a user who moved a 15 GB model out of the HF cache believed the space
// was freed. The result now says what was left, where, and what space it holds: none twice when the library's
// file is a hard link to it, its whole size beside the library's copy across filesystems.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, lstatSync, mkdirSync, readdirSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { otherFilesystemDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { withTempLibrary } from "../../helpers/operations.js";

test.after(() => closeHashWorkers());

test("move of a symbolic link: the link goes, its target stays (the library's file, hard-linked), and the result says so", () =>
  withTempLibrary(async (lib, src) => {
    const real = writeGgufModel(join(src, "data", "real.gguf"), "Real", 2);
    const link = join(src, "models", "link.gguf");
    mkdirSync(join(src, "models"));
    symlinkSync(real, link);
    const { results } = await importModels(lib, { paths: [link], mode: "move" });
    const r = results[0];
    assert.equal(r.status, "imported", r.error?.message);
    assert.equal(lstatOrNull(link), null, "the link the user named is gone");
    assert.ok(existsSync(real), "the file it pointed to is never deleted");
    assert.deepEqual(readdirSync(r.path!).filter((n) => n.endsWith(".gguf")), ["link.gguf"], "stored under the name the user gave");
    assert.equal(statSync(join(r.path!, "link.gguf")).ino, statSync(real).ino, "one copy of the data: a hard link");
    const w = r.warnings.find((x) => x.includes("symbolic link"));
    assert.ok(w, JSON.stringify(r.warnings));
    assert.ok(w.startsWith(`${link} was a symbolic link to ${real}: the link was removed, the file it points to is left where it is;`), w);
    assert.match(w, /9\.\d KiB is the library's own file under another name \(a hard link\): no space is held twice; delete it yourself if nothing else uses it$/);
  }));

test("move of a Hugging Face snapshot: its links go, the blobs stay, and the result names them as cache blobs", () =>
  withTempLibrary(async (lib, src) => {
    const repo = join(src, "hub", "models--acme--tiny");
    const blob = join(repo, "blobs", "0123abcd");
    mkdirSync(join(repo, "blobs"), { recursive: true });
    mkdirSync(join(repo, "snapshots", "abc123"), { recursive: true });
    mkdirSync(join(repo, "refs"));
    writeFileSync(join(repo, "refs", "main"), "abc123");
    writeFileSync(blob, buildTinyLlamaGguf({ name: "Hub tiny" }));
    symlinkSync(join("..", "..", "blobs", "0123abcd"), join(repo, "snapshots", "abc123", "tiny.gguf"));
    const { results } = await importModels(lib, { paths: [repo], mode: "move" });
    const r = results[0];
    assert.equal(r.status, "imported", r.error?.message);
    assert.equal(lstatOrNull(join(repo, "snapshots", "abc123", "tiny.gguf")), null);
    assert.ok(existsSync(blob));
    const w = r.warnings.find((x) => x.includes("symbolic link"));
    assert.ok(w, JSON.stringify(r.warnings));
    assert.match(w, /to .*blobs\/0123abcd: the link was removed/);
    assert.match(w, /it is a Hugging Face cache blob: `huggingface-cli delete-cache` removes it with the rest of that repo's cache$/);
  }));

test("move of a symbolic link to another filesystem: the library holds a copy, and the space still held is said", (t) =>
  withTempLibrary(async (lib, src) => {
    const other = otherFilesystemDir(t, "mlib-movelink-", lib.root);
    if (!other) return;
    try {
      const real = writeGgufModel(join(other.dir, "real.gguf"), "Far", 3);
      const link = join(src, "far.gguf");
      mkdirSync(src, { recursive: true });
      symlinkSync(real, link);
      const { results } = await importModels(lib, { paths: [link], mode: "move" });
      const r = results[0];
      assert.equal(r.status, "imported", r.error?.message);
      assert.equal(lstatOrNull(link), null);
      assert.ok(existsSync(real));
      const w = r.warnings.find((x) => x.includes("symbolic link"));
      assert.ok(w, JSON.stringify(r.warnings));
      assert.match(w, /9\.\d KiB is still held there beside the library's copy \(another filesystem\): only deleting it frees that space/);
    } finally {
      other.cleanup();
    }
  }));

test("move of a plain file says nothing of links", () =>
  withTempLibrary(async (lib, src) => {
    const file = writeGgufModel(join(src, "plain.gguf"), "Plain", 4);
    const { results } = await importModels(lib, { paths: [file], mode: "move" });
    assert.equal(results[0].status, "imported");
    assert.equal(existsSync(file), false);
    assert.ok(!results[0].warnings.some((w) => w.includes("symbolic link")), JSON.stringify(results[0].warnings));
  }));

function lstatOrNull(p: string) {
  try {
    return lstatSync(p);
  } catch {
    return null;
  }
}
