// `mlib links check` when one link cannot be looked at (a folder the user cannot read, a stale mount; here a
// folder re-pointed into a symlink loop, which gives ELOOP even to root): that link is reported, every other
// link is still checked, and the exit status says not all are healthy.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks } from "../../../src/mapper/index.js";
import { runCli } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

test("links check: a link that cannot be looked at is reported as unreadable; the others are still checked (API and CLI)", async () => {
  const { dir, cleanup } = tempDir("mlib-unread-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    const made = await applyMapping(lib, { app: "comfyui", root, link: "symlink", configDir: NO_USER_CONFIGS });
    assert.equal(made.made.length, 4);
    fs.renameSync(join(root, "loras"), join(root, "loras-moved"));
    fs.symlinkSync("loras", join(root, "loras"));
    const r = await checkLinks(lib);
    assert.equal(r.ok, false);
    assert.equal(r.links.length, 4);
    assert.equal(r.counts.healthy, 3);
    assert.equal(r.counts.unreadable, 1);
    const bad = r.links.find((l) => l.status === "unreadable")!;
    assert.equal(bad.entry.target, join(root, "loras", "detail.safetensors"));
    assert.match(bad.detail!, /ELOOP/);
    assert.ok(fs.lstatSync(join(root, "loras-moved", "detail.safetensors")).isSymbolicLink(), "nothing touched");

    const cli = await runCli(["links", "check", "--json", "--library", lib.root]);
    assert.equal(cli.code, 1, cli.stderr);
    const j = JSON.parse(cli.stdout);
    assert.equal(j.links.length, 4);
    assert.equal(j.counts.unreadable, 1);

    // doctor reports it among its problems (it used to stop on the raw error), with what to do.
    const doc = await runCli(["doctor", "--json", "--library", lib.root]);
    assert.equal(doc.code, 1, doc.stderr);
    const p = (JSON.parse(doc.stdout).problems as { kind: string; path: string; remedy: string }[]).find((x) => x.kind === "link")!;
    assert.equal(p.path, join(root, "loras", "detail.safetensors"));
    assert.match(p.remedy, /cannot be looked at/);
    // and the way to forget it when its disk is gone for good, for this link's app and model only
    assert.match(p.remedy, /mlib links repair --forget-unreadable --app comfyui --model diffusion\/sdxl\/detail_lora$/);
  } finally {
    lib.close();
    cleanup();
  }
});
