// `mlib demo`: a tour that needs no input. It writes a few tiny but real model files (a llama GGUF, a
// kohya SD 1.x LoRA, a 3-shard safetensors model with its config.json) into a temp folder, then identifies,
// imports, searches, re-imports one (dedup), and verifies them in a fresh temp library, saying what it does.
// The temp folders are removed at the end unless --keep. With an explicit --library DIR the demo models go
// into DIR, which is never removed; $MODEL_LIBRARY_HOME is ignored, so a real library is never touched by accident.
import type { Command } from "commander";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import type { TensorSpec } from "./safetensors-writer.js";
import type { Identification } from "../formats/types.js";
import type { ImportResult } from "../operations/import-models.js";
import type { ModelLibrary } from "../store/model-library.js";
import { commonOptions, markFailed, withCommonOptions } from "../cli/common.js";
import { describeVerify } from "../cli/commands/verify.js";
import { formatBytes, formatCount, formatMs, out, printJson } from "../cli/output.js";

export function register(program: Command): void {
  const cmd = program
    .command("demo")
    .description("a two-second tour in a temp folder: write sample models, import, search, dedup, verify")
    .option("--keep", "keep the temp library and sample files (to explore them with the commands printed at the end)")
    .action(async () => {
      const common = commonOptions(cmd);
      const keep = Boolean(cmd.opts<{ keep?: boolean }>().keep);
      const summary = await runDemo({ keep, library: common.library, say: common.json ? () => undefined : out });
      if (!summary.verify.ok || summary.failed > 0) markFailed();
      if (common.json) printJson(summary);
    });
  withCommonOptions(cmd);
}

export interface DemoSummary {
  libraryRoot: string;
  sourceDir: string;
  kept: boolean;
  files: { file: string; format: string; modelType: string; subtype: string | null; family: string | null; quantization: string | null; parameterCount: number | null }[];
  imported: { source: string; modelId: string; format: string | null; files: number; bytes: number }[];
  failed: number;
  importResults: ImportResult[];
  searches: { query: string; totalCount: number; ids: string[] }[];
  dedup: { source: string; status: string; duplicateOf: string | null };
  verify: { ok: boolean; models: number; failed: number; results: { id: string; ok: boolean; files: number }[] };
  elapsedMs: number;
}

export async function runDemo(options: { keep: boolean; library: string | null; say: (line?: string) => void }): Promise<DemoSummary> {
  const { say } = options;
  // The API is loaded here, not at start-up, so other commands do not pay for it.
  const [{ identify }, { importModels }, { ModelLibrary }, { verifyModels }] = await Promise.all([
    import("../identify/identify.js"),
    import("../operations/import-models.js"),
    import("../store/model-library.js"),
    import("../operations/verify-models.js"),
  ]);
  const started = performance.now();
  const tmp = await mkdtemp(join(tmpdir(), "mlib-demo-"));
  const sourceDir = join(tmp, "downloads");
  const libraryRoot = options.library ?? join(tmp, "library");
  let lib: ModelLibrary | null = null;
  try {
    say("mlib demo: a tour of model-library in a throw-away folder");
    say();

    // 1. Sample files, in real formats.
    const written = await writeSamples(sourceDir);
    say(`1. Wrote ${written.all.length} small sample model files (real formats) to ${sourceDir}`);
    for (const f of written.all) say(`     ${relative(sourceDir, f)}`);

    // 2. Identify them from their bytes.
    say();
    say("2. Identified them from their own bytes (`mlib identify FILE`):");
    const idents: Identification[] = [];
    for (const f of written.all) idents.push(await identify(f));
    const width = Math.max(...idents.map((i) => relative(sourceDir, i.path).length));
    for (const i of idents) say(`     ${relative(sourceDir, i.path).padEnd(width)}  ${oneLine(i)}`);

    // 3. Import into a fresh library.
    lib = await ModelLibrary.open(libraryRoot);
    say();
    say(`3. Imported them into the library ${libraryRoot} (\`mlib import ${sourceDir}\`):`);
    const results = await importModels(lib, [written.gguf, written.lora, written.shardFolder]);
    const imported = results.filter((r) => r.status === "imported");
    for (const r of results) {
      if (r.status === "imported") say(`     imported  ${r.modelId}  (${r.files} file${r.files === 1 ? "" : "s"}, ${formatBytes(r.bytes)})`);
      else if (r.status === "duplicate") say(`     already there  ${basename(r.source)} = ${r.duplicateOf}`);
      else say(`     FAILED  ${r.error?.message ?? r.source}`);
    }
    say("     each model is a folder <type>/<family>/<name>/ holding its files and a metadata.json (the truth; .model-library/index.db is its index)");

    // 4. Search.
    say();
    say("4. Searched the index (`mlib search QUERY`):");
    const searches = ["llama", "lora"].map((query) => {
      const r = lib!.search(query);
      return { query, totalCount: r.totalCount, ids: r.models.map((m) => m.id) };
    });
    for (const s of searches) say(`     "${s.query}" → ${s.totalCount} model${s.totalCount === 1 ? "" : "s"}${s.ids.length ? `: ${s.ids.join(", ")}` : ""}`);
    const loras = lib.list({ subtypes: ["loras"] });
    say(`     --subtype loras → ${loras.totalCount}: ${loras.models.map((m) => m.id).join(", ") || "-"}`);

    // 5. Dedup: the same content is stored once.
    say();
    const again = (await importModels(lib, [written.gguf]))[0];
    const dedup = { source: again.source, status: again.status, duplicateOf: again.duplicateOf };
    say(
      again.status === "duplicate"
        ? `5. Imported ${basename(written.gguf)} again: not stored twice, already in the library as ${again.duplicateOf} (same SHA-256)`
        : `5. Imported ${basename(written.gguf)} again: ${again.status} (expected: duplicate)`,
    );

    // 6. Verify every stored file.
    say();
    say("6. Re-hashed every stored file against metadata.json (`mlib verify`):");
    const verified = await verifyModels(lib);
    for (const r of verified) for (const line of describeVerify(r, lib.modelDir(r.id))) say(`     ${line}`);
    const verifyFailed = verified.filter((r) => !r.ok).length;

    const elapsedMs = performance.now() - started;
    say();
    say(`Done in ${formatMs(elapsedMs)}. Library: ${libraryRoot}`);
    const firstId = imported[0]?.modelId ?? "ID";
    if (options.keep || options.library) {
      say("Try:");
      say(`  mlib --library ${libraryRoot} list`);
      say(`  mlib --library ${libraryRoot} show ${firstId}`);
      say(`  mlib --library ${libraryRoot} search llama --json`);
      say("  mlib import ~/models           (your own models, into the default library)");
      if (!options.library) say(`Remove the demo when done: rm -r ${tmp}`);
    } else {
      say("The temp folders are removed now; run `mlib demo --keep` to keep them and explore with:");
      say(`  mlib --library <library> list   mlib --library <library> show ${firstId}`);
      say("Then, for your own models: mlib import ~/models   (default library: $MODEL_LIBRARY_HOME or ~/.local/share/model-library)");
    }

    return {
      libraryRoot,
      sourceDir,
      kept: options.keep || options.library !== null,
      files: idents.map((i) => ({
        file: i.path,
        format: i.format,
        modelType: i.modelType,
        subtype: i.subtype,
        family: i.family,
        quantization: i.quantization,
        parameterCount: i.parameterCount,
      })),
      imported: imported.map((r) => ({ source: r.source, modelId: r.modelId!, format: r.format, files: r.files, bytes: r.bytes })),
      failed: results.length - imported.length,
      importResults: results,
      searches,
      dedup,
      verify: {
        ok: verifyFailed === 0 && verified.length > 0,
        models: verified.length,
        failed: verifyFailed,
        results: verified.map((r) => ({ id: r.id, ok: r.ok, files: r.files.length })),
      },
      elapsedMs: Math.round(elapsedMs),
    };
  } finally {
    lib?.close();
    if (!options.keep) {
      // The source files always go; the library only when it is ours (in the temp folder).
      await rm(options.library ? sourceDir : tmp, { recursive: true, force: true }).catch(() => undefined);
      if (options.library) await rm(tmp, { recursive: true, force: true }).catch(() => undefined);
    }
  }
}

function oneLine(i: Identification): string {
  const parts = [
    i.format,
    [i.modelType, i.subtype].filter(Boolean).join("/"),
    i.family,
    i.loraFormat ? `${i.loraFormat} LoRA` : null,
    i.quantization,
    i.parameterCount !== null ? `${formatCount(i.parameterCount)} params` : null,
    i.contextLength !== null ? `ctx ${i.contextLength}` : null,
    i.shard ? `shard ${i.shard.index}/${i.shard.total ?? "?"}` : null,
    formatBytes(i.fileSize),
  ];
  return parts.filter(Boolean).join(", ");
}

interface Samples {
  gguf: string;
  lora: string;
  shardFolder: string;
  all: string[];
}

/** Writes the sample models: a few KiB each, but valid files that any reader of their format accepts. */
async function writeSamples(dir: string): Promise<Samples> {
  const [{ writeTinyLlamaGguf }, { buildSafetensors }] = await Promise.all([import("./gguf-writer.js"), import("./safetensors-writer.js")]);
  await mkdir(dir, { recursive: true });
  const gguf = join(dir, "tiny-llama-demo-F16.gguf");
  await writeTinyLlamaGguf(gguf, { name: "Tiny Llama Demo", contextLength: 2048 });

  const lora = join(dir, "pixel-art-style-lora.safetensors");
  await writeFile(lora, buildSafetensors(kohyaSd1Lora(4), {
    ss_network_module: "networks.lora",
    ss_network_dim: "4",
    ss_network_alpha: "4",
    ss_base_model_version: "sd_v1",
    ss_output_name: "pixel-art-style",
  }));

  const shardFolder = join(dir, "demo-model");
  await mkdir(shardFolder, { recursive: true });
  await writeFile(
    join(shardFolder, "config.json"),
    `${JSON.stringify({ architectures: ["LlamaForCausalLM"], model_type: "llama", hidden_size: 16, num_hidden_layers: 3, max_position_embeddings: 2048, torch_dtype: "float16" }, null, 2)}\n`,
  );
  const shards: string[] = [];
  for (let s = 1; s <= 3; s++) {
    const file = join(shardFolder, `demo-model-0000${s}-of-00003.safetensors`);
    const layer = s - 1;
    const tensors: TensorSpec[] = [
      { name: `model.layers.${layer}.self_attn.q_proj.weight`, dtype: "F16", shape: [16, 16], data: pattern(16 * 16 * 2, s) },
      { name: `model.layers.${layer}.self_attn.k_proj.weight`, dtype: "F16", shape: [16, 16], data: pattern(16 * 16 * 2, s + 10) },
      { name: `model.layers.${layer}.mlp.up_proj.weight`, dtype: "F16", shape: [32, 16], data: pattern(32 * 16 * 2, s + 20) },
    ];
    if (s === 1) tensors.unshift({ name: "model.embed_tokens.weight", dtype: "F16", shape: [32, 16], data: pattern(32 * 16 * 2, 99) });
    await writeFile(file, buildSafetensors(tensors, { format: "pt" }));
    shards.push(file);
  }
  return { gguf, lora, shardFolder, all: [gguf, lora, ...shards] };
}

/** kohya-ss style keys of an SD 1.x LoRA (one UNet attention block, one text-encoder layer), rank `r`. */
function kohyaSd1Lora(r: number): TensorSpec[] {
  const modules: [string, number][] = [
    ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_q", 320],
    ["lora_unet_down_blocks_0_attentions_0_transformer_blocks_0_attn1_to_k", 320],
    ["lora_unet_mid_block_attentions_0_transformer_blocks_0_attn2_to_k", 768],
    ["lora_te_text_model_encoder_layers_0_self_attn_q_proj", 768],
  ];
  const specs: TensorSpec[] = [];
  modules.forEach(([key, dim], i) => {
    specs.push(
      { name: `${key}.alpha`, dtype: "F32", shape: [], data: f32(r) },
      { name: `${key}.lora_down.weight`, dtype: "F16", shape: [r, dim], data: pattern(r * dim * 2, i + 1) },
      { name: `${key}.lora_up.weight`, dtype: "F16", shape: [dim, r], data: pattern(dim * r * 2, i + 50) },
    );
  });
  return specs;
}

function f32(v: number): Buffer {
  const b = Buffer.alloc(4);
  b.writeFloatLE(v);
  return b;
}

/** Deterministic small F16 values (distinct per seed, so every file has its own content). */
function pattern(bytes: number, seed: number): Buffer {
  const b = Buffer.alloc(bytes);
  let s = (seed * 2654435761) >>> 0 || 1;
  for (let i = 0; i + 1 < bytes; i += 2) {
    s ^= s << 13;
    s >>>= 0;
    s ^= s >>> 17;
    s ^= s << 5;
    s >>>= 0;
    // sign + a small exponent keeps the halves finite and tiny (about ±0.001..0.03)
    b.writeUInt16LE(((s & 1) << 15) | ((5 + (s % 8)) << 10) | ((s >>> 8) & 0x3ff), i);
  }
  return b;
}
