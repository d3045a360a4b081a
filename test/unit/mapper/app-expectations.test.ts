// The built-in profiles against what each app really reads on disk (facts from the apps' own sources, cited per
// test): which folder a kind of model must land in, and which models an app cannot load at all.
import { test } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join, relative } from "node:path";
import { planMapping } from "../../../src/mapper/plan.js";
import { resolveProfile } from "../../../src/mapper/profiles.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary, type TinyModel } from "../../helpers/mapper-fixtures.js";

/** Where each model's files would go for `app` (relative to --root), without user configs. */
async function targets(app: string, models: TinyModel[]): Promise<Map<string, string[]>> {
  const { dir, cleanup } = tempDir("mlib-appexp-");
  try {
    const lib = await tinyLibrary(join(dir, "lib"), models);
    try {
      const root = join(dir, app, "models");
      const plan = planMapping(lib, resolveProfile(app, null, join(dir, "no-configs")), root);
      const out = new Map<string, string[]>();
      for (const u of plan.units) out.set(u.modelId, [...(out.get(u.modelId) ?? []), ...u.items.map((i) => relative(root, i.target))].sort());
      return out;
    } finally {
      lib.close();
    }
  } finally {
    cleanup();
  }
}

// city96/ComfyUI-GGUF README: diffusion GGUFs (FLUX.1-dev-gguf...) are ComfyUI models for models/unet; llama.cpp
// and LM Studio (which loads GGUFs through llama.cpp) only load llama.cpp's own architectures.
test("llama.cpp and LM Studio get the LLM GGUFs, not a diffusion model in a GGUF file", async () => {
  const models: TinyModel[] = [
    { id: "diffusion/flux/flux_dev_gguf", model_type: "diffusion", family: "flux", format: "gguf", repo_id: "city96/FLUX.1-dev-gguf", files: { "flux1-dev-Q4_0.gguf": "f" } },
    { id: "llm/llama/tiny", model_type: "llm", family: "llama", format: "gguf", repo_id: "TheBloke/TinyLlama-GGUF", files: { "tiny.Q4_K_M.gguf": "g" } },
    { id: "embedding/bert/nomic", model_type: "embedding", family: "nomic-bert", format: "gguf", repo_id: "nomic-ai/nomic-embed-text-v1.5-GGUF", files: { "nomic.Q8_0.gguf": "e" } },
  ];
  const llama = await targets("llamacpp", models);
  assert.deepEqual([...llama.keys()].sort(), ["embedding/bert/nomic", "llm/llama/tiny"]);
  const lms = await targets("lmstudio", models);
  assert.equal(lms.get("diffusion/flux/flux_dev_gguf"), undefined);
  assert.deepEqual(lms.get("llm/llama/tiny"), ["TheBloke/TinyLlama-GGUF/tiny.Q4_K_M.gguf"]);
});

// Comfy-Org/ComfyUI folder_paths.py + nodes.py CLIPVisionLoader: image encoders are read from models/clip_vision.
// identify names a lone CLIP/SigLIP vision tower modelType "vision" (classify-tensors.ts), and a GGUF of
// architecture clip is an LLM's mmproj, which ComfyUI does not load.
test("ComfyUI: CLIP and SigLIP image encoders go to clip_vision; an mmproj GGUF does not", async () => {
  const t = await targets("comfyui", [
    { id: "vision/clip/vit_h", model_type: "vision", family: "clip", format: "safetensors", files: { "CLIP-ViT-H-14.safetensors": "v" } },
    { id: "vision/siglip/sigclip", model_type: "vision", family: "siglip", format: "safetensors", files: { "sigclip_vision_patch14_384.safetensors": "s" } },
    { id: "vision/clip/mmproj", model_type: "vision", family: "clip", format: "gguf", files: { "mmproj-f16.gguf": "m" } },
  ]);
  assert.deepEqual(t.get("vision/clip/vit_h"), ["clip_vision/CLIP-ViT-H-14.safetensors"]);
  assert.deepEqual(t.get("vision/siglip/sigclip"), ["clip_vision/sigclip_vision_patch14_384.safetensors"]);
  assert.equal(t.get("vision/clip/mmproj"), undefined);
});

// AUTOMATIC1111/stable-diffusion-webui modules/sd_models_config.py find_checkpoint_config_near_filename: a
// checkpoint's config is `<checkpoint name>.yaml` in the same folder (v-prediction SD2, inpainting models...).
test("A1111/Forge: a checkpoint's .yaml config is linked beside it in Stable-diffusion", async () => {
  const models: TinyModel[] = [
    { id: "diffusion/sd2/v768", model_type: "diffusion", subtype: "checkpoints", family: "sd2", format: "safetensors", files: { "v2-1_768.safetensors": "c", "v2-1_768.yaml": "model: {}" } },
  ];
  for (const app of ["a1111", "forge"]) {
    assert.deepEqual((await targets(app, models)).get("diffusion/sd2/v768"), ["Stable-diffusion/v2-1_768.safetensors", "Stable-diffusion/v2-1_768.yaml"], app);
  }
});

// identify names IP-Adapter weights subtype "ipadapter" (classify-tensors.ts). cubiq/ComfyUI_IPAdapter_plus
// registers folder_names_and_paths["ipadapter"] = models/ipadapter; Mikubill/sd-webui-controlnet (and Forge's
// built-in ControlNet) load IP-Adapters from models/ControlNet.
test("IP-Adapters: ComfyUI models/ipadapter, A1111/Forge models/ControlNet", async () => {
  const models: TinyModel[] = [
    { id: "diffusion/sd15/ip_adapter", model_type: "diffusion", subtype: "ipadapter", family: "sd15", format: "safetensors", files: { "ip-adapter_sd15.safetensors": "i" } },
  ];
  assert.deepEqual((await targets("comfyui", models)).get("diffusion/sd15/ip_adapter"), ["ipadapter/ip-adapter_sd15.safetensors"]);
  for (const app of ["a1111", "forge"]) assert.deepEqual((await targets(app, models)).get("diffusion/sd15/ip_adapter"), ["ControlNet/ip-adapter_sd15.safetensors"], app);
});

// AUTOMATIC1111 modules/upscaler_esrgan.py loads models/ESRGAN through spandrel with expected_architecture
// 'ESRGAN' (a SwinIR file there fails to load); SwinIR weights are read from models/SwinIR (cmd_args.py
// --swinir-models-path). ComfyUI's upscale_models loader takes every spandrel architecture.
test("upscalers: A1111/Forge put SwinIR in models/SwinIR and ESRGAN-family ones in models/ESRGAN; ComfyUI takes both", async () => {
  const models: TinyModel[] = [
    { id: "diffusion/esrgan/ultrasharp", model_type: "diffusion", subtype: "upscale", family: "esrgan", format: "pth", files: { "4x-UltraSharp.pth": "e" } },
    { id: "diffusion/swinir/swinir_4x", model_type: "diffusion", subtype: "upscale", family: "swinir", format: "pth", files: { "SwinIR_4x.pth": "s" } },
    { id: "diffusion/unknown/upscaler", model_type: "diffusion", subtype: "upscale", format: "pth", files: { "some-upscaler.pth": "u" } },
  ];
  for (const app of ["a1111", "forge"]) {
    const t = await targets(app, models);
    assert.deepEqual(t.get("diffusion/esrgan/ultrasharp"), ["ESRGAN/4x-UltraSharp.pth"], app);
    assert.deepEqual(t.get("diffusion/swinir/swinir_4x"), ["SwinIR/SwinIR_4x.pth"], app);
    assert.deepEqual(t.get("diffusion/unknown/upscaler"), ["ESRGAN/some-upscaler.pth"], app);
  }
  const comfy = await targets("comfyui", models);
  assert.deepEqual(comfy.get("diffusion/swinir/swinir_4x"), ["upscale_models/SwinIR_4x.pth"]);
  assert.deepEqual(comfy.get("diffusion/esrgan/ultrasharp"), ["upscale_models/4x-UltraSharp.pth"]);
});

test("a user config's exclude_families must be a list of strings", () => {
  const { dir, cleanup } = tempDir("mlib-appexp-");
  try {
    writeFileSync(join(dir, "mine.json"), JSON.stringify({ app: "mine", version: "*", mappings: [{ target_dir: "x", exclude_families: "swinir" }] }));
    assert.throws(() => resolveProfile("mine", null, dir), /exclude_families: must be a list of strings/);
  } finally {
    cleanup();
  }
});

// lmstudio.ai/docs (import-model): <models>/<publisher>/<repo>/<file>.gguf, and a vision model's mmproj GGUF must
// sit in the same folder; split GGUFs load from their first shard with the others beside it, names unchanged.
test("LM Studio: the mmproj sits beside its model (same folder, in the model or imported apart from the same repo); shards keep their names", async () => {
  const t = await targets("lmstudio", [
    { id: "llm/gemma3/gemma", model_type: "llm", family: "gemma3", format: "gguf", repo_id: "ggml-org/gemma-3-4b-it-GGUF", files: { "gemma-3-4b-it-Q4_K_M.gguf": "g", "mmproj-model-f16.gguf": "m" } },
    { id: "llm/qwen2vl/qwen", model_type: "llm", family: "qwen2vl", format: "gguf", repo_id: "bartowski/Qwen2-VL-7B-GGUF", files: { "Q4/Qwen2-VL-7B-00001-of-00002.gguf": "1", "Q4/Qwen2-VL-7B-00002-of-00002.gguf": "2" } },
    { id: "vision/clip/qwen_mmproj", model_type: "vision", family: "clip", format: "gguf", repo_id: "bartowski/Qwen2-VL-7B-GGUF", files: { "mmproj-Qwen2-VL-7B-f16.gguf": "p" } },
  ]);
  assert.deepEqual(t.get("llm/gemma3/gemma"), ["ggml-org/gemma-3-4b-it-GGUF/gemma-3-4b-it-Q4_K_M.gguf", "ggml-org/gemma-3-4b-it-GGUF/mmproj-model-f16.gguf"]);
  assert.deepEqual(t.get("llm/qwen2vl/qwen"), ["bartowski/Qwen2-VL-7B-GGUF/Qwen2-VL-7B-00001-of-00002.gguf", "bartowski/Qwen2-VL-7B-GGUF/Qwen2-VL-7B-00002-of-00002.gguf"]);
  assert.deepEqual(t.get("vision/clip/qwen_mmproj"), ["bartowski/Qwen2-VL-7B-GGUF/mmproj-Qwen2-VL-7B-f16.gguf"]);
});

// The same, for models imported from files (no repo_id: LM Studio's folder is local/<family>): the mmproj's family
// is "clip" (a projector's architecture), so it went to local/clip/, alone, and LM Studio never paired it. It goes
// beside the LLM whose name it shares (its file name without "mmproj" and the precision, or the GGUF general.name
// both record), into every folder such an LLM is in; an mmproj named after no model stays where it was.
test("LM Studio: an mmproj without repo_id goes beside the LLM it is named after; unpaired, it stays in local/<family>", async () => {
  const t = await targets("lmstudio", [
    { id: "llm/qwen2vl/qwen_q4", model_type: "llm", family: "qwen2vl", format: "gguf", official_name: "Qwen2.5-VL-7B-Instruct-Q4_K_M", files: { "Qwen2.5-VL-7B-Instruct-Q4_K_M.gguf": "q4" } },
    { id: "vision/clip/mmproj_qwen", model_type: "vision", family: "clip", format: "gguf", official_name: "mmproj-Qwen2.5-VL-7B-Instruct-f16", files: { "mmproj-Qwen2.5-VL-7B-Instruct-f16.gguf": "p" } },
    // A generic file name: paired by the name inside both GGUFs (general.name), here downloaded LLM with a repo.
    { id: "llm/gemma3/gemma_ud", model_type: "llm", family: "gemma3", format: "gguf", repo_id: "unsloth/gemma-3-4b-it-GGUF", official_name: "gemma-3-4b-it-UD-Q4_K_XL", description: "Gemma 3 4b It", files: { "gemma-3-4b-it-UD-Q4_K_XL.gguf": "g" } },
    { id: "llm/gemma3/gemma_local", model_type: "llm", family: "gemma3", format: "gguf", official_name: "Gemma 3 4b It", files: { "gemma-3-4b-it-Q8_0.gguf": "g8" } },
    { id: "vision/clip/mmproj_f16", model_type: "vision", family: "clip", format: "gguf", official_name: "mmproj-F16", description: "Gemma 3 4b It", files: { "mmproj-F16.gguf": "m" } },
    // Named after no model here (and a generic "mmproj-model-f16" pairs with nothing by its file name).
    { id: "vision/clip/llava_proj", model_type: "vision", family: "clip", format: "gguf", official_name: "mmproj-llava-v1.6-34b-f16", files: { "mmproj-llava-v1.6-34b-f16.gguf": "l" } },
    { id: "vision/clip/generic", model_type: "vision", family: "clip", format: "gguf", official_name: "mmproj-model-f16", files: { "mmproj-model-f16.gguf": "x" } },
    { id: "llm/llama/model_q4", model_type: "llm", family: "llama", format: "gguf", official_name: "model-Q4_K_M", files: { "model-Q4_K_M.gguf": "y" } },
  ]);
  assert.deepEqual(t.get("llm/qwen2vl/qwen_q4"), ["local/qwen2vl/Qwen2.5-VL-7B-Instruct-Q4_K_M.gguf"]);
  assert.deepEqual(t.get("vision/clip/mmproj_qwen"), ["local/qwen2vl/mmproj-Qwen2.5-VL-7B-Instruct-f16.gguf"]);
  assert.deepEqual(t.get("vision/clip/mmproj_f16"), ["local/gemma3/mmproj-F16.gguf", "unsloth/gemma-3-4b-it-GGUF/mmproj-F16.gguf"]);
  assert.deepEqual(t.get("vision/clip/llava_proj"), ["local/clip/mmproj-llava-v1.6-34b-f16.gguf"]);
  assert.deepEqual(t.get("vision/clip/generic"), ["local/clip/mmproj-model-f16.gguf"]);
});

// AUTOMATIC1111 runs SD 1/2/XL/3 only (Flux: AUTOMATIC1111/stable-diffusion-webui#16311, open); Forge and ComfyUI
// run Flux checkpoints and LoRAs.
test("Flux checkpoints and LoRAs: not into A1111, into Forge and ComfyUI", async () => {
  const models: TinyModel[] = [
    { id: "diffusion/flux/flux_ckpt", model_type: "diffusion", subtype: "checkpoints", family: "flux", format: "safetensors", files: { "flux1-dev-fp8.safetensors": "c" } },
    { id: "diffusion/flux/flux_lora", model_type: "diffusion", subtype: "loras", family: "flux", format: "safetensors", files: { "flux-detail.safetensors": "l" } },
    { id: "diffusion/sdxl/sdxl_lora", model_type: "diffusion", subtype: "loras", family: "sdxl", format: "safetensors", files: { "sdxl-detail.safetensors": "s" } },
  ];
  const a1111 = await targets("a1111", models);
  assert.deepEqual([...a1111.keys()], ["diffusion/sdxl/sdxl_lora"]);
  const forge = await targets("forge", models);
  assert.deepEqual(forge.get("diffusion/flux/flux_ckpt"), ["Stable-diffusion/flux1-dev-fp8.safetensors"]);
  assert.deepEqual(forge.get("diffusion/flux/flux_lora"), ["Lora/flux-detail.safetensors"]);
  assert.deepEqual((await targets("comfyui", models)).get("diffusion/flux/flux_lora"), ["loras/flux-detail.safetensors"]);
});

// city96/ComfyUI-GGUF loader.py IMG_ARCH_LIST: the image architectures it writes. identify reads a GGUF's family
// from general.architecture and, not knowing "flux", calls the file an LLM (formats/gguf.ts modelTypeOf).
test("llama.cpp and LM Studio: a ComfyUI-GGUF image model identified as an LLM (family = its architecture) is still left out", async () => {
  const models: TinyModel[] = [
    { id: "llm/flux/flux_q4", model_type: "llm", family: "flux", format: "gguf", files: { "flux1-schnell-Q4_0.gguf": "f" } },
    { id: "llm/wan/wan_q8", model_type: "llm", family: "wan", format: "gguf", files: { "wan2.1-t2v-14b-Q8_0.gguf": "w" } },
    { id: "llm/qwen2/qwen", model_type: "llm", family: "qwen2", format: "gguf", files: { "qwen2.5-7b-Q4_K_M.gguf": "q" } },
  ];
  assert.deepEqual([...(await targets("llamacpp", models)).keys()], ["llm/qwen2/qwen"]);
  assert.deepEqual([...(await targets("lmstudio", models)).keys()], ["llm/qwen2/qwen"]);
});
