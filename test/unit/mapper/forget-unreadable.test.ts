// `mlib links repair --forget-unreadable`: links on a disk gone for good are never forgotten by a plain repair (a
// disk unplugged for now must keep them), so without this way out they stayed errors for ever. The opt-in forgets
// only the unreadable links of the filter given, names each, touches nothing on disk, and the run then passes.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, repairLinks } from "../../../src/mapper/index.js";
import { LinkRegistry } from "../../../src/mapper/registry.js";
import { runCli } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

interface RepairJson {
  actions: { target: string; modelId: string; was: string; action: string; detail: string | null }[];
  healthy: number;
  errors: { target: string; message: string; unreadable?: boolean }[];
}

test("links repair --forget-unreadable forgets only the unreadable links asked for, says which, touches no file", async () => {
  const { dir, cleanup } = tempDir("mlib-forget-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    const usb = join(dir, "usb");
    fs.mkdirSync(join(usb, "loras"), { recursive: true });
    fs.symlinkSync(join(usb, "loras"), join(root, "loras"));
    const made = await applyMapping(lib, { app: "comfyui", root, link: "symlink", configDir: NO_USER_CONFIGS });
    assert.deepEqual(made.errors, []);
    const count = LinkRegistry.load(lib.root).count();
    const target = join(root, "loras", "detail.safetensors");
    fs.renameSync(usb, join(dir, "usb-gone")); // the disk is gone

    // Plain repair: kept, an error marked unreadable; the CLI says how to forget it.
    const kept = await repairLinks(lib);
    assert.deepEqual(kept.errors.map((e) => [e.target, e.unreadable]), [[target, true]]);
    const plain = await runCli(["links", "repair", "--library", lib.root]);
    assert.equal(plain.code, 1, plain.stderr);
    assert.match(plain.stderr, /1 link cannot be looked at and is kept; if its disk is gone for good: mlib links repair --forget-unreadable\n/);
    assert.equal(LinkRegistry.load(lib.root).count(), count);

    // Asked for another model, or another app: nothing forgotten.
    const other = await runCli(["links", "repair", "--forget-unreadable", "--model", "diffusion/sdxl/juggernaut", "--json", "--library", lib.root]);
    assert.equal(other.code, 0, other.stderr);
    assert.deepEqual((JSON.parse(other.stdout) as RepairJson).actions, []);
    const otherApp = await runCli(["links", "repair", "--forget-unreadable", "--app", "a1111", "--library", lib.root]);
    assert.equal(otherApp.code, 0, otherApp.stderr);
    assert.ok(LinkRegistry.load(lib.root).get(target), "kept: not what was asked");

    // Asked for: forgotten, named, with the reason; the other links untouched; exit 0.
    const forgot = await runCli(["links", "repair", "--forget-unreadable", "--app", "comfyui", "--json", "--library", lib.root]);
    assert.equal(forgot.code, 0, forgot.stderr);
    const r = JSON.parse(forgot.stdout) as RepairJson;
    assert.equal(r.actions.length, 1);
    assert.deepEqual([r.actions[0].target, r.actions[0].was, r.actions[0].action, r.actions[0].modelId], [target, "unreadable", "forgotten", "diffusion/sdxl/detail_lora"]);
    assert.match(r.actions[0].detail!, /leads nowhere.*forgotten as asked/);
    assert.deepEqual(r.errors, []);
    assert.equal(r.healthy, count - 1);
    assert.equal(LinkRegistry.load(lib.root).get(target), null);
    assert.equal(LinkRegistry.load(lib.root).count(), count - 1);
    assert.ok(fs.lstatSync(join(dir, "usb-gone", "loras", "detail.safetensors")).isSymbolicLink(), "nothing on that disk touched");
    assert.ok(fs.existsSync(join(lib.root, "diffusion", "sdxl", "detail_lora", "detail.safetensors")), "the model stays");

    // The text output names it too; afterwards all is healthy.
    const again = await runCli(["links", "check", "--library", lib.root]);
    assert.equal(again.code, 0, again.stdout + again.stderr);
  } finally {
    lib.close();
    cleanup();
  }
});

test("links repair --forget-unreadable in text: each forgotten link on its own line", async () => {
  const { dir, cleanup } = tempDir("mlib-forget-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const nas = join(dir, "nas", "models");
    fs.mkdirSync(nas, { recursive: true });
    fs.mkdirSync(join(dir, "ComfyUI"));
    const root = join(dir, "ComfyUI", "models");
    fs.symlinkSync(nas, root);
    await applyMapping(lib, { app: "comfyui", root, link: "symlink", configDir: NO_USER_CONFIGS });
    const count = LinkRegistry.load(lib.root).count();
    fs.renameSync(join(dir, "nas"), join(dir, "nas-gone"));
    const r = await runCli(["links", "repair", "--forget-unreadable", "--library", lib.root]);
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    assert.equal(lines.filter((l) => /^forgotten +\S+ +\(unreadable: .*forgotten as asked/.test(l)).length, count, r.stdout);
    assert.match(lines.at(-1)!, new RegExp(`^${count} repaired, 0 healthy, 0 errors$`));
    assert.equal(LinkRegistry.load(lib.root).count(), 0);
  } finally {
    lib.close();
    cleanup();
  }
});
