// Links in an app folder on a disk that is not mounted, where the mount point is a plain empty folder (not a
// symlink): to an lstat the links and their folders are simply gone. They are "unreadable" (their disk not
// mounted?), and neither `links repair` nor `unlink` forgets them; once the disk is back all is as before.
// Without root no disk can be unmounted here: the app folder is emptied instead, with the device the entries
// record for their folder being another one (as it is when a disk is unmounted), or with none recorded (the
// original's entries) — plus the mount table parsing, on fixture text.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks, repairLinks, unlinkApp } from "../../../src/mapper/index.js";
import { LinkRegistry } from "../../../src/mapper/registry.js";
import { isMounted, makedev, parseFstab, parseMountInfo, unmountedMountPoint } from "../../../src/mapper/mount-points.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

const MOUNTINFO = `22 27 0:21 / /proc rw,relatime - proc proc rw
27 1 254:0 / / rw,relatime - ext4 /dev/vda rw
30 25 0:27 / /dev/shm rw,relatime - tmpfs tmpfs rw
61 27 8:17 / /mnt/my\\040disk rw,nosuid shared:31 - ext4 /dev/sdb1 rw
62 27 259:300 /sub /media/me/NVME rw - btrfs /dev/nvme0n1p2 rw
garbage line
`;

const FSTAB = `# /etc/fstab: static file system information.
UUID=1234-abcd  /               ext4  errors=remount-ro 0 1
UUID=5678       none            swap  sw                0 0
/dev/sdb1       /mnt/my\\040disk  ext4  defaults,nofail   0 2
LABEL=models    /srv/models/    ext4  noauto            0 2
`;

test("the mount table: mountinfo's major:minor as the st_dev Node reports, octal escapes, fstab's mount points", () => {
  const mounts = parseMountInfo(MOUNTINFO);
  assert.deepEqual(mounts.map((m) => m.mountPoint), ["/proc", "/", "/dev/shm", "/mnt/my disk", "/media/me/NVME"]);
  assert.equal(mounts[1].dev, 65024); // 254:0, as fs.statSync("/").dev reads on such a machine
  assert.equal(mounts[3].dev, 2065); // 8:17
  assert.equal(mounts[4].dev, makedev(259, 300));
  assert.equal(makedev(259, 300), (300 & 0xff) | ((259 & 0xfff) << 8) | ((300 & ~0xff) << 12));
  // This machine's own root, read both ways.
  const here = parseMountInfo(fs.readFileSync("/proc/self/mountinfo", "utf8"));
  const root = here.filter((m) => m.mountPoint === "/").pop();
  if (root) assert.equal(root.dev, fs.statSync("/").dev);

  assert.deepEqual(parseFstab(FSTAB), ["/", "/mnt/my disk", "/srv/models"]);
  const table = { mounted: mounts, configured: parseFstab(FSTAB) };
  assert.match(unmountedMountPoint("/srv/models", table)!, /fstab mounts a disk, and nothing is mounted there now/);
  assert.equal(unmountedMountPoint("/mnt/my disk", table), null, "mounted now");
  assert.equal(unmountedMountPoint("/home/me", table), null, "no mount point");
  assert.equal(isMounted(2065, table), true);
  assert.equal(isMounted(2066, table), false);
});

/** A library linked into `<dir>/usb/ComfyUI/models` ("usb": where the disk is mounted); its registry's entries. */
async function linkedOnUsb(dir: string) {
  const lib = await tinyLibrary(join(dir, "lib"));
  const usb = join(dir, "usb");
  const root = join(usb, "ComfyUI", "models");
  fs.mkdirSync(root, { recursive: true });
  const made = await applyMapping(lib, { app: "comfyui", root, link: "symlink", configDir: NO_USER_CONFIGS });
  assert.deepEqual(made.errors, []);
  const entries = LinkRegistry.load(lib.root).all();
  assert.ok(entries.length >= 3);
  for (const e of entries) assert.equal(e.target_dir_device, fs.statSync(join(root, "loras")).dev, "the folder's device is recorded");
  return { lib, usb, root, count: entries.length };
}

/** Rewrites every registry entry (as another disk's, or as the original recorded it). */
function rewriteEntries(libRoot: string, change: (e: Record<string, unknown>) => void): void {
  const file = join(libRoot, "link_registry.json");
  const data = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const e of Object.values(data.by_target) as Record<string, unknown>[]) change(e);
  fs.writeFileSync(file, JSON.stringify(data, null, 2));
}

async function assertKeptWhileUnmounted(lib: Awaited<ReturnType<typeof tinyLibrary>>, root: string, count: number, detail: RegExp): Promise<void> {
  const check = await checkLinks(lib);
  assert.equal(check.counts.unreadable, count, JSON.stringify(check.links.map((l) => [l.status, l.detail])));
  for (const l of check.links) {
    assert.match(l.detail!, detail);
    assert.doesNotMatch(l.detail!, /E_NOT_FOUND/, "said in words, not as an error code");
  }
  const rep = await repairLinks(lib);
  assert.equal(rep.actions.length, 0, JSON.stringify(rep.actions));
  const un = await unlinkApp(lib, { app: "comfyui", root });
  assert.equal(un.errors.length, count, "unlink reports each");
  assert.equal(LinkRegistry.load(lib.root).count(), count, "every entry kept");
}

test("an app folder on a disk not mounted (its mount point an empty folder on another device): unreadable, kept; healthy once back", async () => {
  const { dir, cleanup } = tempDir("mlib-mountpoint-");
  const { lib, usb, root, count } = await linkedOnUsb(dir);
  try {
    // As made on a disk whose device is not this folder's; then "unmounted": the folder is there, empty.
    const otherDev = fs.statSync(usb).dev + 1;
    rewriteEntries(lib.root, (e) => (e.target_dir_device = otherDev));
    fs.renameSync(usb, join(dir, "usb-unplugged"));
    fs.mkdirSync(usb);
    await assertKeptWhileUnmounted(lib, root, count, /not mounted/);

    // Plugged in again (the same folders, as the disk shows them): all healthy, recorded as made.
    fs.rmdirSync(usb);
    fs.renameSync(join(dir, "usb-unplugged"), usb);
    rewriteEntries(lib.root, (e) => (e.target_dir_device = fs.statSync(usb).dev));
    assert.equal((await checkLinks(lib)).ok, true);
    // And a folder really removed on that disk (the device the same): missing, forgotten by repair.
    fs.rmSync(join(root, "loras"), { recursive: true });
    const after = await checkLinks(lib);
    assert.equal(after.counts.missing, 1, JSON.stringify(after.counts));
    const rep = await repairLinks(lib);
    assert.deepEqual(rep.actions.map((a) => a.action), ["forgotten"]);
  } finally {
    lib.close();
    cleanup();
  }
});

test("the original's entries (no device recorded): the app's folders gone and the folder above them empty is unreadable, not missing", async () => {
  const { dir, cleanup } = tempDir("mlib-mountpoint-");
  const { lib, usb, root, count } = await linkedOnUsb(dir);
  try {
    rewriteEntries(lib.root, (e) => delete e.target_dir_device);
    fs.renameSync(usb, join(dir, "usb-unplugged"));
    fs.mkdirSync(usb); // the empty mount point
    await assertKeptWhileUnmounted(lib, root, count, /is gone and .*usb above it is empty/);
    fs.rmdirSync(usb);
    fs.renameSync(join(dir, "usb-unplugged"), usb);
    assert.equal((await checkLinks(lib)).ok, true);
    // One link the user removed (its folder there, with others): missing, as before.
    fs.rmSync(join(root, "loras", "detail.safetensors"));
    assert.equal((await checkLinks(lib)).counts.missing, 1);
  } finally {
    lib.close();
    cleanup();
  }
});

test("map apply while a disk mounted inside the app folder is not: nothing is made in its empty mount point, under any conflict policy", async () => {
  const { dir, cleanup } = tempDir("mlib-mountpoint-");
  const { lib, root, count } = await linkedOnUsb(dir);
  try {
    // models/loras is where the user mounts a disk of LoRAs; now it is not mounted: an empty folder, another device.
    const loras = join(root, "loras");
    const onLoras = LinkRegistry.load(lib.root).all().filter((e) => e.target.startsWith(loras + "/")).length;
    assert.ok(onLoras >= 1);
    rewriteEntries(lib.root, (e) => {
      if ((e.target as string).startsWith(loras + "/")) e.target_dir_device = fs.statSync(loras).dev + 1;
    });
    fs.renameSync(loras, join(dir, "loras-disk"));
    fs.mkdirSync(loras);
    for (const onConflict of ["skip", "rename", "overwrite"] as const) {
      const again = await applyMapping(lib, { app: "comfyui", root, link: "symlink", onConflict, configDir: NO_USER_CONFIGS });
      assert.deepEqual(again.made, [], onConflict);
      assert.equal(again.existing, count - onLoras);
      assert.equal(again.conflicts.length, onLoras, JSON.stringify(again.conflicts));
      for (const c of again.conflicts) assert.match(c.reason, /not mounted/);
    }
    assert.deepEqual(fs.readdirSync(loras), [], "the mount point is left empty");
    assert.equal(LinkRegistry.load(lib.root).count(), count);
    // Mounted again: as before.
    fs.rmdirSync(loras);
    fs.renameSync(join(dir, "loras-disk"), loras);
    rewriteEntries(lib.root, (e) => (e.target_dir_device = fs.statSync(loras).dev));
    assert.equal((await checkLinks(lib)).ok, true);
  } finally {
    lib.close();
    cleanup();
  }
});
