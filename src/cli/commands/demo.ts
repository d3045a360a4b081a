// `mlib demo`: a tour that needs no input. It writes a few tiny but real model files (src/demo/samples.ts: a
// llama GGUF, a kohya SD 1.x LoRA, a 3-shard safetensors model with its config.json) into a temp folder, then
// identifies, imports, searches, re-imports one (dedup), and verifies them in a fresh temp library, through the
// same operations as the other commands, saying what it does.
// The temp folders are removed at the end unless --keep. With an explicit --library DIR the demo models go
// into DIR, which is never removed; $MODEL_LIBRARY_HOME is ignored, so a real library is never touched by accident.
import type { Command } from "commander";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { basename, join, relative } from "node:path";
import type { Identification } from "../../formats/types.js";
import type { ImportResult } from "../../operations/import-models.js";
import type { ModelLibrary } from "../../operations/index.js";
import { commonOptions, markFailed, withCommonOptions } from "../common.js";
import { describeVerify } from "../describe.js";
import { formatBytes, formatCount, formatMs, out, printJson } from "../output.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("demo")
    .description("a two-second tour in a temp folder: write sample models, import, search, dedup, verify")
    .option("--keep", "keep the temp library and sample files (to explore them with the commands printed at the end)")
    // Its own --library: the demo never uses the default library ($MODEL_LIBRARY_HOME...), only a temp one or DIR.
    .option("--library <dir>", "put the sample models into this library (created if needed, never removed) instead of a temp one; the default library is never used")
    .action(async () => {
      const common = commonOptions(cmd);
      const keep = Boolean(cmd.opts<{ keep?: boolean }>().keep);
      const summary = await runDemo({ keep, library: common.library, say: common.json ? () => undefined : out, signal: cliSignal() });
      if (!summary.verify.ok || summary.failed > 0) markFailed();
      if (common.json) printJson(summary);
    });
  withCommonOptions(cmd, { library: false });
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

export async function runDemo(options: { keep: boolean; library: string | null; say: (line?: string) => void; signal?: AbortSignal }): Promise<DemoSummary> {
  const { say, signal } = options;
  // The API is loaded here, not at start-up, so other commands do not pay for it.
  const [{ identify }, { ModelLibrary, importModels, verifyModels, searchModels, listModels }, { writeSamples }] = await Promise.all([
    import("../../identify/identify.js"),
    import("../../operations/index.js"),
    import("../../demo/samples.js"),
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
    const { results } = await importModels(lib, { paths: [written.gguf, written.lora, written.shardFolder] }, { signal });
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
    const searches: DemoSummary["searches"] = [];
    for (const query of ["llama", "lora"]) {
      const r = await searchModels(lib, { query }, { signal });
      searches.push({ query, totalCount: r.totalCount, ids: r.models.map((m) => m.id) });
    }
    for (const s of searches) say(`     "${s.query}" → ${s.totalCount} model${s.totalCount === 1 ? "" : "s"}${s.ids.length ? `: ${s.ids.join(", ")}` : ""}`);
    const loras = await listModels(lib, { subtypes: ["loras"] }, { signal });
    say(`     --subtype loras → ${loras.totalCount}: ${loras.models.map((m) => m.id).join(", ") || "-"}`);

    // 5. Dedup: the same content is stored once.
    say();
    const again = (await importModels(lib, { paths: [written.gguf] }, { signal })).results[0];
    const dedup = { source: again.source, status: again.status, duplicateOf: again.duplicateOf };
    say(
      again.status === "duplicate"
        ? `5. Imported ${basename(written.gguf)} again: not stored twice, already in the library as ${again.duplicateOf} (same SHA-256)`
        : `5. Imported ${basename(written.gguf)} again: ${again.status} (expected: duplicate)`,
    );

    // 6. Verify every stored file.
    say();
    say("6. Re-hashed every stored file against metadata.json (`mlib verify`):");
    const verified = (await verifyModels(lib, {}, { signal })).results;
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
