// The mapper on real other filesystems (a small tmpfs; we run as root in CI): another filesystem than the
// library, a read-only one, a full one. Each gives a clear error and leaves nothing half-made.
import { test, type TestContext } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks, previewMapping } from "../../../src/mapper/index.js";
import { LinkRegistry } from "../../../src/mapper/registry.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary, writeTinyModel } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

function mountTmpfs(t: TestContext, dir: string, size: string): boolean {
  fs.mkdirSync(dir, { recursive: true });
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${size}`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) {
    t.skip(`cannot mount a tmpfs here (${(r.stderr || r.error?.message || "").trim()}): skipped`);
    return false;
  }
  return true;
}

function umount(dir: string): void {
  spawnSync("umount", [dir]);
}

function filesUnder(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, withFileTypes: true }).filter((d) => !d.isDirectory()).map((d) => join(d.parentPath ?? (d as unknown as { path: string }).path, d.name));
}

test("cross-filesystem app folder: preview says so; --link hardlink fails clearly; auto links with symlinks", async (t) => {
  const { dir, cleanup } = tempDir("mlib-xfs-");
  const mnt = join(dir, "app");
  if (!mountTmpfs(t, mnt, "4m")) return cleanup();
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(mnt, "models");
    fs.mkdirSync(root);
    const p = await previewMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS });
    assert.equal(p.crossFilesystem, true);
    assert.ok(p.notes.some((n) => /another filesystem/.test(n) && /hard links are impossible/.test(n)));
    const hard = await applyMapping(lib, { app: "llamacpp", root, link: "hardlink", configDir: NO_USER_CONFIGS });
    assert.equal(hard.made.length, 0);
    assert.ok(hard.errors.length > 0);
    assert.ok(hard.errors.every((e) => e.code === "E_UNSUPPORTED" && /hard links cannot cross filesystems/.test(e.message)), JSON.stringify(hard.errors));
    assert.deepEqual(filesUnder(root), [], "nothing half-made (no first shard of a set alone)");
    assert.equal(LinkRegistry.load(lib.root).count(), 0);
    const auto = await applyMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS });
    assert.equal(auto.made.length, 3);
    assert.ok(auto.made.every((m) => m.method === "symlink"));
    assert.equal((await checkLinks(lib)).ok, true);
  } finally {
    lib.close();
    umount(mnt);
    cleanup();
  }
});

test("read-only app folder: a clear error naming it, nothing recorded", async (t) => {
  const { dir, cleanup } = tempDir("mlib-ro-");
  const mnt = join(dir, "app");
  if (!mountTmpfs(t, mnt, "1m")) return cleanup();
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(mnt, "models");
    fs.mkdirSync(root);
    const r = spawnSync("mount", ["-o", "remount,ro", mnt]);
    if (r.status !== 0) return t.skip("cannot remount read-only: skipped");
    const res = await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.equal(res.made.length, 0);
    assert.ok(res.errors.length > 0);
    assert.ok(res.errors.every((e) => /read-only file system/.test(e.message) && e.message.includes(root)), JSON.stringify(res.errors));
    assert.equal(LinkRegistry.load(lib.root).count(), 0, "no pending entries left behind");
  } finally {
    lib.close();
    umount(mnt);
    cleanup();
  }
});

test("full disk (a tiny tmpfs) with --link copy: ENOSPC named, no partial copy left, space given back", async (t) => {
  const { dir, cleanup } = tempDir("mlib-full-");
  const mnt = join(dir, "app");
  if (!mountTmpfs(t, mnt, "64k")) return cleanup();
  const lib = await tinyLibrary(join(dir, "lib"), [
    { id: "llm/big/huge", model_type: "llm", family: "big", format: "gguf", files: { "huge.gguf": "x".repeat(256 * 1024) } },
    { id: "llm/small/tiny", model_type: "llm", family: "small", format: "gguf", files: { "tiny.gguf": "y".repeat(1024) } },
  ]);
  try {
    const root = join(mnt, "models");
    fs.mkdirSync(root);
    const res = await applyMapping(lib, { app: "llamacpp", root, link: "copy", configDir: NO_USER_CONFIGS });
    assert.equal(res.errors.length, 1);
    assert.match(res.errors[0].message, /no space left on device/);
    assert.ok(res.errors[0].message.includes("huge.gguf"));
    assert.deepEqual(fs.readdirSync(root), ["tiny.gguf"], "the small one made, no partial of the big one");
    const reg = LinkRegistry.load(lib.root);
    assert.equal(reg.count(), 1);
    assert.equal((await checkLinks(lib)).ok, true);
    // The partial's space is back: a 32 KiB file still fits.
    fs.writeFileSync(join(root, "probe"), Buffer.alloc(32 * 1024));
  } finally {
    lib.close();
    umount(mnt);
    cleanup();
  }
});

test("a diffusers folder asked to be hard-linked: a clear error (folders link only as symlinks)", async () => {
  const { dir, cleanup } = tempDir("mlib-dir-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    writeTinyModel(lib.root, { id: "x/y/z", model_type: "llm", files: { "a.gguf": "1" } });
    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    const r = await applyMapping(lib, { app: "comfyui", root, link: "hardlink", configDir: NO_USER_CONFIGS });
    const e = r.errors.find((x) => x.target.endsWith("flux_dev_diffusers"));
    assert.ok(e);
    assert.match(e.message, /linked only as a symlink/);
  } finally {
    lib.close();
    cleanup();
  }
});

test("--link reflink: a clone recorded as link_type copy + clone (XFS image); refused clearly where clones are impossible", async (t) => {
  const { dir, cleanup } = tempDir("mlib-reflink-");
  try {
    // Where clones are impossible (ext4/tmpfs temp dir): a clear error, nothing made.
    const plainLib = await tinyLibrary(join(dir, "plain-lib"));
    try {
      const root = join(dir, "plain-app", "models");
      fs.mkdirSync(root, { recursive: true });
      const r = await applyMapping(plainLib, { app: "llamacpp", root, link: "reflink", configDir: NO_USER_CONFIGS });
      if (r.made.length === 0) {
        assert.ok(r.errors.every((e) => e.code === "E_UNSUPPORTED" && /reflinks are not supported here/.test(e.message)), JSON.stringify(r.errors));
        assert.deepEqual(filesUnder(root), []);
      }
    } finally {
      plainLib.close();
    }
    if (spawnSync("sh", ["-c", "command -v mkfs.xfs"]).status !== 0) return t.skip("mkfs.xfs not installed (apt-get install xfsprogs): the clone half skipped");
    const img = join(dir, "xfs.img");
    const mnt = join(dir, "xfs");
    fs.mkdirSync(mnt);
    spawnSync("truncate", ["-s", "320M", img]);
    const mkfs = spawnSync("mkfs.xfs", ["-q", "-f", "-m", "reflink=1", img]);
    const mount = mkfs.status === 0 ? spawnSync("mount", ["-o", "loop", img, mnt], { encoding: "utf8" }) : null;
    if (!mount || mount.status !== 0) return t.skip(`cannot make or mount an XFS image here (${mount?.stderr ?? mkfs.stderr}): skipped`);
    try {
      const lib = await tinyLibrary(join(mnt, "lib"));
      try {
        const root = join(mnt, "llama", "models");
        fs.mkdirSync(root, { recursive: true });
        const r = await applyMapping(lib, { app: "llamacpp", root, link: "reflink", configDir: NO_USER_CONFIGS });
        assert.deepEqual(r.errors, []);
        assert.ok(r.made.every((m) => m.method === "reflink"));
        const e = LinkRegistry.load(lib.root).get(join(root, "tinyllama.Q4_K_M.gguf"))!;
        assert.equal(e.link_type, "copy", "the original's three values: a clone is a copy");
        assert.equal(e.clone, true);
        assert.equal((await checkLinks(lib)).ok, true);
      } finally {
        lib.close();
      }
    } finally {
      spawnSync("umount", [mnt]);
    }
  } finally {
    cleanup();
  }
});
