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

// ComfyUI's own example layout: 4-space indents, a folder list indented deeper, a long path with spaces,
// Windows line endings, no newline at the end.
const FORMATTED = [
  "#config for a1111 ui",
  "a111:",
  "    base_path: /mnt/My Drive With A Long Name/AI tools and stuff/stable-diffusion-webui forge edition/",
  "",
  "    checkpoints: models/Stable-diffusion",
  "    loras: |",
  "         models/Lora",
  "         models/LyCORIS",
  "    flow: {a: 1, b: 2}",
  "",
  "#comfyui:",
  "#     base_path: path/to/comfyui/",
].join("\r\n");

test("ComfyUI: the user's formatting is kept byte for byte (indents, long lines, CRLF); only our section is written", async () => {
  const { dir, cleanup } = tempDir("mlib-cfgfile-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const comfy = join(dir, "ComfyUI");
    fs.mkdirSync(join(comfy, "models"), { recursive: true });
    const file = join(comfy, "extra_model_paths.yaml");
    fs.writeFileSync(file, FORMATTED);
    const params = { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS };
    await writeAppConfig(lib, params);
    const first = fs.readFileSync(file, "utf8");
    assert.ok(first.startsWith(FORMATTED), `the user's text is kept as it was:\n${first}`);
    const y = parse(first);
    assert.equal(y.a111.base_path, "/mnt/My Drive With A Long Name/AI tools and stuff/stable-diffusion-webui forge edition/");
    assert.deepEqual(y.model_library.checkpoints.trim().split("\n"), ["diffusion/sdxl/juggernaut"]);
    // A new model, then the section is written again: replaced in place, the user's text around it unchanged.
    const { writeTinyModel } = await import("../../helpers/mapper-fixtures.js");
    writeTinyModel(lib.root, { id: "diffusion/sdxl/second", model_type: "diffusion", subtype: "checkpoints", family: "sdxl", format: "safetensors", files: { "second.safetensors": "x" } });
    await lib.reconcile("full");
    fs.appendFileSync(file, "\r\n# my note after it\r\n");
    const r = await writeAppConfig(lib, params);
    assert.equal(r.changed, true);
    const second = fs.readFileSync(file, "utf8");
    assert.ok(second.startsWith(FORMATTED));
    assert.ok(second.endsWith("\r\n# my note after it\r\n"), second);
    assert.ok(!/[^\r]\n/.test(second), "line endings stay CRLF");
    assert.deepEqual(parse(second).model_library.checkpoints.trim().split("\n"), ["diffusion/sdxl/juggernaut", "diffusion/sdxl/second"]);
    assert.equal(second.match(/^model_library:/gm)!.length, 1);
  } finally {
    lib.close();
    cleanup();
  }
});

test("ComfyUI: the user's extra_model_paths.yaml keeps its mode and, under sudo, its owner", async (t) => {
  if (process.getuid?.() !== 0) return t.skip("needs root (to give the file another owner, as a sudo run meets it): skipped");
  const { dir, cleanup } = tempDir("mlib-cfgfile-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const comfy = join(dir, "ComfyUI");
    fs.mkdirSync(join(comfy, "models"), { recursive: true });
    const file = join(comfy, "extra_model_paths.yaml");
    fs.writeFileSync(file, MINE);
    fs.chownSync(file, 1234, 2345);
    fs.chmodSync(file, 0o664);
    await writeAppConfig(lib, { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS });
    const st = fs.statSync(file);
    assert.ok(fs.readFileSync(file, "utf8").includes("model_library:"));
    assert.equal(st.uid, 1234, "still the user's file, editable by them");
    assert.equal(st.gid, 2345);
    assert.equal(st.mode & 0o777, 0o664);
  } finally {
    lib.close();
    cleanup();
  }
});
