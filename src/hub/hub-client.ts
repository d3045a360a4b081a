// The Hub client: search (converted and enriched as the original did, through the cache), model info and
// the recursive file tree of a revision. The JSON API is called through @huggingface/hub (listModels,
// modelInfo, listFiles), handed our fetch (token policy, offline switch, retries, error mapping) and hubUrl.
// Offline (HF_HUB_OFFLINE=1) every answer comes from the cache, whatever its age, or fails saying so.
// @huggingface/hub is loaded on the first network call only: a cached search never pays for it.
import { ModelLibraryError } from "../core/errors.js";
import { hubConfig, type HubConfig } from "./config.js";
import { enrichWithTree, toHubModel, pipelineTagOfKind, type ApiModelItem, type HubModel, type RepoFile } from "./convert-model.js";
import { GIT_SHA1 } from "./git-blob-sha1.js";
import { apiFetch } from "./hub-fetch.js";
import { offlineError } from "./hub-errors.js";
import type { RetryPolicy } from "./retry.js";
import { HubCache, type SearchKey } from "./search-cache.js";

export type HubSort = "downloads" | "likes" | "lastModified" | "createdAt" | "trendingScore";
export const HUB_SORTS: HubSort[] = ["downloads", "likes", "lastModified", "createdAt", "trendingScore"];

export interface HubSearchParams {
  query: string;
  /** A Hub pipeline tag, or one of llm, diffusion, audio, embedding (mapped as the original did). */
  kind?: string | null;
  sort?: HubSort | null;
  limit?: number;
  /** Skip the cache's answer and ask the Hub (the answer is cached again). */
  refresh?: boolean;
}

export interface HubSearchResult {
  models: HubModel[];
  fromCache: boolean;
  /**
   * Repos whose file tree could not be read this time (an error answer, a network failure): they are shown without
   * download options, and the search is not cached, so the next one asks the Hub again.
   */
  treeFailures?: { repoId: string; error: string }[];
}

export interface RepoInfo {
  model: HubModel;
  /** The commit the revision resolved to. */
  commitSha: string | null;
  revision: string;
  files: RepoFile[];
  libraryName: string | null;
  cardData: Record<string, unknown> | null;
  config: Record<string, unknown> | null;
}

export interface CallOptions {
  signal?: AbortSignal;
}

const MAX_TREE_FETCHES = 4;
const INFO_FIELDS = ["tags", "config", "sha", "library_name", "cardData", "filePaths"] as const;

export class HubClient {
  readonly config: HubConfig;
  private cacheHandle: HubCache | null | undefined;
  private readonly useCache: boolean;
  private readonly fetchOptions: { retry?: RetryPolicy; answerMs?: number };

  /** `retry` and `answerMs` (how long an answer may take to start) tune the JSON API calls (tests). */
  constructor(config: HubConfig = hubConfig(), options: { cache?: boolean; retry?: RetryPolicy; answerMs?: number } = {}) {
    this.config = config;
    this.useCache = options.cache ?? true;
    this.fetchOptions = { retry: options.retry, answerMs: options.answerMs };
  }

  /** The cache, opened on first use; null when disabled or when it cannot be opened (the Hub still answers). */
  cache(): HubCache | null {
    if (this.cacheHandle === undefined) {
      try {
        this.cacheHandle = this.useCache ? HubCache.open(this.config.cacheDir, this.config.endpoint) : null;
      } catch {
        this.cacheHandle = null;
      }
    }
    return this.cacheHandle;
  }

  close(): void {
    this.cacheHandle?.close();
    this.cacheHandle = undefined;
  }

  async search(params: HubSearchParams, options: CallOptions = {}): Promise<HubSearchResult> {
    const limit = params.limit ?? 20;
    const key: SearchKey = { query: params.query, kind: params.kind ?? null, sort: params.sort ?? null, limit };
    const cache = this.cache();
    if (cache && (!params.refresh || this.config.offline)) {
      const hit = cache.getSearch(key, { anyAge: this.config.offline });
      if (hit) return { models: hit, fromCache: true };
    }
    if (this.config.offline) throw offlineError(`${this.config.endpoint}/api/models?search=${params.query}`);
    const { listModels } = await import("@huggingface/hub");
    const items: ApiModelItem[] = [];
    const task = params.kind ? pipelineTagOfKind(params.kind) : undefined;
    for await (const m of listModels({
      search: { query: params.query || undefined, task: task as never },
      sort: params.sort ?? undefined,
      limit,
      additionalFields: ["tags", "config", "library_name", "filePaths", "sha"],
      hubUrl: this.config.endpoint,
      fetch: apiFetch(this.config, `search "${params.query}"`, { ...this.fetchOptions, ...options }),
    })) {
      const item = fromEntry(m as unknown as Record<string, unknown>);
      // An answer whose id is no repo id ("../x", a URL) is no result: it would become a model's repo_id (lookup).
      if (isRepoId(item.id)) items.push(item);
    }
    const models = items.map((i) => toHubModel(i, this.config.endpoint));
    // Download options need each repo's tree: reuse cached details of unchanged repos, fetch the others a few at a time.
    const enriched: HubModel[] = new Array(models.length);
    const treeFailures: { repoId: string; error: string }[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < models.length) {
        const i = next++;
        const m = models[i];
        const cached = cache?.getDetails(m.repoId, m.releaseDate);
        if (cached && cached.downloadOptions.length > 0) {
          enriched[i] = { ...m, downloadOptions: cached.downloadOptions, totalSizeBytes: cached.totalSizeBytes, quants: m.quants.length ? m.quants : cached.quants };
          continue;
        }
        try {
          const files = await this.treeOf(m.repoId, "main", options);
          enriched[i] = enrichWithTree(m, files);
        } catch (e) {
          if (options.signal?.aborted) throw e;
          enriched[i] = m; // a tree that cannot be read leaves the model without options, as the original did
          treeFailures.push({ repoId: m.repoId, error: (e as Error).message });
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(MAX_TREE_FETCHES, models.length) }, worker));
    if (treeFailures.length === 0) {
      cache?.putSearch(key, enriched);
      return { models: enriched, fromCache: false };
    }
    // A failure is not an answer to keep: the search is not cached (an older complete answer for it stays, for
    // offline use), only the details of the repos whose tree was read, so the next search refetches just the others.
    // (It was cached for 24 h: one 503 or dropped connection left a repo without download options for a day.)
    const failed = new Set(treeFailures.map((f) => f.repoId));
    cache?.putModels(enriched.filter((m) => !failed.has(m.repoId)));
    return { models: enriched, fromCache: false, treeFailures };
  }

  /** Model info of a revision (default main) with its commit sha and recursive tree. */
  async info(repoId: string, revision = "main", options: CallOptions = {}): Promise<RepoInfo> {
    checkRepoId(repoId);
    const cache = this.cache();
    if (this.config.offline) {
      const t = cache?.getTree(repoId, revision);
      if (!t || !t.info) throw offlineError(`${this.config.endpoint}/api/models/${repoId}`);
      return repoInfoOf(t.info as ApiModelItem, t.commitSha, revision, t.files, this.config.endpoint);
    }
    const { modelInfo } = await import("@huggingface/hub");
    const entry = await modelInfo({
      name: repoId,
      revision,
      additionalFields: [...INFO_FIELDS],
      hubUrl: this.config.endpoint,
      fetch: apiFetch(this.config, repoId, { ...this.fetchOptions, ...options }),
    });
    const item = fromEntry(entry as unknown as Record<string, unknown>);
    const commitSha = item.sha ?? null;
    // The tree is read at the commit, so the files match the info even if the branch moves meanwhile.
    const files = await this.fetchTree(item.id, commitSha ?? revision, options);
    cache?.putTree({ repoId, revision, commitSha, files, info: item });
    if (commitSha && commitSha !== revision) cache?.putTree({ repoId, revision: commitSha, commitSha, files, info: item });
    return repoInfoOf(item, commitSha, revision, files, this.config.endpoint);
  }

  /** The recursive file list of a revision (from the cache offline). */
  async treeOf(repoId: string, revision = "main", options: CallOptions = {}): Promise<RepoFile[]> {
    checkRepoId(repoId);
    const cache = this.cache();
    if (this.config.offline) {
      const t = cache?.getTree(repoId, revision);
      if (!t) throw offlineError(`${this.config.endpoint}/api/models/${repoId}/tree/${revision}`);
      return t.files;
    }
    const files = await this.fetchTree(repoId, revision, options);
    const old = cache?.getTree(repoId, revision);
    cache?.putTree({ repoId, revision, commitSha: old?.commitSha ?? null, files, info: old?.info ?? null });
    return files;
  }

  private async fetchTree(repoId: string, revision: string, options: CallOptions): Promise<RepoFile[]> {
    const { listFiles } = await import("@huggingface/hub");
    const files: RepoFile[] = [];
    for await (const e of listFiles({
      repo: { type: "model", name: repoId },
      revision: encodeURIComponent(revision),
      recursive: true,
      hubUrl: this.config.endpoint,
      fetch: apiFetch(this.config, `${repoId}@${revision}`, { ...this.fetchOptions, ...options }),
    })) {
      if (e.type !== "file") continue;
      const gitSha1 = !e.lfs && e.oid && GIT_SHA1.test(e.oid.toLowerCase()) ? e.oid.toLowerCase() : null;
      files.push({ path: e.path, size: e.lfs?.size ?? e.size, sha256: e.lfs?.oid ?? null, lfs: Boolean(e.lfs), gitSha1 });
    }
    return files;
  }
}

/** `owner/name` (or a legacy bare name): letters, digits, `-_.`, never `..` or a URL. */
export function checkRepoId(repoId: string): void {
  if (!isRepoId(repoId)) {
    throw new ModelLibraryError("E_USAGE", `"${repoId}" is not a Hub repo id (expected owner/name, e.g. Qwen/Qwen2.5-7B-Instruct-GGUF)`);
  }
}

/** checkRepoId as a test. */
export function isRepoId(repoId: unknown): boolean {
  return typeof repoId === "string" && /^[A-Za-z0-9][\w.-]*(\/[\w.-]+)?$/.test(repoId) && !repoId.includes("..");
}

// @huggingface/hub renames a few keys (`_id`→id, id→name, pipeline_tag→task, lastModified→updatedAt, siblings→filePaths).
function fromEntry(e: Record<string, unknown>): ApiModelItem {
  const updated = e.updatedAt instanceof Date && !Number.isNaN(e.updatedAt.getTime()) ? e.updatedAt.toISOString() : undefined;
  return {
    id: e.name as string,
    tags: (e.tags as string[] | undefined) ?? [],
    pipeline_tag: e.task as string | undefined,
    library_name: e.library_name as string | undefined,
    lastModified: updated,
    downloads: e.downloads as number | undefined,
    likes: e.likes as number | undefined,
    gated: e.gated as boolean | string | undefined,
    sha: e.sha as string | undefined,
    siblings: ((e.filePaths as string[] | undefined) ?? []).map((rfilename) => ({ rfilename })),
    config: (e.config as ApiModelItem["config"]) ?? null,
    cardData: (e.cardData as Record<string, unknown> | undefined) ?? null,
  };
}

function repoInfoOf(item: ApiModelItem, commitSha: string | null, revision: string, files: RepoFile[], endpoint: string): RepoInfo {
  return {
    model: enrichWithTree(toHubModel(item, endpoint), files),
    commitSha,
    revision,
    files,
    libraryName: item.library_name ?? null,
    cardData: item.cardData ?? null,
    config: (item.config as Record<string, unknown> | null) ?? null,
  };
}
