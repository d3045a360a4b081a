// Each classification rule with hand-made tensor names and shapes (the header is all we read),
// plus the config.json side: readHfConfig, familyFromConfig, modelTypeFromConfig.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { classifyTensors, type ClassifyContext, type TensorLike } from "../../src/formats/classify-tensors.js";
import { familyFromConfig, modelTypeFromConfig, readHfConfig, subtypeFromConfig, HF_CONFIG_CAP } from "../../src/formats/hf-config.js";

/** `{name: shape}` → tensors, all F16 unless a dtype is given. */
function t(map: Record<string, number[]>, dtype = "F16"): TensorLike[] {
  return Object.entries(map).map(([name, shape]) => ({ name, shape, dtype }));
}

function expectClass(
  tensors: TensorLike[],
  want: { modelType?: string; subtype?: string | null; family?: string | null; loraFormat?: string | null },
  context: ClassifyContext = {},
) {
  const got = classifyTensors(tensors, context);
  if ("modelType" in want) assert.equal(got.modelType, want.modelType, "modelType");
  if ("subtype" in want) assert.equal(got.subtype, want.subtype, "subtype");
  if ("family" in want) assert.equal(got.family, want.family, "family");
  if ("loraFormat" in want) assert.equal(got.loraFormat, want.loraFormat, "loraFormat");
  return got;
}

// ---------------------------------------------------------------------------------------------
// Fixtures: the smallest key sets that still carry each architecture's telling names and shapes.

const DM = "model.diffusion_model.";
function ldmCheckpoint(contextWidth: number, extra: Record<string, number[]> = {}): TensorLike[] {
  return t({
    [`${DM}input_blocks.0.0.weight`]: [320, 4, 3, 3],
    [`${DM}input_blocks.1.1.transformer_blocks.0.attn2.to_q.weight`]: [320, 320],
    [`${DM}input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight`]: [320, contextWidth],
    [`${DM}middle_block.1.transformer_blocks.0.attn2.to_k.weight`]: [1280, contextWidth],
    [`${DM}out.2.weight`]: [4, 320, 3, 3],
    "first_stage_model.encoder.down.0.block.0.conv1.weight": [128, 128, 3, 3],
    "first_stage_model.decoder.up.0.block.0.conv1.weight": [128, 128, 3, 3],
    "first_stage_model.quant_conv.weight": [8, 8, 1, 1],
    ...extra,
  });
}

const LLAMA_LAYER = (vocab: number, hidden: number, kv: number, extra: Record<string, number[]> = {}) =>
  t({
    "model.embed_tokens.weight": [vocab, hidden],
    "model.layers.0.self_attn.q_proj.weight": [hidden, hidden],
    "model.layers.0.self_attn.k_proj.weight": [kv, hidden],
    "model.layers.0.self_attn.v_proj.weight": [kv, hidden],
    "model.layers.0.self_attn.o_proj.weight": [hidden, hidden],
    "model.layers.0.mlp.gate_proj.weight": [hidden * 2, hidden],
    "model.layers.0.mlp.up_proj.weight": [hidden * 2, hidden],
    "model.layers.0.mlp.down_proj.weight": [hidden, hidden * 2],
    "model.layers.0.input_layernorm.weight": [hidden],
    "model.layers.1.input_layernorm.weight": [hidden],
    "model.norm.weight": [hidden],
    "lm_head.weight": [vocab, hidden],
    ...extra,
  });

describe("diffusion checkpoints", () => {
  test("SD1, SD2, SDXL, SDXL refiner by the attn2.to_k width (768 / 1024 / 2048 / 1280)", () => {
    expectClass(ldmCheckpoint(768), { modelType: "diffusion", subtype: "checkpoints", family: "sd1" });
    expectClass(ldmCheckpoint(1024), { modelType: "diffusion", subtype: "checkpoints", family: "sd2" });
    expectClass(ldmCheckpoint(2048), { modelType: "diffusion", subtype: "checkpoints", family: "sdxl" });
    expectClass(ldmCheckpoint(1280), { modelType: "diffusion", subtype: "checkpoints", family: "sdxl-refiner" });
  });

  test("SDXL without a readable attn2 width: conditioner.embedders.1 tells", () => {
    expectClass(
      t({
        [`${DM}input_blocks.0.0.weight`]: [320, 4, 3, 3],
        "conditioner.embedders.0.transformer.text_model.embeddings.token_embedding.weight": [49408, 768],
        "conditioner.embedders.1.model.token_embedding.weight": [49408, 1280],
      }),
      { modelType: "diffusion", subtype: "checkpoints", family: "sdxl" },
    );
  });

  test("a diffusers UNet by its attn2.to_k width; add_embedding means SDXL", () => {
    const unet = (w: number, extra: Record<string, number[]> = {}) =>
      t({
        "conv_in.weight": [320, 4, 3, 3],
        "time_embedding.linear_1.weight": [1280, 320],
        "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight": [640, w],
        "mid_block.attentions.0.proj_in.weight": [1280, 1280],
        "up_blocks.0.resnets.0.conv1.weight": [1280, 2560, 3, 3],
        ...extra,
      });
    expectClass(unet(768), { modelType: "diffusion", subtype: "diffusion_models", family: "sd1" });
    expectClass(unet(2048), { modelType: "diffusion", subtype: "diffusion_models", family: "sdxl" });
    const noAttn = t({ "down_blocks.0.resnets.0.conv1.weight": [320, 320, 3, 3], "mid_block.resnets.0.conv1.weight": [1280, 1280, 3, 3], "add_embedding.linear_1.weight": [1280, 2816] });
    expectClass(noAttn, { modelType: "diffusion", subtype: "diffusion_models", family: "sdxl" });
  });

  // The transformer or UNet alone is a diffusion model (ComfyUI diffusion_models/), not a checkpoint.
  test("FLUX in BFL, ComfyUI-prefixed and diffusers layouts", () => {
    const bfl = {
      "double_blocks.0.img_attn.qkv.weight": [9216, 3072],
      "single_blocks.0.linear1.weight": [21504, 3072],
      "img_in.weight": [3072, 64],
      "txt_in.weight": [3072, 4096],
      "time_in.in_layer.weight": [3072, 256],
    };
    expectClass(t(bfl), { modelType: "diffusion", subtype: "diffusion_models", family: "flux" });
    const prefixed = Object.fromEntries(Object.entries(bfl).map(([k, v]) => [DM + k, v]));
    expectClass(t(prefixed), { modelType: "diffusion", subtype: "diffusion_models", family: "flux" });
    // With its VAE and text encoders in the same file (ComfyUI's all-in-one FLUX checkpoints): a checkpoint.
    const bundled = { ...prefixed, "vae.encoder.down.0.block.0.conv1.weight": [128, 128, 3, 3], "text_encoders.clip_l.transformer.text_model.final_layer_norm.weight": [768] };
    expectClass(t(bundled), { modelType: "diffusion", subtype: "checkpoints", family: "flux" });
    expectClass(
      t({
        "x_embedder.weight": [3072, 64],
        "context_embedder.weight": [3072, 4096],
        "transformer_blocks.0.attn.add_q_proj.weight": [3072, 3072],
        "single_transformer_blocks.0.attn.to_q.weight": [3072, 3072],
      }),
      { modelType: "diffusion", subtype: "diffusion_models", family: "flux" },
    );
  });

  test("SD3: joint_blocks, x_embedder + context_embedder, or the diffusers MMDiT", () => {
    expectClass(t({ [`${DM}joint_blocks.0.x_block.attn.qkv.weight`]: [4608, 1536] }), { modelType: "diffusion", subtype: "diffusion_models", family: "sd3" });
    expectClass(t({ [`${DM}x_embedder.proj.weight`]: [1536, 16, 2, 2], [`${DM}context_embedder.weight`]: [1536, 4096] }), {
      modelType: "diffusion",
      family: "sd3",
    });
    expectClass(
      t({ "pos_embed.proj.weight": [1536, 16, 2, 2], "context_embedder.weight": [1536, 4096], "transformer_blocks.0.attn.add_q_proj.weight": [1536, 1536] }),
      { modelType: "diffusion", subtype: "diffusion_models", family: "sd3" },
    );
  });
});

describe("diffusion components", () => {
  test("a VAE alone, LDM and diffusers layouts", () => {
    expectClass(
      t({
        "encoder.down.0.block.0.conv1.weight": [128, 128, 3, 3],
        "decoder.up.0.block.0.conv1.weight": [128, 128, 3, 3],
        "quant_conv.weight": [8, 8, 1, 1],
        "post_quant_conv.weight": [4, 4, 1, 1],
      }),
      { modelType: "diffusion", subtype: "vae" },
    );
    expectClass(
      t({
        "encoder.down_blocks.0.resnets.0.conv1.weight": [128, 128, 3, 3],
        "decoder.up_blocks.0.resnets.0.conv1.weight": [512, 512, 3, 3],
        "decoder.mid_block.attentions.0.to_q.weight": [512, 512],
      }),
      { modelType: "diffusion", subtype: "vae" },
    );
  });

  test("ControlNets (LDM control_model, diffusers controlnet_cond_embedding) with their base", () => {
    expectClass(
      t({
        "control_model.input_hint_block.0.weight": [16, 3, 3, 3],
        "control_model.zero_convs.0.0.weight": [320, 320, 1, 1],
        "control_model.input_blocks.1.1.transformer_blocks.0.attn2.to_k.weight": [320, 768],
      }),
      { modelType: "diffusion", subtype: "controlnet", family: "sd1" },
    );
    expectClass(
      t({
        "controlnet_cond_embedding.conv_in.weight": [16, 3, 3, 3],
        "down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.weight": [640, 2048],
        "mid_block.resnets.0.conv1.weight": [1280, 1280, 3, 3],
      }),
      { modelType: "diffusion", subtype: "controlnet", family: "sdxl" },
    );
  });

  test("textual-inversion embeddings, family from the token width", () => {
    expectClass(t({ emb_params: [4, 768] }), { modelType: "diffusion", subtype: "embeddings", family: "sd1" });
    expectClass(t({ emb_params: [2, 1024] }), { modelType: "diffusion", subtype: "embeddings", family: "sd2" });
    expectClass(t({ clip_l: [2, 768], clip_g: [2, 1280] }), { modelType: "diffusion", subtype: "embeddings", family: "sdxl" });
    expectClass(t({ "string_to_param.*": [1, 768] }), { modelType: "diffusion", subtype: "embeddings", family: "sd1" });
    expectClass(t({ "<cat-toy>": [768] }), { modelType: "diffusion", subtype: "embeddings", family: "sd1" });
  });

  test("CLIP text encoders by width, T5 encoders", () => {
    const clip = (w: number, extra: Record<string, number[]> = {}) =>
      t({
        "text_model.embeddings.token_embedding.weight": [49408, w],
        "text_model.encoder.layers.0.self_attn.q_proj.weight": [w, w],
        "text_model.final_layer_norm.weight": [w],
        ...extra,
      });
    expectClass(clip(768), { modelType: "diffusion", subtype: "clip", family: "clip-l" });
    expectClass(clip(1280, { "text_projection.weight": [1280, 1280] }), { modelType: "diffusion", subtype: "clip", family: "clip-g" });
    expectClass(
      t({
        "shared.weight": [32128, 4096],
        "encoder.block.0.layer.0.SelfAttention.q.weight": [4096, 4096],
        "encoder.block.0.layer.1.DenseReluDense.wi_0.weight": [10240, 4096],
        "encoder.final_layer_norm.weight": [4096],
      }),
      { modelType: "diffusion", subtype: "t5", family: "t5" },
    );
    // With a decoder it is a whole seq2seq T5, a language model.
    expectClass(
      t({ "shared.weight": [32128, 512], "encoder.block.0.layer.0.SelfAttention.q.weight": [512, 512], "decoder.block.0.layer.0.SelfAttention.q.weight": [512, 512] }),
      { modelType: "llm", subtype: null, family: "t5" },
    );
  });

  test("upscalers: ESRGAN old and new layouts, Real-ESRGAN", () => {
    const want = { modelType: "diffusion", subtype: "upscale", family: "esrgan" };
    expectClass(t({ "model.0.weight": [64, 3, 3, 3], "model.1.sub.0.RDB1.conv1.0.weight": [32, 64, 3, 3] }), want);
    expectClass(t({ "conv_first.weight": [64, 3, 3, 3], "RRDB_trunk.0.RDB1.conv1.weight": [32, 64, 3, 3], "trunk_conv.weight": [64, 64, 3, 3] }), want);
    expectClass(t({ "conv_first.weight": [64, 3, 3, 3], "body.0.rdb1.conv1.weight": [32, 64, 3, 3], "conv_body.weight": [64, 64, 3, 3] }), want);
  });

  test("IP-Adapters are not mistaken for the base model", () => {
    expectClass(t({ "image_proj.proj.weight": [3072, 1024], "ip_adapter.1.to_k_ip.weight": [640, 2048] }), {
      modelType: "diffusion",
      subtype: "ipadapter",
      family: "sdxl",
    });
  });
});

describe("LLMs, encoders, audio, vision", () => {
  test("llama-shaped LLMs: family from names where they tell, else from the vocabulary", () => {
    const l3 = expectClass(LLAMA_LAYER(128256, 4096, 1024), { modelType: "llm", subtype: null, family: "llama", loraFormat: null });
    assert.equal(l3.blockCount, 2);
    assert.equal(l3.embeddingLength, 4096);
    expectClass(LLAMA_LAYER(32000, 4096, 4096), { modelType: "llm", family: "llama" }); // Llama 2 7B: no GQA
    expectClass(LLAMA_LAYER(32000, 4096, 1024), { modelType: "llm", family: "mistral" }); // Mistral 7B v0.1
    expectClass(LLAMA_LAYER(32768, 4096, 1024), { modelType: "llm", family: "mistral" }); // v0.3
    expectClass(LLAMA_LAYER(32000, 2048, 256), { modelType: "llm", family: "llama" }); // TinyLlama
    expectClass(LLAMA_LAYER(1000, 896, 128, { "model.layers.0.self_attn.q_proj.bias": [896] }), { modelType: "llm", family: "qwen" });
    expectClass(LLAMA_LAYER(151936, 1024, 512), { modelType: "llm", family: "qwen" });
    expectClass(LLAMA_LAYER(1000, 2304, 1024, { "model.layers.0.pre_feedforward_layernorm.weight": [2304] }), { modelType: "llm", family: "gemma" });
    expectClass(LLAMA_LAYER(256000, 2048, 256), { modelType: "llm", family: "gemma" });
    expectClass(LLAMA_LAYER(1000, 64, 64, { "model.layers.0.block_sparse_moe.gate.weight": [8, 64] }), { modelType: "llm", family: "mixtral" });
    // Unusual names and a vocabulary nobody ships: an LLM of unknown family, not a guess.
    expectClass(LLAMA_LAYER(100, 100, 100), { modelType: "llm", family: null });
  });

  test("phi, falcon, gpt2, gpt-neox by their own names", () => {
    expectClass(t({ "model.embed_tokens.weight": [32064, 3072], "model.layers.0.self_attn.qkv_proj.weight": [9216, 3072], "model.layers.0.mlp.gate_up_proj.weight": [16384, 3072] }), {
      modelType: "llm",
      family: "phi",
    });
    expectClass(t({ "model.layers.0.self_attn.dense.weight": [2560, 2560], "model.layers.0.mlp.fc1.weight": [10240, 2560], "lm_head.weight": [51200, 2560] }), {
      modelType: "llm",
      family: "phi",
    });
    expectClass(t({ "transformer.word_embeddings.weight": [65024, 4544], "transformer.h.0.self_attention.query_key_value.weight": [4672, 4544] }), {
      modelType: "llm",
      family: "falcon",
    });
    expectClass(t({ "transformer.wte.weight": [50257, 768], "transformer.h.0.attn.c_attn.weight": [768, 2304], "transformer.h.0.mlp.c_fc.weight": [768, 3072] }), {
      modelType: "llm",
      family: "gpt2",
    });
    expectClass(t({ "gpt_neox.embed_in.weight": [50304, 512], "gpt_neox.layers.0.attention.query_key_value.weight": [1536, 512] }), { modelType: "llm", family: "gpt_neox" });
  });

  test("BERT-like encoders are embedding models; with a masked-LM head they are language models", () => {
    const bert = {
      "embeddings.word_embeddings.weight": [30522, 384],
      "encoder.layer.0.attention.self.query.weight": [384, 384],
      "encoder.layer.5.attention.self.query.weight": [384, 384],
      "pooler.dense.weight": [384, 384],
    };
    const got = expectClass(t(bert), { modelType: "embedding", subtype: null, family: "bert" });
    assert.equal(got.blockCount, 6);
    expectClass(t({ ...bert, "cls.predictions.bias": [30522] }), { modelType: "llm", family: "bert" });
    expectClass(t({ "roberta.embeddings.word_embeddings.weight": [50265, 768], "roberta.encoder.layer.0.attention.self.query.weight": [768, 768] }), {
      modelType: "embedding",
      family: "roberta",
    });
  });

  test("Whisper (openai and transformers names) is audio, not an LLM", () => {
    expectClass(t({ "encoder.conv1.weight": [384, 80, 3], "encoder.conv2.weight": [384, 384, 3], "decoder.token_embedding.weight": [51865, 384] }), {
      modelType: "audio",
      family: "whisper",
    });
    expectClass(
      t({
        "model.encoder.conv1.weight": [384, 80, 3],
        "model.decoder.embed_tokens.weight": [51865, 384],
        "model.decoder.layers.0.self_attn.q_proj.weight": [384, 384],
      }),
      { modelType: "audio", family: "whisper" },
    );
  });

  test("vision encoders, and CLIP with both towers as an embedding model", () => {
    expectClass(t({ "vit.embeddings.patch_embeddings.projection.weight": [768, 3, 16, 16], "vit.encoder.layer.0.attention.attention.query.weight": [768, 768] }), {
      modelType: "vision",
      family: "vit",
    });
    expectClass(t({ "vision_model.embeddings.patch_embedding.weight": [1024, 3, 14, 14], "vision_model.encoder.layers.0.self_attn.q_proj.weight": [1024, 1024] }), {
      modelType: "vision",
      family: "clip",
    });
    expectClass(
      t({
        "vision_model.embeddings.patch_embedding.weight": [768, 3, 32, 32],
        "text_model.encoder.layers.0.self_attn.q_proj.weight": [512, 512],
        "text_model.embeddings.token_embedding.weight": [49408, 512],
      }),
      { modelType: "embedding", family: "clip" },
    );
  });

  test("unknown stays unknown; parameter count and dtypes are exact", () => {
    const got = classifyTensors([
      { name: "codes", shape: [1, 2, 828], dtype: "I64" },
      { name: "mask", shape: [3, 5], dtype: "U8" },
      { name: "scale", shape: [], dtype: "F32" },
      { name: "more", shape: [2], dtype: "U8" },
    ]);
    assert.equal(got.modelType, "unknown");
    assert.equal(got.subtype, null);
    assert.equal(got.family, null);
    assert.equal(got.parameterCount, 1656 + 15 + 1 + 2);
    assert.deepEqual(got.dtypes, ["F32", "I64", "U8"]);
    assert.equal(classifyTensors([]).dtypes, null);
    assert.equal(classifyTensors([]).parameterCount, 0);
  });
});

describe("LoRAs", () => {
  const kohyaSd = (contextWidth: number, teWidth: number) =>
    t({
      "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_down.weight": [4, contextWidth],
      "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lora_up.weight": [320, 4],
      "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.alpha": [],
      "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": [4, teWidth],
      "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_up.weight": [teWidth, 4],
    });

  test("kohya SD1 / SD2 / SDXL by the attn2 context width, lora_te2_ and input_blocks_4_1", () => {
    expectClass(kohyaSd(768, 768), { modelType: "diffusion", subtype: "loras", family: "sd1", loraFormat: "kohya" });
    expectClass(kohyaSd(1024, 1024), { modelType: "diffusion", subtype: "loras", family: "sd2", loraFormat: "kohya" });
    expectClass(kohyaSd(2048, 768), { modelType: "diffusion", subtype: "loras", family: "sdxl", loraFormat: "kohya" });
    expectClass(t({ "lora_te2_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": [4, 1280] }), { family: "sdxl", modelType: "diffusion", loraFormat: "kohya" });
    expectClass(t({ "lora_unet_input_blocks_4_1_proj_in.lora_down.weight": [4, 640] }), { family: "sdxl", modelType: "diffusion", loraFormat: "kohya" });
    // A text-encoder-only LoRA: the text encoder's width tells SD1 (CLIP-L) from SD2 (OpenCLIP-H).
    expectClass(t({ "lora_te_text_model_encoder_layers_0_self_attn_q_proj.lora_down.weight": [4, 1024] }), { family: "sd2", loraFormat: "kohya", modelType: "diffusion" });
  });

  test("kohya FLUX (lora_unet_double_blocks_)", () => {
    expectClass(t({ "lora_unet_double_blocks_0_img_attn_qkv.lora_down.weight": [16, 3072], "lora_unet_double_blocks_0_img_attn_qkv.lora_up.weight": [9216, 16] }), {
      modelType: "diffusion",
      subtype: "loras",
      family: "flux",
      loraFormat: "kohya",
    });
  });

  test("diffusers LoRAs: lora.down, processor to_k_lora, lora_A under unet./transformer.", () => {
    expectClass(t({ "unet.down_blocks.1.attentions.0.transformer_blocks.0.attn2.to_k.lora.down.weight": [4, 2048] }), {
      modelType: "diffusion",
      subtype: "loras",
      family: "sdxl",
      loraFormat: "diffusers",
    });
    expectClass(t({ "down_blocks.0.attentions.0.transformer_blocks.0.attn2.processor.to_k_lora.down.weight": [4, 768] }), { family: "sd1", loraFormat: "diffusers", modelType: "diffusion" });
    expectClass(t({ "unet.down_blocks.0.attentions.0.transformer_blocks.0.attn2.to_k.lora_A.weight": [4, 768] }), { family: "sd1", loraFormat: "diffusers", modelType: "diffusion" });
    // MMDiT blocks alone: 3072 wide is FLUX, narrower is SD3.
    expectClass(t({ "transformer.transformer_blocks.0.attn.to_k.lora_A.weight": [16, 3072], "transformer.transformer_blocks.0.attn.to_k.lora_B.weight": [3072, 16] }), {
      family: "flux",
      loraFormat: "diffusers",
      modelType: "diffusion",
    });
    expectClass(t({ "transformer.transformer_blocks.0.attn.to_k.lora_A.weight": [16, 1536] }), { family: "sd3", loraFormat: "diffusers", modelType: "diffusion" });
  });

  test("PEFT adapters on an LLM are LLM LoRAs", () => {
    expectClass(
      t({
        "base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight": [8, 4096],
        "base_model.model.model.layers.0.self_attn.q_proj.lora_B.weight": [4096, 8],
      }),
      { modelType: "llm", subtype: "loras", family: null, loraFormat: "peft" },
    );
  });

  test("xlabs, LoKR and LoHa", () => {
    expectClass(
      t({ "double_blocks.0.processor.qkv_lora1.down.weight": [16, 3072], "double_blocks.0.processor.qkv_lora1.up.weight": [9216, 16] }),
      { modelType: "diffusion", subtype: "loras", family: "flux", loraFormat: "xlabs" },
    );
    expectClass(t({ "diffusion_model.double_blocks.0.img_attn.qkv.lokr_w1": [32, 96], "diffusion_model.double_blocks.0.img_attn.qkv.lokr_w2": [32, 288] }), {
      family: "flux",
      loraFormat: "lokr",
      subtype: "loras",
      modelType: "diffusion",
    });
    // LoKR context width is the Kronecker product of the factors' input widths: 8 × 96 = 768.
    expectClass(
      t({ "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lokr_w1": [8, 8], "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.lokr_w2": [40, 96] }),
      { family: "sd1", loraFormat: "lokr", modelType: "diffusion" },
    );
    expectClass(
      t({
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.hada_w1_a": [320, 4],
        "lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn2_to_k.hada_w1_b": [4, 1024],
      }),
      { family: "sd2", loraFormat: "loha", modelType: "diffusion" },
    );
  });

  test("MLX LoRA (lowercase lora_a/lora_b on model.layers) is an LLM adapter", () => {
    expectClass(t({ "model.layers.30.self_attn.q_proj.lora_a": [4096, 8], "model.layers.30.self_attn.q_proj.lora_b": [8, 4096] }, "F32"), {
      modelType: "llm",
      subtype: "loras",
      loraFormat: "mlx",
    });
  });

  test("cloneofsimo (unet:N:down) LoRA: SD1 from the 768 context in its down widths", () => {
    expectClass(t({ "<s1>": [768], "unet:0:down": [1, 320], "unet:0:up": [320, 1], "unet:1:down": [1, 768], "text_encoder:0:down": [1, 768] }), {
      modelType: "diffusion",
      subtype: "loras",
      family: "sd1",
      loraFormat: null,
    });
  });

  test("trainer metadata gives the family when the shapes do not", () => {
    const convOnly = t({ "lora_unet_down_blocks_0_resnets_0_conv1.lora_down.weight": [4, 320, 3, 3] });
    expectClass(convOnly, { family: null, loraFormat: "kohya", modelType: "diffusion" });
    expectClass(convOnly, { family: "sdxl" }, { metadata: { ss_base_model_version: "sdxl_base_v1-0" } });
    expectClass(convOnly, { family: "sd1", modelType: "diffusion" }, { metadata: { "modelspec.architecture": "stable-diffusion-v1/lora" } });
    // Shapes win over metadata.
    expectClass(kohyaSd(768, 768), { family: "sd1" }, { metadata: { ss_base_model_version: "sdxl_base_v1-0" } });
  });
});

describe("config.json beats names", () => {
  test("family = lowercased model_type, type from architectures", () => {
    const names = LLAMA_LAYER(128256, 4096, 1024);
    expectClass(names, { modelType: "llm", family: "qwen3" }, { config: { model_type: "Qwen3", architectures: ["Qwen3ForCausalLM"] } });
    const got = classifyTensors(names, { config: { model_type: "mistral", architectures: ["MistralForCausalLM"], max_position_embeddings: 32768, num_hidden_layers: 32 } });
    assert.equal(got.family, "mistral");
    assert.equal(got.architecture, "MistralForCausalLM");
    assert.equal(got.contextLength, 32768);
    assert.equal(got.blockCount, 32);
    // A sentence-transformers folder makes a decoder an embedding model (e.g. Qwen3-Embedding).
    expectClass(names, { modelType: "embedding", family: "qwen3" }, { config: { model_type: "qwen3", isSentenceTransformers: true } });
  });

  test("a config's text encoder class sets subtype clip/t5; a LoRA stays a LoRA", () => {
    const t5 = t({ "encoder.block.0.layer.0.SelfAttention.q.weight": [4096, 4096], "shared.weight": [32128, 4096] });
    expectClass(t5, { modelType: "diffusion", subtype: "t5", family: "t5" }, { config: { model_type: "t5", architectures: ["T5EncoderModel"] } });
    const mlx = t({ "model.layers.0.self_attn.q_proj.lora_a": [4096, 8] });
    expectClass(mlx, { modelType: "llm", subtype: "loras", family: "llama", loraFormat: "mlx" }, { config: { model_type: "llama", architectures: ["LlamaForCausalLM"] } });
  });

  test("modelTypeFromConfig / familyFromConfig / subtypeFromConfig", () => {
    assert.equal(modelTypeFromConfig({ architectures: ["LlamaForCausalLM"] }), "llm");
    assert.equal(modelTypeFromConfig({ architectures: ["GPT2LMHeadModel"] }), "llm");
    assert.equal(modelTypeFromConfig({ architectures: ["BertModel"] }), "embedding");
    assert.equal(modelTypeFromConfig({ model_type: "xlm-roberta" }), "embedding");
    assert.equal(modelTypeFromConfig({ architectures: ["WhisperForConditionalGeneration"] }), "audio");
    assert.equal(modelTypeFromConfig({ architectures: ["ViTForImageClassification"] }), "vision");
    assert.equal(modelTypeFromConfig({ architectures: ["CLIPVisionModelWithProjection"] }), "vision");
    assert.equal(modelTypeFromConfig({ architectures: ["CLIPTextModel"] }), "diffusion");
    assert.equal(modelTypeFromConfig({ _class_name: "AutoencoderKL" }), "diffusion");
    assert.equal(modelTypeFromConfig({ model_type: "somethingnew" }), null);
    assert.equal(modelTypeFromConfig(null), null);
    assert.equal(familyFromConfig({ model_type: " Gemma2 " }), "gemma2");
    assert.equal(familyFromConfig({ _class_name: "FluxTransformer2DModel" }), "flux");
    assert.equal(familyFromConfig({ architectures: ["X"] }), null);
    assert.equal(subtypeFromConfig({ _class_name: "AutoencoderKL" }), "vae");
    assert.equal(subtypeFromConfig({ _class_name: "ControlNetModel" }), "controlnet");
    // A pipeline's transformer or UNet alone is a diffusion model (ComfyUI diffusion_models/), not a checkpoint.
    assert.equal(subtypeFromConfig({ _class_name: "FluxTransformer2DModel" }), "diffusion_models");
    assert.equal(subtypeFromConfig({ _class_name: "UNet2DConditionModel" }), "diffusion_models");
    assert.equal(subtypeFromConfig({ architectures: ["CLIPTextModelWithProjection"] }), "clip");
    assert.equal(subtypeFromConfig({ architectures: ["T5EncoderModel"] }), "t5");
    assert.equal(subtypeFromConfig({ architectures: ["T5EncoderModel"], isSentenceTransformers: true }), null);
  });
});

describe("readHfConfig", () => {
  test("absent, valid, invalid, too large, not an object, sentence-transformers", async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const warnings: string[] = [];
      assert.equal(await readHfConfig(dir, warnings), null);
      assert.equal(await readHfConfig(path.join(dir, "missing"), warnings), null);
      assert.equal(warnings.length, 0);

      fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ model_type: "LLaMA", architectures: ["LlamaForCausalLM"] }));
      assert.deepEqual(await readHfConfig(dir, warnings), { model_type: "LLaMA", architectures: ["LlamaForCausalLM"] });
      assert.equal(warnings.length, 0);

      fs.writeFileSync(path.join(dir, "config.json"), "{ not json");
      assert.equal(await readHfConfig(dir, warnings), null);
      assert.equal(warnings.length, 1);
      assert.match(warnings[0], /config\.json: ignored: not valid JSON/);
      assert.ok(warnings[0].includes(dir), "the warning names the file");

      fs.writeFileSync(path.join(dir, "config.json"), "[1,2]");
      assert.equal(await readHfConfig(dir, warnings), null);
      assert.match(warnings[1], /not an object/);

      fs.writeFileSync(path.join(dir, "config.json"), Buffer.alloc(HF_CONFIG_CAP + 1, 0x20));
      assert.equal(await readHfConfig(dir, warnings), null);
      assert.match(warnings[2], /beyond the 4194304-byte cap/);

      fs.writeFileSync(path.join(dir, "config.json"), JSON.stringify({ model_type: "bert" }));
      fs.writeFileSync(path.join(dir, "config_sentence_transformers.json"), "{}");
      const st = await readHfConfig(dir);
      assert.deepEqual(st, { model_type: "bert", isSentenceTransformers: true });
      assert.equal(modelTypeFromConfig(st), "embedding");
      fs.rmSync(path.join(dir, "config.json"));
      assert.deepEqual(await readHfConfig(dir), { isSentenceTransformers: true });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
