import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { listApps, resolveProfile } from "../../../src/mapper/profiles.js";
import { satisfies } from "../../../src/mapper/version-range.js";
import { tempDir } from "../../helpers/library-fixtures.js";

test("built-in profiles: the five apps and their folders", () => {
  const { dir, cleanup } = tempDir("mlib-prof-");
  try {
    const apps = listApps(dir);
    assert.deepEqual(apps.map((a) => a.id).sort(), ["a1111", "comfyui", "forge", "llamacpp", "lmstudio"]);
    const comfy = apps.find((a) => a.id === "comfyui")!;
    for (const f of ["checkpoints", "loras", "vae", "controlnet", "text_encoders", "clip_vision", "diffusion_models", "embeddings", "upscale_models", "diffusers"]) {
      assert.ok(comfy.folders.includes(f), `comfyui has ${f}`);
    }
    assert.ok(!comfy.folders.includes("unet"), "no legacy unet/");
    const a1111 = apps.find((a) => a.id === "a1111")!;
    for (const f of ["Stable-diffusion", "Lora", "VAE", "ControlNet", "ESRGAN", "../embeddings"]) assert.ok(a1111.folders.includes(f), `a1111 has ${f}`);
    assert.ok(apps.find((a) => a.id === "forge")!.folders.includes("text_encoder"));
  } finally {
    cleanup();
  }
});

test("user configs: the most specific wins per target_dir (the original inverted this), user beats built-in", () => {
  const { dir, cleanup } = tempDir("mlib-prof-");
  try {
    // A generic user rule for loras, and a version-specific one; with version 1.2.0 the specific one must win.
    writeFileSync(join(dir, "comfyui_*_mine.json"), JSON.stringify({ app: "comfyui", version: "*", variant: "mine", mappings: [{ target_dir: "loras", model_types: ["diffusion"], tags: ["generic"] }] }));
    writeFileSync(join(dir, "comfyui_1.2.0_default.json"), JSON.stringify({ app: "comfyui", version: "1.2.0", mappings: [{ target_dir: "loras", model_types: ["diffusion"], tags: ["specific"] }] }));
    const at = resolveProfile("comfyui", "1.2.0", dir);
    assert.deepEqual(at.rules.find((r) => r.target_dir === "loras")!.tags, ["specific"]);
    const generic = resolveProfile("comfyui", null, dir);
    assert.deepEqual(generic.rules.find((r) => r.target_dir === "loras")!.tags, ["generic"], "user * config beats the built-in one");
    assert.ok(generic.rules.some((r) => r.target_dir === "checkpoints"), "built-in rules of other folders stay");
  } finally {
    cleanup();
  }
});

test("user-defined app with an underscore in its id (the original split file names on _)", () => {
  const { dir, cleanup } = tempDir("mlib-prof-");
  try {
    writeFileSync(join(dir, "my_app.json"), JSON.stringify({ app: "my_app", version: "*", mappings: [{ target_dir: "models", formats: ["gguf"] }] }));
    const apps = listApps(dir);
    assert.ok(apps.some((a) => a.id === "my_app" && !a.builtin));
    assert.equal(resolveProfile("my_app", null, dir).rules[0].target_dir, "models");
  } finally {
    cleanup();
  }
});

test("a bad config file is an error naming it; an unknown app lists the known ones", () => {
  const { dir, cleanup } = tempDir("mlib-prof-");
  try {
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, "broken_*.json"), "{ nope");
    assert.throws(() => listApps(dir), (e: Error) => e.message.includes("broken_*.json"));
  } finally {
    cleanup();
  }
  assert.throws(() => resolveProfile("nosuchapp", null, "/nonexistent-config-dir"), /no mapping profile "nosuchapp".*comfyui/);
});

test("version-range configs: legacy ComfyUI maps text encoders to clip/ only when an old version is named", () => {
  const old = resolveProfile("comfyui", "0.0.9", "/nonexistent-config-dir");
  assert.ok(old.rules.some((r) => r.target_dir === "clip" && r.subtypes?.includes("t5")));
  const now = resolveProfile("comfyui", "0.3.10", "/nonexistent-config-dir");
  assert.ok(!now.rules.some((r) => r.target_dir === "clip"));
});

test("semver ranges", () => {
  const cases: [string, string, boolean][] = [
    ["1.2.3", "*", true],
    ["1.2.3", ">=1.2 <2", true],
    ["2.0.0", ">=1.2 <2", false],
    ["1.5.0", "^1.2.3", true],
    ["2.0.0", "^1.2.3", false],
    ["0.2.9", "^0.2.3", true],
    ["0.3.0", "^0.2.3", false],
    ["1.2.9", "~1.2", true],
    ["1.3.0", "~1.2", false],
    ["1.4.2", "1.x", true],
    ["2.0.0", "1.x || >=3", false],
    ["3.1.0", "1.x || >=3", true],
    ["1.5.0", "1.0 - 2.0", true],
    ["2.0.5", "1.0 - 2.0", true],
    ["2.1.0", "1.0 - 2.0", false],
    ["1.2.3", "1.2.3", true],
    ["1.2.4", "1.2.3", false],
    ["1.2.4", "<= 1.2", true],
    ["1.3.0", "> 1.2", true],
    ["1.2.5", "> 1.2", false],
    ["v1.2.0", ">=1.2.0", true],
  ];
  for (const [v, r, want] of cases) assert.equal(satisfies(v, r), want, `${v} in ${r}`);
  assert.throws(() => satisfies("1.0.0", ">=banana"), /cannot read/);
});

test("sandbox hints: a Flatpak or Snap app folder is recognised by its path, with the permission to add", async () => {
  const { detectSandbox } = await import("../../../src/mapper/environment.js");
  const flat = detectSandbox("/home/me/.var/app/io.github.comfyui/data/models", "/home/me/models-lib", {});
  assert.equal(flat?.type, "flatpak");
  assert.equal(flat?.appId, "io.github.comfyui");
  assert.equal(flat?.fix, "flatpak override --user --filesystem=/home/me/models-lib:ro io.github.comfyui");
  const snap = detectSandbox("/home/me/snap/lmstudio/common/models", "/lib", {});
  assert.equal(snap?.type, "snap");
  assert.match(snap!.fix, /snap connect lmstudio:removable-media/);
});
