// A GGUF of one of ComfyUI-GGUF's image architectures (city96/ComfyUI-GGUF loader.py IMG_ARCH_LIST: flux, sdxl,
// wan...) is a quantized diffusion model: identified as such, stored under diffusion/, linked by the ComfyUI profile
// into models/diffusion_models (where ComfyUI-GGUF's loader reads it, `unet/` being the legacy name), and never
// given to llama.cpp or LM Studio. Before, it was an "llm", linked into the LLM apps and missed by ComfyUI.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { buildTinyLlamaGguf } from "../../src/demo/gguf-writer.js";
import { identify } from "../../src/identify/identify.js";
import { importModels } from "../../src/operations/import-models.js";
import { planMapping } from "../../src/mapper/plan.js";
import { resolveProfile } from "../../src/mapper/profiles.js";
import { ModelLibrary } from "../../src/store/model-library.js";
import { tempDir } from "../helpers/library-fixtures.js";

test("a flux GGUF is a diffusion model: identify, import and the app profiles agree", async () => {
  const { dir, cleanup } = tempDir("mlib-ggufimg-");
  try {
    const file = join(dir, "flux1-dev-Q4_0.gguf");
    writeFileSync(file, buildTinyLlamaGguf({ name: "FLUX.1 dev", architecture: "flux", fileType: 2, seed: 3 }));
    const id = await identify(file);
    assert.equal(id.modelType, "diffusion");
    assert.equal(id.subtype, "diffusion_models");
    assert.equal(id.family, "flux");
    const llm = join(dir, "tiny-llama-Q4_0.gguf");
    writeFileSync(llm, buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 2, seed: 4 }));
    assert.equal((await identify(llm)).modelType, "llm", "llama stays an LLM");

    const lib = await ModelLibrary.open(join(dir, "lib"), { create: true });
    try {
      const r = await importModels(lib, { paths: [file, llm] });
      assert.equal(r.imported, 2, JSON.stringify(r.results));
      const fluxId = r.results.find((x) => x.source === file)!.modelId!;
      assert.match(fluxId, /^diffusion\/flux\//);
      const where = (app: string): Map<string, string[]> => {
        const root = join(dir, app, "models");
        const plan = planMapping(lib, resolveProfile(app, null, join(dir, "no-configs")), root);
        const out = new Map<string, string[]>();
        for (const u of plan.units) out.set(u.modelId, u.items.map((i) => relative(root, i.target)));
        return out;
      };
      assert.deepEqual(where("comfyui").get(fluxId), ["diffusion_models/flux1-dev-Q4_0.gguf"]);
      assert.equal(where("llamacpp").get(fluxId), undefined);
      assert.equal(where("lmstudio").get(fluxId), undefined);
    } finally {
      lib.close();
    }
  } finally {
    cleanup();
  }
});
