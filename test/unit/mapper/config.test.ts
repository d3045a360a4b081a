import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { writeAppConfig } from "../../../src/mapper/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

const USER_YAML = `# my ComfyUI paths — keep this comment
a111:
    base_path: /home/me/stable-diffusion-webui/  # the old install
    checkpoints: models/Stable-diffusion
    loras: |
        models/Lora
        models/LyCORIS

#other_ui:
#    base_path: path/to/ui
`;

test("ComfyUI: a model_library section merged into extra_model_paths.yaml; the user's sections and comments survive", async () => {
  const { dir, cleanup } = tempDir("mlib-cfg-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const comfy = join(dir, "ComfyUI");
    fs.mkdirSync(join(comfy, "models"), { recursive: true });
    const file = join(comfy, "extra_model_paths.yaml");
    fs.writeFileSync(file, USER_YAML);
    const r = await writeAppConfig(lib, { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS });
    assert.equal(r.changed, true);
    assert.equal(r.file, file);
    assert.equal(fs.readFileSync(r.backup!, "utf8"), USER_YAML);
    const text = fs.readFileSync(file, "utf8");
    assert.ok(text.includes("# my ComfyUI paths — keep this comment"));
    assert.ok(text.includes("# the old install"));
    assert.ok(text.includes("#other_ui:"));
    const y = parse(text);
    assert.equal(y.a111.checkpoints, "models/Stable-diffusion");
    assert.equal(y.model_library.base_path, lib.root);
    // ComfyUI reads a value as newline-separated folders (never a YAML list).
    assert.equal(typeof y.model_library.loras, "string");
    assert.deepEqual(y.model_library.loras.trim().split("\n"), ["diffusion/sdxl/detail_lora"]);
    assert.deepEqual(y.model_library.checkpoints.trim().split("\n"), ["diffusion/sdxl/juggernaut"]);
    assert.ok(r.notMapped.some((n) => n.targetDir === "diffusers"));
    // Run again: nothing changes, and the section is replaced, not duplicated.
    const again = await writeAppConfig(lib, { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS });
    assert.equal(again.changed, false);
    assert.equal(fs.readFileSync(file, "utf8").match(/^model_library:/gm)!.length, 1);
  } finally {
    lib.close();
    cleanup();
  }
});

test("ComfyUI: a broken extra_model_paths.yaml is refused and left as it is", async () => {
  const { dir, cleanup } = tempDir("mlib-cfg-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const comfy = join(dir, "ComfyUI");
    fs.mkdirSync(join(comfy, "models"), { recursive: true });
    const file = join(comfy, "extra_model_paths.yaml");
    fs.writeFileSync(file, "a111:\n  base_path: [unclosed\n");
    await assert.rejects(writeAppConfig(lib, { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS }), /not valid YAML/);
    assert.equal(fs.readFileSync(file, "utf8"), "a111:\n  base_path: [unclosed\n");
  } finally {
    lib.close();
    cleanup();
  }
});

test("A1111: flags only where one library folder holds exactly that kind; the rest says to link", async () => {
  const { dir, cleanup } = tempDir("mlib-cfg-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    fs.mkdirSync(join(dir, "webui", "models"), { recursive: true });
    const r = await writeAppConfig(lib, { app: "a1111", root: join(dir, "webui", "models"), configDir: NO_USER_CONFIGS });
    assert.equal(r.kind, "flags");
    // diffusion/sd15 holds only the embedding; diffusion/sdxl mixes the checkpoint and the LoRA.
    assert.deepEqual(r.flags, [`--embeddings-dir ${JSON.stringify(join(lib.root, "diffusion/sd15"))}`]);
    assert.ok(r.notMapped.some((n) => n.targetDir === "Stable-diffusion" && /map apply/.test(n.reason)));
    assert.ok(!fs.existsSync(join(dir, "webui", "extra_model_paths.yaml")));
  } finally {
    lib.close();
    cleanup();
  }
});

test("llama.cpp has no config to write: an error that says to use map apply", async () => {
  const { dir, cleanup } = tempDir("mlib-cfg-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    fs.mkdirSync(join(dir, "llama", "models"), { recursive: true });
    await assert.rejects(writeAppConfig(lib, { app: "llamacpp", root: join(dir, "llama", "models"), configDir: NO_USER_CONFIGS }), /map apply llamacpp/);
  } finally {
    lib.close();
    cleanup();
  }
});
