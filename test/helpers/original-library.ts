// A library laid out exactly as the original writes one (its folders, metadata.json and models.db), from small
// generated model files: metadata.json with every field present (absent values as null), per-file hashes
// null and model-level hashes (sha256 + blake3) of the largest file, an in-place import that names nested
// files by their bare name, a model whose metadata has no `files`, unknown keys inside hashes{} and files[],
// `inference_settings` as an array, a `models.db` with the original's schema and one row per model,
// `link_registry.json` with a symlink into an app folder, and two `.tmp_import_<uuid>` leftovers (one an hour old).
//
// Used by the store tests (index location, staging) and the content tests (verify, rewrite, redetect).
// Keep the exported names stable: other helpers' tests import them.
import { createHash, randomUUID } from "node:crypto";
import { mkdirSync, readFileSync, readdirSync, rmSync, symlinkSync, utimesSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import Database from "better-sqlite3";
import { buildTinyLlamaGguf } from "../../src/demo/gguf-writer.js";
import { buildSafetensors } from "../../src/demo/safetensors-writer.js";
import { createBlake3 } from "../../src/hashing/blake3.js";
import { bytes, llamaTensors, writeDiffusersFolder } from "./library-fixtures.js";
import { buildTinyOnnx } from "./onnx-writer.js";

export interface OriginalModel {
  /** Index id: the folder path relative to the root (`llm/llama/tiny_llama_q4`). */
  id: string;
  dir: string;
  /** The metadata.json as written (parsed back), for comparisons. */
  metadata: Record<string, unknown>;
  /** Every model file in the folder, relative `/`-separated path → absolute path. */
  files: Record<string, string>;
  /** The largest file (relative path): the one model-level hashes are of. */
  primary: string;
}

export interface OriginalLibrary {
  root: string;
  /** `<root>/models.db` (the original's schema, one row per model). */
  modelsDb: string;
  linkRegistry: string;
  /** The app folder holding the registered symlink (`<root>-apps`); remove it with the root. */
  appsDir: string;
  /** The `.tmp_import_<uuid>` leftovers: `fresh` (mtime now) and `old` (mtime two hours ago). */
  tmpImports: { fresh: string; old: string };
  models: {
    /** One GGUF, original_name kept; `inference_settings` an array; unknown keys in hashes{} and files[]. */
    gguf: OriginalModel;
    /** A diffusers folder imported in place, files listed by bare name (two `diffusion_pytorch_model.safetensors`). */
    diffusers: OriginalModel;
    /** An ONNX model at `onnx/model.onnx`, listed as `model.onnx` (unique, resolvable). */
    onnx: OriginalModel;
    /** A safetensors checkpoint whose metadata.json has no `files` key at all. */
    noFiles: OriginalModel;
  };
}

export interface OriginalLibraryOptions {
  /** Where the app folder with the registered symlink goes (default `<root>-apps`). */
  appsDir?: string;
}

// The original's chrono `to_rfc3339()` output: nanoseconds and "+00:00".
const ADDED = "2026-01-15T10:00:00.123456789+00:00";
const UPDATED = "2026-02-01T08:30:00.987654321+00:00";

function put(path: string, data: Uint8Array | string): string {
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, data);
  return path;
}

async function hashesOf(data: Uint8Array): Promise<{ sha256: string; blake3: string }> {
  const b3 = await createBlake3();
  b3.update(data);
  return { sha256: createHash("sha256").update(data).digest("hex"), blake3: b3.digestHex() };
}

/** Every field of the original's ModelMetadata, in its order, null unless given. */
function originalMetadata(fields: Record<string, unknown>): Record<string, unknown> {
  const order = [
    "model_id", "family", "model_type", "subtype", "official_name", "cleaned_name", "tags", "base_model", "preview_image",
    "release_date", "download_url", "model_card", "inference_settings", "compatible_apps", "hashes", "notes", "added_date",
    "updated_date", "size_bytes", "files", "match_source", "match_method", "match_confidence", "pending_online_lookup",
    "lookup_attempts", "last_lookup_attempt", "conversion_source", "repo_id", "expected_files",
  ];
  const out: Record<string, unknown> = {};
  for (const k of order) out[k] = k in fields ? fields[k] : null;
  for (const [k, v] of Object.entries(fields)) if (!(k in out)) out[k] = v;
  return out;
}

/** serde_json's pretty printer: two-space indent, no trailing newline. */
const pretty = (v: unknown): string => JSON.stringify(v, null, 2);

async function model(
  root: string,
  id: string,
  contents: Record<string, Uint8Array | string>,
  meta: (primary: { name: string; size: number; sha256: string; blake3: string }, sizes: Record<string, number>) => Record<string, unknown>,
): Promise<OriginalModel> {
  const dir = join(root, ...id.split("/"));
  const files: Record<string, string> = {};
  const sizes: Record<string, number> = {};
  let primary = "";
  for (const [rel, data] of Object.entries(contents)) {
    files[rel] = put(join(dir, ...rel.split("/")), data);
    sizes[rel] = typeof data === "string" ? Buffer.byteLength(data) : data.length;
    if (!primary || sizes[rel] > sizes[primary]) primary = rel;
  }
  const p = contents[primary];
  const h = await hashesOf(typeof p === "string" ? Buffer.from(p) : p);
  const metadata = originalMetadata(meta({ name: primary, size: sizes[primary], ...h }, sizes));
  put(join(dir, "metadata.json"), pretty(metadata));
  return { id, dir, metadata, files, primary };
}

const fileEntry = (name: string, size: number, original: string | null = null): Record<string, unknown> => ({
  name,
  original_name: original,
  size,
  sha256: null,
  blake3: null,
});

/** The files under `dir` (small: a few hundred KiB in all), relative `/`-separated path → bytes. */
function readTree(dir: string, rel = ""): Record<string, Buffer> {
  const out: Record<string, Buffer> = {};
  for (const e of readdirSync(join(dir, rel), { withFileTypes: true })) {
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) Object.assign(out, readTree(dir, r));
    else out[r] = readFileSync(join(dir, r));
  }
  return out;
}

/** Writes the original's `models.db`: its schema, triggers, FTS5 table, and one row per model. */
function writeModelsDb(root: string, models: OriginalModel[]): string {
  const file = join(root, "models.db");
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = NORMAL");
  db.exec(`
    CREATE TABLE IF NOT EXISTS models (
      id TEXT PRIMARY KEY NOT NULL,
      path TEXT NOT NULL,
      cleaned_name TEXT NOT NULL,
      official_name TEXT NOT NULL,
      model_type TEXT NOT NULL,
      tags_json TEXT NOT NULL,
      hashes_json TEXT NOT NULL,
      metadata_json TEXT NOT NULL,
      updated_at TEXT NOT NULL
    );
    CREATE INDEX IF NOT EXISTS idx_models_type ON models(model_type);
    CREATE INDEX IF NOT EXISTS idx_models_updated ON models(updated_at);
    CREATE VIRTUAL TABLE IF NOT EXISTS model_search USING fts5(
      id, official_name, cleaned_name, model_type, tags, family, description,
      tokenize = 'unicode61 remove_diacritics 1'
    );
    CREATE TRIGGER IF NOT EXISTS model_search_ai AFTER INSERT ON models BEGIN
      INSERT INTO model_search(id, official_name, cleaned_name, model_type, tags, family, description)
      VALUES (new.id, new.official_name, new.cleaned_name, new.model_type,
        (SELECT GROUP_CONCAT(value, ' ') FROM json_each(new.tags_json)),
        json_extract(new.metadata_json, '$.family'), json_extract(new.metadata_json, '$.description'));
    END;
    CREATE TRIGGER IF NOT EXISTS model_search_au AFTER UPDATE ON models BEGIN
      DELETE FROM model_search WHERE id = old.id;
      INSERT INTO model_search(id, official_name, cleaned_name, model_type, tags, family, description)
      VALUES (new.id, new.official_name, new.cleaned_name, new.model_type,
        (SELECT GROUP_CONCAT(value, ' ') FROM json_each(new.tags_json)),
        json_extract(new.metadata_json, '$.family'), json_extract(new.metadata_json, '$.description'));
    END;
    CREATE TRIGGER IF NOT EXISTS model_search_ad AFTER DELETE ON models BEGIN
      DELETE FROM model_search WHERE id = old.id;
    END;
  `);
  const insert = db.prepare(
    `INSERT INTO models (id, path, cleaned_name, official_name, model_type, tags_json, hashes_json, metadata_json, updated_at)
     VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
     ON CONFLICT(id) DO UPDATE SET path = excluded.path, cleaned_name = excluded.cleaned_name,
       official_name = excluded.official_name, model_type = excluded.model_type, tags_json = excluded.tags_json,
       hashes_json = excluded.hashes_json, metadata_json = excluded.metadata_json, updated_at = excluded.updated_at`,
  );
  for (const m of models) {
    const md = m.metadata;
    const hashes = (md.hashes ?? {}) as Record<string, unknown>;
    const present: Record<string, string> = {};
    for (const k of ["sha256", "blake3"]) if (typeof hashes[k] === "string") present[k] = hashes[k] as string;
    insert.run(
      m.id,
      m.dir,
      (md.cleaned_name as string | null) ?? m.id.split("/").pop()!,
      (md.official_name as string | null) ?? m.id,
      (md.model_type as string | null) ?? "unknown",
      JSON.stringify(md.tags ?? []),
      JSON.stringify(present),
      pretty(md),
      (md.updated_date as string | null) ?? ADDED,
    );
  }
  db.close(); // checkpoints the WAL: models.db is complete on its own, no -wal/-shm left
  return file;
}

/** Lays out an original-written library at `root` (created; must not hold a library yet). */
export async function makeOriginalLibrary(root: string, options: OriginalLibraryOptions = {}): Promise<OriginalLibrary> {
  mkdirSync(root, { recursive: true });

  const ggufBytes = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 15, contextLength: 4096, seed: 41 });
  const gguf = await model(root, "llm/llama/tiny_llama_q4_k_m", { "tiny-llama.Q4_K_M.gguf": ggufBytes }, (p, sizes) => ({
    model_id: "llm/Llama/tiny_llama_q4_k_m", // [QUIRK] type and family not normalized in model_id
    family: "Llama",
    model_type: "llm",
    official_name: "Tiny Llama Q4_K_M",
    cleaned_name: "tiny_llama_q4_k_m",
    tags: ["chat", "gguf"],
    base_model: ["meta-llama/Llama-2-7b"],
    model_card: { license: "llama2" },
    inference_settings: [{ key: "temperature", value: 0.7 }, { key: "ctx", value: 4096 }],
    compatible_apps: ["ollama", "llama.cpp"],
    hashes: { sha256: p.sha256, blake3: p.blake3, crc32: "0badf00d" }, // crc32: a key we do not know
    added_date: ADDED,
    updated_date: UPDATED,
    size_bytes: sizes["tiny-llama.Q4_K_M.gguf"],
    files: [{ ...fileEntry("tiny-llama.Q4_K_M.gguf", p.size, "Tiny-Llama.Q4_K_M.gguf"), mirror: "https://example.invalid/x" }],
    match_source: "import",
    match_method: "filename_exact",
    match_confidence: 0.9,
    pending_online_lookup: true,
    lookup_attempts: 0,
    repo_id: "example/Tiny-Llama-GGUF",
  }));
  put(join(gguf.dir, "metadata.json.bak"), pretty({ ...gguf.metadata, notes: "before the last edit" }));
  put(join(gguf.dir, "overrides.json"), pretty({ version_ranges: { comfyui: ">=0.3.0" } }));

  // A diffusers pipeline imported in place: the original names each file by its bare name.
  const tmp = join(root, ".mk-diffusers");
  writeDiffusersFolder(tmp);
  const tree = readTree(tmp);
  rmSync(tmp, { recursive: true, force: true });
  const diffusers = await model(root, "diffusion/stable-diffusion/tiny_sd15", tree, (p, sizes) => ({
    model_id: "diffusion/stable-diffusion/tiny_sd15",
    family: "stable-diffusion",
    model_type: "diffusion",
    subtype: "checkpoints",
    official_name: "Tiny SD15",
    cleaned_name: "tiny_sd15",
    tags: ["sd", "diffusers"],
    hashes: { sha256: p.sha256, blake3: p.blake3 },
    added_date: ADDED,
    updated_date: ADDED,
    size_bytes: Object.entries(sizes).filter(([n]) => n.endsWith(".safetensors")).reduce((a, [, s]) => a + s, 0),
    files: Object.entries(sizes)
      .filter(([n]) => n.endsWith(".safetensors"))
      .map(([n, s]) => fileEntry(n.split("/").pop()!, s)),
    match_source: "download",
    match_method: "repo_id",
    match_confidence: 1,
    pending_online_lookup: false,
    repo_id: "example/tiny-sd15",
    expected_files: Object.keys(sizes).filter((n) => n.endsWith(".safetensors")).map((n) => n.split("/").pop()!),
  }));

  const onnxBytes = Buffer.concat([buildTinyOnnx({ producer: "pytorch" }).bytes]);
  const onnx = await model(root, "embedding/bert/tiny_embedder", { "onnx/model.onnx": onnxBytes, "config.json": '{"model_type":"bert"}' }, (p) => ({
    model_id: "embedding/bert/tiny_embedder",
    family: "bert",
    model_type: "embedding",
    official_name: "Tiny Embedder",
    cleaned_name: "tiny_embedder",
    tags: ["onnx"],
    hashes: { sha256: p.sha256, blake3: p.blake3 },
    added_date: ADDED,
    updated_date: ADDED,
    size_bytes: p.size,
    files: [fileEntry("model.onnx", onnxBytes.length)],
    match_source: "download",
    match_method: "repo_id",
    match_confidence: 1,
    pending_online_lookup: false,
    repo_id: "example/tiny-embedder",
  }));

  const st = buildSafetensors(llamaTensors(1, 16, 23), { format: "pt" });
  const noFiles = await model(root, "llm/qwen/qwen_tiny", { "model.safetensors": st }, (p) => ({
    model_id: "llm/qwen/qwen_tiny",
    family: "qwen",
    model_type: "llm",
    official_name: "Qwen Tiny",
    cleaned_name: "qwen_tiny",
    tags: [],
    hashes: { sha256: p.sha256, blake3: null },
    added_date: ADDED,
    updated_date: ADDED,
    size_bytes: p.size,
    match_source: "orphan_recovery",
    pending_online_lookup: true,
  }));
  // The original writes every field, but a hand-written or older file may omit one: this one has no `files`.
  delete noFiles.metadata.files;
  put(join(noFiles.dir, "metadata.json"), pretty(noFiles.metadata));

  const all = [gguf, diffusers, onnx, noFiles];
  const modelsDb = writeModelsDb(root, all);

  // The link registry: one symlink from an app's folder to the GGUF.
  const appsDir = options.appsDir ?? `${root}-apps`;
  const target = join(appsDir, "comfyui", "models", "LLM", "tiny-llama.Q4_K_M.gguf");
  mkdirSync(dirname(target), { recursive: true });
  symlinkSync(gguf.files["tiny-llama.Q4_K_M.gguf"], target);
  const entry = {
    model_id: gguf.id,
    source: gguf.files["tiny-llama.Q4_K_M.gguf"],
    target,
    link_type: "symlink",
    created_at: UPDATED,
    app_id: "comfyui",
    app_version: null,
  };
  const linkRegistry = put(join(root, "link_registry.json"), pretty({ by_target: { [target]: entry }, by_model: { [gguf.id]: [target] } }));

  // Staging folders of the original's imports: one just written (a copy that may still be running), one old.
  const fresh = join(root, `.tmp_import_${randomUUID()}`);
  put(join(fresh, "big-model.safetensors"), bytes(4096, 77));
  const old = join(root, `.tmp_import_${randomUUID()}`);
  put(join(old, "left-behind.gguf"), bytes(2048, 78));
  const twoHoursAgo = new Date(Date.now() - 2 * 3600_000);
  utimesSync(join(old, "left-behind.gguf"), twoHoursAgo, twoHoursAgo);
  utimesSync(old, twoHoursAgo, twoHoursAgo);

  return {
    root,
    modelsDb,
    linkRegistry,
    appsDir,
    tmpImports: { fresh, old },
    models: { gguf, diffusers, onnx, noFiles },
  };
}
