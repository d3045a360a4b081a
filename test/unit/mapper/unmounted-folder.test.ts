// A target folder that is the user's symlink to another disk (`models/loras` -> /mnt/usb/loras), while that
// disk is not mounted: our links there cannot be looked at. They are reported as such, and neither
// `links repair` nor `unlink` forgets them as if the user had removed them: once the disk is back, they are
// still known (checked, removed by unlink, by rm --cascade).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks, repairLinks, unlinkApp } from "../../../src/mapper/index.js";
import { LinkRegistry } from "../../../src/mapper/registry.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

test("links on a disk that is not mounted: check says unreadable, repair and unlink keep them; once it is back, all is as before", async () => {
  const { dir, cleanup } = tempDir("mlib-unmounted-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    const usb = join(dir, "usb");
    fs.mkdirSync(join(usb, "loras"), { recursive: true });
    fs.symlinkSync(join(usb, "loras"), join(root, "loras"));
    const made = await applyMapping(lib, { app: "comfyui", root, link: "symlink", configDir: NO_USER_CONFIGS });
    assert.deepEqual(made.errors, []);
    const target = join(root, "loras", "detail.safetensors");
    assert.ok(fs.lstatSync(join(usb, "loras", "detail.safetensors")).isSymbolicLink());

    fs.renameSync(usb, join(dir, "usb-unplugged")); // the disk is unplugged: the folder link leads nowhere
    const check = await checkLinks(lib);
    const l = check.links.find((x) => x.entry.target === target)!;
    assert.equal(l.status, "unreadable", JSON.stringify(l));
    assert.match(l.detail!, /leads nowhere/);
    const rep = await repairLinks(lib);
    assert.ok(!rep.actions.some((a) => a.target === target), "not forgotten by repair");
    assert.ok(rep.errors.some((e) => e.target === target));
    const un = await unlinkApp(lib, { app: "comfyui", root });
    assert.ok(un.errors.some((e) => e.target === target), "unlink reports it");
    assert.ok(LinkRegistry.load(lib.root).get(target), "and keeps its entry");

    fs.renameSync(join(dir, "usb-unplugged"), usb); // plugged in again
    assert.equal((await checkLinks(lib)).ok, true);
    const un2 = await unlinkApp(lib, { app: "comfyui", root });
    assert.equal(un2.removed, 1);
    assert.deepEqual(fs.readdirSync(join(usb, "loras")), [], "our link on that disk is removed");
    assert.ok(fs.lstatSync(join(root, "loras")).isSymbolicLink(), "the user's folder link stays");
  } finally {
    lib.close();
    cleanup();
  }
});

test("the whole models folder a symlink to a disk that is not mounted: its links are unreadable, not missing", async () => {
  const { dir, cleanup } = tempDir("mlib-unmounted-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const nas = join(dir, "nas", "models");
    fs.mkdirSync(nas, { recursive: true });
    fs.mkdirSync(join(dir, "ComfyUI"));
    const root = join(dir, "ComfyUI", "models");
    fs.symlinkSync(nas, root);
    await applyMapping(lib, { app: "comfyui", root, link: "symlink", configDir: NO_USER_CONFIGS });
    fs.renameSync(join(dir, "nas"), join(dir, "nas-away"));
    const check = await checkLinks(lib);
    assert.equal(check.counts.unreadable, 4, JSON.stringify(check.counts));
    const rep = await repairLinks(lib);
    assert.equal(rep.actions.length, 0);
    assert.equal(LinkRegistry.load(lib.root).count(), 4);
    // A folder the user really removed (its parent is there): missing, as before.
    fs.renameSync(join(dir, "nas-away"), join(dir, "nas"));
    fs.rmSync(join(nas, "loras"), { recursive: true });
    const after = await checkLinks(lib);
    assert.equal(after.counts.missing, 1);
    assert.equal(after.counts.healthy, 3);
  } finally {
    lib.close();
    cleanup();
  }
});
