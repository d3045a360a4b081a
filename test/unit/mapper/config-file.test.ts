// `mlib map config comfyui`: the user's extra_model_paths.yaml as it really is on disk — a symlink into a
// dotfiles folder, a file formatted the user's way — is written through and kept as it was.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { writeAppConfig } from "../../../src/mapper/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";
const MINE = "# mine\nother:\n    base_path: /x\n    checkpoints: a\n";

test("ComfyUI: an extra_model_paths.yaml that is a symlink (a dotfiles repo) is written through, the symlink kept", async () => {
  const { dir, cleanup } = tempDir("mlib-cfgfile-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const comfy = join(dir, "ComfyUI");
    fs.mkdirSync(join(comfy, "models"), { recursive: true });
    fs.mkdirSync(join(dir, "dotfiles"));
    const real = join(dir, "dotfiles", "comfy-paths.yaml");
    fs.writeFileSync(real, MINE);
    const file = join(comfy, "extra_model_paths.yaml");
    fs.symlinkSync(real, file);
    const r = await writeAppConfig(lib, { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS });
    assert.equal(r.changed, true);
    assert.ok(fs.lstatSync(file).isSymbolicLink(), "the user's symlink is still a symlink");
    assert.equal(fs.readlinkSync(file), real);
    const y = parse(fs.readFileSync(real, "utf8"));
    assert.equal(y.model_library.base_path, lib.root, "the section went into the file the symlink points to");
    assert.equal(y.other.checkpoints, "a");
    assert.equal(fs.readFileSync(r.backup!, "utf8"), MINE);
    assert.deepEqual(fs.readdirSync(join(dir, "dotfiles")), ["comfy-paths.yaml"], "no temp file left beside it");
  } finally {
    lib.close();
    cleanup();
  }
});

test("ComfyUI: an extra_model_paths.yaml symlink leading nowhere is refused and left as it is", async () => {
  const { dir, cleanup } = tempDir("mlib-cfgfile-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const comfy = join(dir, "ComfyUI");
    fs.mkdirSync(join(comfy, "models"), { recursive: true });
    const file = join(comfy, "extra_model_paths.yaml");
    fs.symlinkSync(join(dir, "unmounted", "paths.yaml"), file);
    await assert.rejects(writeAppConfig(lib, { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS }), /cannot be reached.*left as it is/);
    assert.equal(fs.readlinkSync(file), join(dir, "unmounted", "paths.yaml"));
    assert.deepEqual(fs.readdirSync(comfy).sort(), ["extra_model_paths.yaml", "models"]);
  } finally {
    lib.close();
    cleanup();
  }
});
