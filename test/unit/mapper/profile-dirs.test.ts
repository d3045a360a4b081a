// A user config naming a folder as `checkpoints/` or `./checkpoints` means the built-in `checkpoints` folder:
// its rule replaces the built-in one (the most specific wins), instead of both applying — which linked what
// the user meant to leave out, and failed on every model both rules took ("appeared while linking").
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, writeAppConfig } from "../../../src/mapper/index.js";
import { resolveProfile } from "../../../src/mapper/profiles.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { STANDARD_MODELS, tinyLibrary } from "../../helpers/mapper-fixtures.js";
import { parse } from "yaml";

test("a user rule for `checkpoints/` or `./checkpoints` replaces the built-in checkpoints rule", async () => {
  const { dir, cleanup } = tempDir("mlib-profdirs-");
  const lib = await tinyLibrary(join(dir, "lib"), [
    ...STANDARD_MODELS,
    { id: "diffusion/sd15/dreamshaper", model_type: "diffusion", subtype: "checkpoints", family: "sd15", format: "safetensors", files: { "dreamshaper.safetensors": "sd15" } },
  ]);
  try {
    const cfg = join(dir, "cfg");
    fs.mkdirSync(cfg);
    fs.writeFileSync(join(cfg, "comfyui_any_custom.json"), JSON.stringify({ app: "comfyui", version: "*", variant: "custom", mappings: [{ target_dir: "checkpoints/", model_types: ["diffusion"], subtypes: ["checkpoints"], families: ["sdxl"] }] }));
    fs.writeFileSync(join(cfg, "comfyui_any_other.json"), JSON.stringify({ app: "comfyui", version: "*", variant: "other", mappings: [{ target_dir: "./loras", model_types: ["diffusion"], subtypes: ["loras"] }] }));
    const p = resolveProfile("comfyui", null, cfg);
    assert.deepEqual(p.rules.filter((r) => r.target_dir.includes("checkpoints")).map((r) => [r.target_dir, r.families]), [["checkpoints", ["sdxl"]]]);
    assert.equal(p.rules.filter((r) => r.target_dir.includes("loras")).length, 1);

    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    const r = await applyMapping(lib, { app: "comfyui", root, configDir: cfg });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(fs.readdirSync(join(root, "checkpoints")), ["juggernaut.safetensors"], "only the sdxl checkpoint, once");

    const c = await writeAppConfig(lib, { app: "comfyui", root, configDir: cfg });
    const y = parse(fs.readFileSync(c.file!, "utf8"));
    assert.ok("checkpoints" in y.model_library && !("checkpoints/" in y.model_library), "ComfyUI's own key");
  } finally {
    lib.close();
    cleanup();
  }
});
