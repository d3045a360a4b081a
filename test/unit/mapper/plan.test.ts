// Planning builds targets by joining safe name parts with "/" and matches rules through sets made once per plan:
// the same paths path.join gives, the original's matching rules (an absent list is no constraint, an empty
// `tags` too, any other empty list matches nothing), and nothing planned outside the app folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { planMapping, ruleMatches } from "../../../src/mapper/plan.js";
import type { ResolvedProfile } from "../../../src/mapper/profiles.js";
import type { MappingRule } from "../../../src/mapper/types.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const model = { modelType: "LLM", subtype: null, family: "Llama", format: "GGUF", tags: ["Chat", "q4"] };

test("rule matching: case-insensitive; absent lists are no constraint, an empty tags list too, other empty lists match nothing", () => {
  const cases: [MappingRule, boolean][] = [
    [{ target_dir: "." }, true],
    [{ target_dir: ".", model_types: ["llm"], families: ["LLAMA"], formats: ["gguf"] }, true],
    [{ target_dir: ".", model_types: ["diffusion"] }, false],
    [{ target_dir: ".", families: [] }, false],
    [{ target_dir: ".", tags: [] }, true],
    [{ target_dir: ".", tags: ["CHAT", "vision"] }, true],
    [{ target_dir: ".", tags: ["vision"] }, false],
    [{ target_dir: ".", exclude_tags: ["Q4"] }, false],
    [{ target_dir: ".", exclude_tags: [] }, true],
    [{ target_dir: ".", exclude_formats: ["gguf"] }, false],
    [{ target_dir: ".", subtypes: [""] }, true], // a null subtype compares as ""
    [{ target_dir: ".", subtypes: ["loras"] }, false],
  ];
  for (const [rule, want] of cases) assert.equal(ruleMatches(rule, model), want, JSON.stringify(rule));
});

function profile(rules: MappingRule[]): ResolvedProfile {
  return { app: "test", appVersion: null, rules, flags: {}, description: null, sources: ["test"] };
}

test("targets and sources are exactly path.join's, for every layout; a rule leaving the app folder and unsafe names are excluded", async () => {
  const { dir, cleanup } = tempDir("mlib-plan-");
  const lib = await tinyLibrary(join(dir, "lib"), [
    { id: "diffusion/sdxl/sub", model_type: "diffusion", family: "sdxl", format: "safetensors", files: { "unet/model.safetensors": "u", "vae.safetensors": "v" } },
    { id: "llm/llama/tl", model_type: "llm", family: "llama", format: "gguf", repo_id: "TheBloke/TinyLlama-GGUF", files: { "tl.Q4_K_M.gguf": "g" } },
    { id: "llm/qwen/local", model_type: "llm", family: "qwen", format: "gguf", files: { "q.gguf": "g" } },
    { id: "llm/x/padded", model_type: "llm", family: "x", format: "gguf", files: { "ok.gguf": "g" } },
  ]);
  try {
    // A name with padding in metadata.json is not a safe path part (written by hand, not by the importer).
    const metaFile = join(lib.modelDir("llm/x/padded"), "metadata.json");
    const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as { files: { name: string }[] };
    meta.files[0].name = " ok.gguf";
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    const root = join(dir, "app", "models");
    const plan = planMapping(
      lib,
      profile([
        { target_dir: "diff", model_types: ["diffusion"] },
        { target_dir: "flat", model_types: ["diffusion"], layout: "flat" },
        { target_dir: "whole", model_types: ["diffusion"], layout: "folder" },
        { target_dir: ".", formats: ["gguf"], extensions: ["gguf"], layout: "publisher-repo" },
        { target_dir: "../../outside", families: ["qwen"] },
      ]),
      root,
    );
    const got = plan.units.flatMap((u) => u.items.map((i) => [u.modelId, i.source, i.target, i.isDir]));
    const sub = lib.modelDir("diffusion/sdxl/sub");
    const want = [
      ["diffusion/sdxl/sub", join(sub, "unet", "model.safetensors"), join(root, "diff", "unet", "model.safetensors"), false],
      ["diffusion/sdxl/sub", join(sub, "vae.safetensors"), join(root, "diff", "vae.safetensors"), false],
      ["diffusion/sdxl/sub", join(sub, "unet", "model.safetensors"), join(root, "flat", "model.safetensors"), false],
      ["diffusion/sdxl/sub", join(sub, "vae.safetensors"), join(root, "flat", "vae.safetensors"), false],
      ["diffusion/sdxl/sub", sub, join(root, "whole", "sub"), true],
      ["llm/llama/tl", join(lib.modelDir("llm/llama/tl"), "tl.Q4_K_M.gguf"), join(root, "TheBloke", "TinyLlama-GGUF", "tl.Q4_K_M.gguf"), false],
      ["llm/qwen/local", join(lib.modelDir("llm/qwen/local"), "q.gguf"), join(root, "local", "qwen", "q.gguf"), false],
    ];
    assert.deepEqual(
      got.sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
      want.sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
    );
    assert.ok(plan.excluded.some((x) => x.modelId === "llm/qwen/local" && /leaves the app folder/.test(x.reason)));
    assert.ok(plan.excluded.some((x) => x.modelId === "llm/x/padded" && /not a safe relative path/.test(x.reason)));
    const sizes = plan.units.flatMap((u) => u.items.map((i) => i.size));
    assert.ok(sizes.every((s) => s === undefined || s > 0));
  } finally {
    lib.close();
    cleanup();
  }
});

test("modelDir: the same folder as joining the id's parts, and an unusable id refused", async () => {
  const { dir, cleanup } = tempDir("mlib-plan-");
  const lib = await tinyLibrary(join(dir, "lib"), []);
  try {
    assert.equal(lib.modelDir("llm/llama/a...b"), join(lib.root, "llm", "llama", "a...b"));
    for (const bad of ["", "/llm/x", "llm//x", "llm/x/", "llm/./x", "llm/../x", "..", ".", "llm/x/.."]) {
      assert.throws(() => lib.modelDir(bad), /invalid model id/, JSON.stringify(bad));
    }
  } finally {
    lib.close();
    cleanup();
  }
});
