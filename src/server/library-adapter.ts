// The ONE place where the server calls the library and its operations. Every route goes through these
// functions, so when the operations layer changes shape (one function per operation taking
// (library, params, { signal, onProgress })) only this file is re-pointed. Today's functions that take no
// signal are cancelled between items (a model, an import path): the adapter loops and checks the signal.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import { ModelLibraryError, throwIfAborted } from "../core/errors.js";
import type { Facets, IndexStats, ModelRecord, SearchFilters, SearchOptions, SearchResult } from "../index/index-types.js";
import type { ModelMetadata } from "../store/metadata.js";
import type { ModelLibrary } from "../store/model-library.js";
import { METADATA_FILE } from "../store/layout.js";
import { editModel, type EditModelParams, type EditModelResult } from "../operations/edit-model.js";
import { importModels, type ImportMode, type ImportResult } from "../operations/import-models.js";
import { verifyModels, type VerifyResult } from "../operations/verify-models.js";
import { redetectModels, type RedetectResult } from "../operations/redetect-models.js";
import type { OperationOptions } from "../operations/types.js";

export function searchModels(library: ModelLibrary, query: string, options: SearchOptions): SearchResult {
  return query.trim() === "" ? library.list(options) : library.search(query, options);
}

export function modelFacets(library: ModelLibrary, query: string, filters: SearchFilters): Facets {
  return library.facets(query, filters);
}

export function libraryStats(library: ModelLibrary): IndexStats {
  return library.stats();
}

/** Throws E_NOT_FOUND naming the first id the library does not hold. */
export function requireModels(library: ModelLibrary, ids: string[]): void {
  for (const id of ids) library.require(id);
}

export interface ModelDetails {
  record: ModelRecord;
  metadata: ModelMetadata;
  /** metadata.json exactly as it is on disk (text), so the page can show what is stored. */
  metadataText: string;
  folder: string;
}

export async function modelDetails(library: ModelLibrary, id: string): Promise<ModelDetails> {
  const record = library.require(id);
  const metadata = await library.getMetadata(record.id);
  const folder = library.modelDir(record.id);
  const metadataText = await readFile(join(folder, METADATA_FILE), "utf8");
  return { record, metadata, metadataText, folder };
}

export function editModelFields(library: ModelLibrary, params: EditModelParams, options: OperationOptions = {}): Promise<EditModelResult> {
  return editModel(library, params, options);
}

export interface RemoveParams {
  id: string;
  /** Also remove the model's links in app folders (takes effect once the mapper has landed). */
  cascade: boolean;
}

export async function removeModel(library: ModelLibrary, params: RemoveParams): Promise<{ id: string; path: string; freedBytes: number; linksRemoved: number }> {
  const record = library.require(params.id);
  const removed = await library.remove(record.id);
  return { ...removed, linksRemoved: 0 };
}

export interface ImportParams {
  paths: string[];
  mode?: ImportMode;
  allowPickle?: boolean;
  allowDuplicate?: boolean;
  allowIncomplete?: boolean;
  tags?: string[];
}

export async function importPaths(library: ModelLibrary, params: ImportParams, options: OperationOptions = {}): Promise<ImportResult[]> {
  const results: ImportResult[] = [];
  for (const path of params.paths) {
    throwIfAborted(options.signal, "import");
    const part = await importModels(library, [path], {
      mode: params.mode,
      securityAcknowledged: params.allowPickle,
      allowDuplicate: params.allowDuplicate,
      allowIncomplete: params.allowIncomplete,
      tags: params.tags,
      onProgress: (p) =>
        options.onProgress?.({ op: "import", phase: p.stage, item: p.source, done: p.bytesDone, total: p.bytesTotal, unit: "bytes" }),
    });
    results.push(...part);
  }
  return results;
}

export async function verify(library: ModelLibrary, params: { ids: string[] }, options: OperationOptions = {}): Promise<VerifyResult[]> {
  const ids = params.ids.length > 0 ? params.ids.map((id) => library.require(id).id) : library.allIds();
  const sizes = ids.map((id) => library.get(id)?.sizeBytes ?? 0);
  const total = sizes.reduce((a, b) => a + b, 0);
  let before = 0;
  const results: VerifyResult[] = [];
  for (const [i, id] of ids.entries()) {
    throwIfAborted(options.signal, "verify");
    options.onProgress?.({ op: "verify", phase: "verify", item: id, done: before, total, unit: "bytes" });
    const base = before;
    results.push(
      ...(await verifyModels(library, [id], (p) =>
        options.onProgress?.({ op: "verify", phase: "hash", item: `${p.id}/${p.file}`, done: base + p.bytesDone, total, unit: "bytes" }),
      )),
    );
    before += sizes[i];
  }
  options.onProgress?.({ op: "verify", phase: "done", done: total, total, unit: "bytes" });
  return results;
}

export async function redetect(library: ModelLibrary, params: { ids: string[] }, options: OperationOptions = {}): Promise<RedetectResult[]> {
  const ids = params.ids.length > 0 ? params.ids.map((id) => library.require(id).id) : library.allIds();
  const results: RedetectResult[] = [];
  for (const [i, id] of ids.entries()) {
    throwIfAborted(options.signal, "redetect");
    options.onProgress?.({ op: "redetect", phase: "identify", item: id, done: i, total: ids.length, unit: "items" });
    results.push(...(await redetectModels(library, [id])));
  }
  options.onProgress?.({ op: "redetect", phase: "done", done: ids.length, total: ids.length, unit: "items" });
  return results;
}

/** Routes whose operation lives on another branch (mapper, hub) answer this until the lead wires them. */
export function notAvailableYet(what: string): ModelLibraryError {
  return new ModelLibraryError("E_UNSUPPORTED", `${what} is not available yet in this build`);
}

export type VerifyResults = VerifyResult[];
export type RedetectResults = RedetectResult[];
