// Symlinks inside a source model's folder, as users deduplicate by hand. A rename keeps a link's text, not what it
// led to: a model whose link would break once moved (relative out of its folder, absolute back into it, into
// another part of the source, leading nowhere) is left in the source with the reason, in the dry-run plan too, and
// the file such a link leads to is neither moved nor removed. Links that stay valid move with the model (a rename
// keeps them; a copy across filesystems re-makes them). The library never ends up with a dangling link.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { otherFilesystemDir, tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

async function importAs(lib: ModelLibrary, file: string, name: string): Promise<string> {
  const [r] = await importModels(lib, [file], { name });
  assert.equal(r.status, "imported", r.error?.message);
  return r.modelId!;
}

/** The model file replaced by a link to `target` (the bytes moved there first); `relative` writes the link relative. */
function replaceByLink(file: string, target: string, relative: boolean): void {
  fs.mkdirSync(path.dirname(target), { recursive: true });
  fs.copyFileSync(file, target);
  fs.rmSync(file);
  fs.symlinkSync(relative ? path.relative(path.dirname(file), target) : target, file);
}

/** Every symlink under `root` (own state folder aside) that leads nowhere. */
function danglingLinks(root: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    const p = path.join(e.parentPath, e.name);
    if (e.isSymbolicLink() && !fs.existsSync(p)) out.push(p);
  }
  return out;
}

interface World {
  srcRoot: string;
  destRoot: string;
  outside: string;
  ids: Record<string, string>;
  dirOf: (id: string) => string;
}

/**
 * SRC with one model per kind of link: out (relative to SRC/shared), inner (relative, inside), absin (absolute, into
 * its own folder), abroad (absolute, to a file outside SRC), user + owner (user's link leads into owner's folder),
 * dangling (a link leading nowhere), plain (no link).
 */
async function world(dir: string, srcSide: string): Promise<World> {
  const destRoot = path.join(dir, "dest");
  const srcRoot = path.join(srcSide, "src");
  const outside = path.join(dir, "outside");
  (await ModelLibrary.open(destRoot)).close();
  const src = await ModelLibrary.open(srcRoot);
  const ids: Record<string, string> = {};
  for (const [k, n] of ["out", "inner", "absin", "abroad", "user", "owner", "dangling", "plain"].entries()) {
    ids[n] = await importAs(src, writeGgufModel(path.join(dir, "in", `${n}.gguf`), n, 70 + k), n);
  }
  src.close();
  const dirOf = (id: string) => path.join(srcRoot, ...id.split("/"));
  const file = (n: string) => path.join(dirOf(ids[n]), `${n}.gguf`);
  replaceByLink(file("out"), path.join(srcRoot, "shared", "out.gguf"), true);
  fs.symlinkSync("inner.gguf", path.join(dirOf(ids.inner), "alias.gguf"));
  fs.symlinkSync(file("absin"), path.join(dirOf(ids.absin), "alias.gguf"));
  replaceByLink(file("abroad"), path.join(outside, "abroad.gguf"), false);
  fs.symlinkSync(path.relative(dirOf(ids.user), file("owner")), path.join(dirOf(ids.user), "extra.gguf"));
  fs.symlinkSync("gone.gguf", path.join(dirOf(ids.dangling), "alias.gguf"));
  return { srcRoot, destRoot, outside, ids, dirOf };
}

function checkOutcome(w: World, r: Awaited<ReturnType<typeof mergeLibrary>>, moved: string[]): void {
  const outcome = Object.fromEntries(r.results.map((x) => [x.source, x]));
  const name = Object.fromEntries(Object.entries(w.ids).map(([n, id]) => [id, n]));
  assert.deepEqual(
    Object.fromEntries(r.results.map((x) => [name[x.source], x.outcome])),
    Object.fromEntries(Object.keys(w.ids).map((n) => [n, moved.includes(n) ? "moved" : "left"])),
    JSON.stringify(r.results, null, 1),
  );
  assert.match(outcome[w.ids.out].reason!, /link to .*shared.*out\.gguf outside its folder/);
  assert.match(outcome[w.ids.absin].reason!, /into its own folder/);
  assert.match(outcome[w.ids.user].reason!, /link to .*owner\.gguf outside its folder/);
  assert.match(outcome[w.ids.owner].reason!, /holds .*owner\.gguf, which .*extra\.gguf .*points at/);
  assert.match(outcome[w.ids.dangling].reason!, /leads nowhere/);
  // What was left is whole in the source, every link there still leading to its bytes; the targets untouched.
  for (const n of Object.keys(w.ids).filter((n) => !moved.includes(n))) assert.ok(fs.existsSync(w.dirOf(w.ids[n])), n);
  assert.deepEqual(danglingLinks(w.srcRoot), [path.join(w.dirOf(w.ids.dangling), "alias.gguf")]);
  assert.ok(fs.statSync(path.join(w.srcRoot, "shared", "out.gguf")).isFile());
  assert.ok(fs.statSync(path.join(w.outside, "abroad.gguf")).isFile());
  // In the library: the moved ones, their links leading to their bytes; no dangling link anywhere.
  assert.deepEqual(danglingLinks(w.destRoot), []);
  const dest = (n: string, f: string) => path.join(w.destRoot, ...w.ids[n].split("/"), f);
  assert.equal(fs.readlinkSync(dest("inner", "alias.gguf")), "inner.gguf");
  assert.deepEqual(fs.readFileSync(dest("inner", "alias.gguf")), fs.readFileSync(dest("inner", "inner.gguf")));
  assert.equal(fs.readlinkSync(dest("abroad", "abroad.gguf")), path.join(w.outside, "abroad.gguf"));
}

test("same filesystem: a model whose links would break once moved is left in the source (the dry run says why); valid links move with it", async () => {
  const { dir, cleanup } = tempDir("mlib-merge-links-");
  try {
    const w = await world(dir, dir);
    const lib = await ModelLibrary.open(w.destRoot);
    try {
      const dry = await mergeLibrary(lib, { source: w.srcRoot, dryRun: true });
      const planned = Object.fromEntries(dry.plan.map((p) => [p.source, p]));
      assert.equal(planned[w.ids.out].action, "error");
      assert.match(planned[w.ids.out].reason!, /left in the source: it holds a link to .*out\.gguf outside its folder/);
      assert.equal(planned[w.ids.owner].action, "error");
      assert.equal(planned[w.ids.inner].action, "move");
      assert.equal(planned[w.ids.abroad].action, "move");
      const r = await mergeLibrary(lib, { source: w.srcRoot });
      assert.equal(r.sameFilesystem, true);
      checkOutcome(w, r, ["inner", "abroad", "plain"]);
    } finally {
      lib.close();
    }
  } finally {
    cleanup();
  }
});

test("across filesystems: links that stay valid are re-made in the copy; the others are left in the source, nothing dangling", async (t: TestContext) => {
  const work = tempDir("mlib-merge-links-");
  const other = otherFilesystemDir(t, "mlib-merge-links-", work.dir);
  if (!other) return work.cleanup();
  try {
    const w = await world(work.dir, other.dir);
    const lib = await ModelLibrary.open(w.destRoot);
    try {
      const r = await mergeLibrary(lib, { source: w.srcRoot });
      assert.equal(r.sameFilesystem, false);
      checkOutcome(w, r, ["inner", "abroad", "plain"]);
      assert.ok(fs.lstatSync(path.join(w.destRoot, ...w.ids.inner.split("/"), "alias.gguf")).isSymbolicLink(), "re-made as a link, not copied twice");
    } finally {
      lib.close();
    }
  } finally {
    other.cleanup();
    work.cleanup();
  }
});

test("a relative link out of the folder that reaches the same file from the library (the same depth below a common folder) moves with it", async () => {
  const { dir, cleanup } = tempDir("mlib-merge-links-");
  try {
    const destRoot = path.join(dir, "dest");
    const srcRoot = path.join(dir, "src");
    (await ModelLibrary.open(destRoot)).close();
    const src = await ModelLibrary.open(srcRoot);
    const id = await importAs(src, writeGgufModel(path.join(dir, "in", "m.gguf"), "m", 91), "m");
    src.close();
    // dir/shared/m.gguf, reached from dir/src/<a>/<b>/<c>/ and from dir/dest/<a>/<b>/<c>/ by the same text.
    replaceByLink(path.join(srcRoot, ...id.split("/"), "m.gguf"), path.join(dir, "shared", "m.gguf"), true);
    const lib = await ModelLibrary.open(destRoot);
    try {
      const r = await mergeLibrary(lib, { source: srcRoot });
      assert.deepEqual(r.results.map((x) => x.outcome), ["moved"], JSON.stringify(r.results));
      assert.deepEqual(danglingLinks(destRoot), []);
    } finally {
      lib.close();
    }
  } finally {
    cleanup();
  }
});

test("linksIn: a folder nested deeper than it looks is reported, not moved unchecked", async () => {
  const { linksIn } = await import("../../../src/merge/model-links.js");
  const { dir, cleanup } = tempDir("mlib-merge-links-");
  try {
    fs.mkdirSync(path.join(dir, "a", "b"), { recursive: true });
    fs.symlinkSync("../x", path.join(dir, "a", "b", "l"));
    assert.deepEqual(linksIn(dir), { links: [{ rel: "a/b/l", text: "../x" }], unreadable: null });
    fs.mkdirSync(path.join(dir, ...Array.from({ length: 9 }, (_, i) => `d${i}`)), { recursive: true });
    assert.match(linksIn(dir).unreadable!, /nested more than 8 deep/);
  } finally {
    cleanup();
  }
});
