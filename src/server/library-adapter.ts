// The ONE place where the server calls the library, its operations and the features (mapper, hub). Every
// route goes through these functions. Each long operation is called in its own shape
// `(library, params, { signal, onProgress })` with the server operation's AbortSignal passed down, so a
// cancel stops it at the operation's own safe points (inside the hashing of a file, between parts of a
// download), not only between items.
import { join } from "node:path";
import type { Facets, IndexStats, SearchFilters, SearchOptions, SearchResult } from "../index/index-types.js";
import type { ModelLibrary } from "../store/model-library.js";
import { METADATA_FILE } from "../store/layout.js";
import { readMetadataText } from "../store/record.js";
import type { OperationOptions } from "../operations/types.js";
import { editModel, type EditModelParams, type EditModelResult } from "../operations/edit-model.js";
import { importModels, type ImportMode, type ImportSummary } from "../operations/import-models.js";
import { verifyModels, type VerifySummary } from "../operations/verify-models.js";
import { redetectModels, type RedetectSummary } from "../operations/redetect-models.js";
import type { RemoveResult } from "../operations/remove-model.js";
import { searchModels as searchModelsOp } from "../operations/search-models.js";
import { listModels } from "../operations/list-models.js";
import { showModel, type ModelDetails as ShownModel } from "../operations/show-model.js";
import { previewMapping, type MappingPreview } from "../mapper/preview-mapping.js";
import { applyMapping, type ApplyParams, type ApplyResult } from "../mapper/apply-mapping.js";
import { listLinks, type LinkFilter } from "../mapper/list-links.js";
import { unlinkApp, type RemovalResult, type UnlinkParams } from "../mapper/unlink-app.js";
import { removeModelUnlinked } from "../mapper/remove-model-links.js";
import { listApps, type AppSummary } from "../mapper/profiles.js";
import type { LinkEntry } from "../mapper/registry.js";
import type { HubClient, HubSearchParams, HubSearchResult, RepoInfo } from "../hub/hub-client.js";
import { downloadModel, missingShards, type DownloadModelResult } from "../hub/download-model.js";
import { getDownload, listDownloads, type DownloadEntry } from "../hub/download-state.js";
import { lookupModels, type LookupResult } from "../hub/lookup-models.js";
import { checkLinks, type CheckResult } from "../mapper/check-links.js";
import { repairLinks, type RepairResult } from "../mapper/repair-links.js";
import { writeAppConfig, type AppConfigResult } from "../mapper/write-app-config.js";
import { cancelDownloads, pauseDownloads, type ControlResult } from "../hub/control-downloads.js";

export async function searchModels(library: ModelLibrary, query: string, options: SearchOptions): Promise<SearchResult> {
  return query.trim() === "" ? listModels(library, options) : searchModelsOp(library, { ...options, query });
}

/** Synchronous: the facet service's fallback when its worker thread is not there. */
export function modelFacets(library: ModelLibrary, query: string, filters: SearchFilters): Facets {
  return library.facets(query, filters);
}

/** The index's own stats (counts and bytes per group, the shape the page's charts read). */
export function libraryStats(library: ModelLibrary): IndexStats {
  return library.stats();
}

/** Throws E_NOT_FOUND naming the first id the library does not hold. */
export function requireModels(library: ModelLibrary, ids: string[]): void {
  for (const id of ids) library.require(id);
}

export interface ModelDetails extends ShownModel {
  /** metadata.json exactly as it is on disk (text), so the page can show what is stored. */
  metadataText: string;
  folder: string;
  /** Where the model is linked into apps (the link registry's entries). */
  links: LinkEntry[];
  /** Shards of a split file that the folder lacks (`download --complete` fetches them). */
  missingShards: string[];
}

export async function modelDetails(library: ModelLibrary, id: string): Promise<ModelDetails> {
  const shown = await showModel(library, { id });
  const folder = library.modelDir(shown.record.id);
  // (Through the store's capped reader: the file may have grown or been replaced since showModel read it.)
  const metadataText = readMetadataText(join(folder, METADATA_FILE))?.text ?? "";
  const links = await listLinks(library, { model: shown.record.id });
  return { ...shown, metadataText, folder, links, missingShards: await missingShards(library, shown.record.id) };
}

export function editModelFields(library: ModelLibrary, params: EditModelParams, options: OperationOptions = {}): Promise<EditModelResult> {
  return editModel(library, params, options);
}

export interface RemoveParams {
  id: string;
  /** Also remove the model's links in app folders; without it a linked model is refused (E_LINKED), as `mlib rm`. */
  cascade: boolean;
}

export interface RemoveAnswer extends RemoveResult {
  linksRemoved: number;
  /** What happened to each link (removed, gone, kept: changed since and not provably ours). */
  links: RemovalResult["outcomes"];
}

export async function removeModel(library: ModelLibrary, params: RemoveParams, options: OperationOptions = {}): Promise<RemoveAnswer> {
  const id = library.get(params.id)?.id ?? params.id;
  // Links first, under the registry lock held through the deletion: a model is never deleted under links that
  // would then dangle (the mapper's rule), nor linked by an apply between the check and the deletion.
  const { removed, links } = await removeModelUnlinked(library, { modelId: id, cascade: params.cascade }, options);
  return { ...removed, linksRemoved: links?.removed ?? 0, links: links?.outcomes ?? [] };
}

export interface ImportParams {
  paths: string[];
  mode?: ImportMode;
  allowPickle?: boolean;
  allowDuplicate?: boolean;
  allowIncomplete?: boolean;
  tags?: string[];
}

export function importPaths(library: ModelLibrary, params: ImportParams, options: OperationOptions = {}): Promise<ImportSummary> {
  return importModels(
    library,
    {
      paths: params.paths,
      mode: params.mode,
      securityAcknowledged: params.allowPickle,
      allowDuplicate: params.allowDuplicate,
      allowIncomplete: params.allowIncomplete,
      tags: params.tags,
    },
    options,
  );
}

export function verify(library: ModelLibrary, params: { ids: string[] }, options: OperationOptions = {}): Promise<VerifySummary> {
  return verifyModels(library, { ids: params.ids }, options);
}

export function redetect(library: ModelLibrary, params: { ids: string[] }, options: OperationOptions = {}): Promise<RedetectSummary> {
  return redetectModels(library, { ids: params.ids }, options);
}

// --- the mapper ---

export function apps(): AppSummary[] {
  return listApps();
}

export function previewMap(library: ModelLibrary, params: ApplyParams, options: OperationOptions = {}): Promise<MappingPreview> {
  return previewMapping(library, { app: params.app, root: params.root, appVersion: params.appVersion }, options);
}

export function applyMap(library: ModelLibrary, params: ApplyParams, options: OperationOptions = {}): Promise<ApplyResult> {
  return applyMapping(library, params, options);
}

export function links(library: ModelLibrary, filter: LinkFilter): Promise<LinkEntry[]> {
  return listLinks(library, filter);
}

export function unlink(library: ModelLibrary, params: UnlinkParams, options: OperationOptions = {}): Promise<RemovalResult> {
  return unlinkApp(library, params, options);
}

export function linksCheck(library: ModelLibrary, filter: LinkFilter, options: OperationOptions = {}): Promise<CheckResult> {
  return checkLinks(library, filter, options);
}

export function linksRepair(library: ModelLibrary, filter: LinkFilter, options: OperationOptions = {}): Promise<RepairResult> {
  return repairLinks(library, filter, options);
}

export function mapConfig(library: ModelLibrary, params: { app: string; root: string; appVersion?: string | null }, options: OperationOptions = {}): Promise<AppConfigResult> {
  return writeAppConfig(library, params, options);
}

// --- the Hub ---

export function hubSearch(client: HubClient, params: HubSearchParams, signal: AbortSignal): Promise<HubSearchResult> {
  return client.search(params, { signal });
}

export function hubInfo(client: HubClient, repoId: string, revision: string, signal: AbortSignal): Promise<RepoInfo> {
  return client.info(repoId, revision, { signal });
}

export interface DownloadParams {
  repoId: string;
  quant?: string | null;
  files?: string[] | null;
  revision?: string | null;
  /** Resume this recorded download. */
  downloadId?: string | null;
  /** Fetch only the missing shards of this stored model (`mlib download --complete ID`). */
  completeModelId?: string | null;
}

export function download(library: ModelLibrary, client: HubClient, params: DownloadParams, options: OperationOptions = {}): Promise<DownloadModelResult> {
  return downloadModel(library, { ...params, client }, options);
}

export interface LookupAsk {
  ids: string[];
  /** Redo models whose repo the user set by hand. */
  force: boolean;
}

export function lookup(library: ModelLibrary, client: HubClient, params: LookupAsk, options: OperationOptions = {}): Promise<LookupResult[]> {
  return lookupModels(library, { ids: params.ids, force: params.force, client }, options);
}

export function downloads(library: ModelLibrary): Promise<DownloadEntry[]> {
  return listDownloads(library.root);
}

export function findDownload(library: ModelLibrary, id: string): Promise<DownloadEntry | null> {
  return getDownload(library.root, id);
}

export function pauseDownload(library: ModelLibrary, id: string): Promise<ControlResult[]> {
  return pauseDownloads(library.root, [id]);
}

export function cancelDownload(library: ModelLibrary, id: string): Promise<ControlResult[]> {
  return cancelDownloads(library.root, [id]);
}

export type { CheckResult, RepairResult, AppConfigResult, LookupResult };
export type { VerifySummary, RedetectSummary, ImportSummary, ApplyResult, RemovalResult, DownloadModelResult, DownloadEntry };
