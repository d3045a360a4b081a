// The Hub cache (the original's, its key fixed): which repos a search returned (query, kind, sort, limit,
// offset → ordered repo ids; `kind` is '' rather than NULL so INSERT OR REPLACE really replaces), the converted
// details of each repo (reused across searches, LRU-evicted past a size budget), and repo trees per revision
// (so `hub files`, downloads' planning and lookups can answer offline). SQLite in WAL mode under the cache dir.
// The cache is an optimisation: an unreadable cache file is replaced, never fatal.
import Database from "better-sqlite3";
import { createHash } from "node:crypto";
import { rmSync } from "node:fs";
import { join } from "node:path";
import { makeDirsSync } from "../core/make-dirs.js";
import { DEFAULT_ENDPOINT } from "./config.js";
import type { HubModel, RepoFile } from "./convert-model.js";

export const CACHE_FILE = "hub-cache.sqlite";
const SCHEMA_VERSION = 1;

export interface CacheSettings {
  maxSizeBytes: number;
  searchTtlSeconds: number;
  /** Repo details younger than this are reused without asking whether the repo changed. */
  lastModifiedCheckSeconds: number;
}

const DEFAULTS: CacheSettings = { maxSizeBytes: 4 * 1024 ** 3, searchTtlSeconds: 86_400, lastModifiedCheckSeconds: 86_400 };

export interface SearchKey {
  query: string;
  kind?: string | null;
  sort?: string | null;
  limit: number;
  offset?: number;
}

export interface CachedTree {
  repoId: string;
  revision: string;
  commitSha: string | null;
  files: RepoFile[];
  /** The model info item of that revision, when it was fetched with the tree. */
  info: unknown;
  cachedAt: number;
}

const SCHEMA = `
CREATE TABLE IF NOT EXISTS search_cache (
  query_normalized TEXT NOT NULL, kind TEXT NOT NULL DEFAULT '', sort TEXT NOT NULL DEFAULT '',
  result_limit INTEGER NOT NULL, result_offset INTEGER NOT NULL DEFAULT 0,
  result_repo_ids TEXT NOT NULL, searched_at INTEGER NOT NULL,
  PRIMARY KEY (query_normalized, kind, sort, result_limit, result_offset)
);
CREATE INDEX IF NOT EXISTS search_cache_at ON search_cache(searched_at);
CREATE TABLE IF NOT EXISTS repo_details (
  repo_id TEXT PRIMARY KEY, last_modified TEXT, model_json TEXT NOT NULL,
  cached_at INTEGER NOT NULL, last_accessed INTEGER NOT NULL, data_size_bytes INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS repo_details_accessed ON repo_details(last_accessed);
CREATE TABLE IF NOT EXISTS repo_trees (
  repo_id TEXT NOT NULL, revision TEXT NOT NULL, commit_sha TEXT, files_json TEXT NOT NULL, info_json TEXT, cached_at INTEGER NOT NULL,
  PRIMARY KEY (repo_id, revision)
);
CREATE TABLE IF NOT EXISTS cache_config (key TEXT PRIMARY KEY, value TEXT NOT NULL);
`;

/** `hub-cache.sqlite` for huggingface.co, else `hub-cache-<host>-<8 hex of the endpoint>.sqlite`. */
export function cacheFileOf(endpoint: string): string {
  const e = endpoint.replace(/\/+$/, "");
  if (e === DEFAULT_ENDPOINT) return CACHE_FILE;
  let host = "hub";
  try {
    host = new URL(e).host.replace(/[^A-Za-z0-9.-]+/g, "_").slice(0, 60) || "hub";
  } catch {
    // not a URL: the hash alone tells it apart (the endpoint is refused before any request anyway)
  }
  return `hub-cache-${host}-${createHash("sha256").update(e).digest("hex").slice(0, 8)}.sqlite`;
}

export function normalizeQuery(q: string): string {
  return q.trim().toLowerCase();
}

export class HubCache {
  private readonly db: Database.Database;
  readonly file: string;

  private constructor(file: string, db: Database.Database) {
    this.file = file;
    this.db = db;
  }

  /**
   * The cache of the Hub at `endpoint` (default huggingface.co's, `hub-cache.sqlite`). Another endpoint (a mirror, a
   * private Hub, HF_ENDPOINT) has its own file: one cache for all answered one Hub's searches and trees for another.
   */
  static open(cacheDir: string, endpoint: string = DEFAULT_ENDPOINT): HubCache {
    makeDirsSync(cacheDir); // not mkdirSync's recursive mode: it spins for ever under /proc (core/make-dirs.ts)
    const file = join(cacheDir, cacheFileOf(endpoint));
    try {
      return new HubCache(file, HubCache.connect(file));
    } catch {
      // A damaged cache is thrown away: it only ever holds what the Hub can answer again.
      for (const f of [file, `${file}-wal`, `${file}-shm`]) rmSync(f, { force: true });
      return new HubCache(file, HubCache.connect(file));
    }
  }

  private static connect(file: string): Database.Database {
    const db = new Database(file);
    db.pragma("busy_timeout = 5000");
    // A cache already set up is only opened: the schema and WAL switch run once (user_version marks it).
    if (db.pragma("user_version", { simple: true }) !== SCHEMA_VERSION) {
      db.pragma("journal_mode = WAL");
      db.exec(SCHEMA);
      db.pragma(`user_version = ${SCHEMA_VERSION}`);
    }
    db.pragma("synchronous = NORMAL");
    return db;
  }

  close(): void {
    this.db.close();
  }

  settings(): CacheSettings {
    const rows = this.db.prepare("SELECT key, value FROM cache_config").all() as { key: string; value: string }[];
    const s = { ...DEFAULTS };
    for (const r of rows) {
      const n = Number(r.value);
      if (r.key in s && Number.isFinite(n) && n >= 0) (s as Record<string, number>)[r.key] = n;
    }
    return s;
  }

  setSetting(key: keyof CacheSettings, value: number): void {
    this.db.prepare("INSERT OR REPLACE INTO cache_config(key, value) VALUES (?, ?)").run(key, String(value));
  }

  /** The cached models of a search, in order; null when absent or older than the TTL (any age with `anyAge`, for offline use). */
  getSearch(key: SearchKey, options: { anyAge?: boolean; now?: number } = {}): HubModel[] | null {
    const now = options.now ?? Date.now();
    const row = this.db
      .prepare("SELECT result_repo_ids, searched_at FROM search_cache WHERE query_normalized=? AND kind=? AND sort=? AND result_limit=? AND result_offset=?")
      .get(normalizeQuery(key.query), key.kind ?? "", key.sort ?? "", key.limit, key.offset ?? 0) as { result_repo_ids: string; searched_at: number } | undefined;
    if (!row) return null;
    if (!options.anyAge && now - row.searched_at > this.settings().searchTtlSeconds * 1000) return null;
    const ids = JSON.parse(row.result_repo_ids) as string[];
    const get = this.db.prepare("SELECT model_json FROM repo_details WHERE repo_id=?");
    const touch = this.db.prepare("UPDATE repo_details SET last_accessed=? WHERE repo_id=?");
    const models: HubModel[] = [];
    for (const id of ids) {
      const r = get.get(id) as { model_json: string } | undefined;
      // A repo evicted since: the whole entry is a miss (the original returned fewer models).
      if (!r) return null;
      models.push(JSON.parse(r.model_json) as HubModel);
      touch.run(now, id);
    }
    return models;
  }

  putSearch(key: SearchKey, models: HubModel[], now: number = Date.now()): void {
    this.db.transaction(() => {
      for (const m of models) this.putDetailsRow(m, now);
      this.db
        .prepare("INSERT OR REPLACE INTO search_cache VALUES (?, ?, ?, ?, ?, ?, ?)")
        .run(normalizeQuery(key.query), key.kind ?? "", key.sort ?? "", key.limit, key.offset ?? 0, JSON.stringify(models.map((m) => m.repoId)), now);
    })();
    this.evict();
  }

  /** A repo's cached details, if still usable for a search result whose lastModified is `lastModified`. */
  getDetails(repoId: string, lastModified: string | null, now: number = Date.now()): HubModel | null {
    const row = this.db.prepare("SELECT model_json, last_modified, cached_at FROM repo_details WHERE repo_id=?").get(repoId) as
      | { model_json: string; last_modified: string | null; cached_at: number }
      | undefined;
    if (!row) return null;
    const fresh = now - row.cached_at < this.settings().lastModifiedCheckSeconds * 1000;
    if (!fresh) {
      const a = row.last_modified ? Date.parse(row.last_modified) : NaN;
      const b = lastModified ? Date.parse(lastModified) : NaN;
      if (lastModified && (!Number.isFinite(a) || !Number.isFinite(b) || b > a)) return null;
    }
    return JSON.parse(row.model_json) as HubModel;
  }

  /** Several repos' details in one transaction (a search's repos, without the search itself). */
  putModels(models: HubModel[], now: number = Date.now()): void {
    if (models.length === 0) return;
    this.db.transaction(() => {
      for (const m of models) this.putDetailsRow(m, now);
    })();
    this.evict();
  }

  putDetails(model: HubModel, now: number = Date.now()): void {
    this.putDetailsRow(model, now);
    this.evict();
  }

  private putDetailsRow(m: HubModel, now: number): void {
    const json = JSON.stringify(m);
    this.db.prepare("INSERT OR REPLACE INTO repo_details VALUES (?, ?, ?, ?, ?, ?)").run(m.repoId, m.releaseDate, json, now, now, json.length + 200);
  }

  getTree(repoId: string, revision: string): CachedTree | null {
    const row = this.db.prepare("SELECT commit_sha, files_json, info_json, cached_at FROM repo_trees WHERE repo_id=? AND revision=?").get(repoId, revision) as
      | { commit_sha: string | null; files_json: string; info_json: string | null; cached_at: number }
      | undefined;
    if (!row) return null;
    const info: unknown = row.info_json ? JSON.parse(row.info_json) : null;
    return { repoId, revision, commitSha: row.commit_sha, files: JSON.parse(row.files_json) as RepoFile[], info, cachedAt: row.cached_at };
  }

  putTree(tree: Omit<CachedTree, "cachedAt">, now: number = Date.now()): void {
    this.db
      .prepare("INSERT OR REPLACE INTO repo_trees VALUES (?, ?, ?, ?, ?, ?)")
      .run(tree.repoId, tree.revision, tree.commitSha, JSON.stringify(tree.files), tree.info === null || tree.info === undefined ? null : JSON.stringify(tree.info), now);
  }

  /** LRU eviction past the size budget, then searches that name an evicted repo. Returns the repos evicted. */
  evict(): number {
    const { maxSizeBytes } = this.settings();
    const total = (this.db.prepare("SELECT COALESCE(SUM(data_size_bytes), 0) AS n FROM repo_details").get() as { n: number }).n;
    if (total <= maxSizeBytes) return 0;
    let excess = total - maxSizeBytes;
    let evicted = 0;
    const rows = this.db.prepare("SELECT repo_id, data_size_bytes FROM repo_details ORDER BY last_accessed ASC, cached_at ASC").all() as { repo_id: string; data_size_bytes: number }[];
    const del = this.db.prepare("DELETE FROM repo_details WHERE repo_id=?");
    this.db.transaction(() => {
      for (const r of rows) {
        if (excess <= 0) break;
        del.run(r.repo_id);
        excess -= r.data_size_bytes;
        evicted++;
      }
      this.db.exec(
        "DELETE FROM search_cache WHERE EXISTS (SELECT 1 FROM json_each(search_cache.result_repo_ids) j WHERE j.value NOT IN (SELECT repo_id FROM repo_details))",
      );
    })();
    return evicted;
  }

  stats(): { searchCount: number; repoCount: number; treeCount: number; totalSizeBytes: number; maxSizeBytes: number } {
    const one = (sql: string): number => (this.db.prepare(sql).get() as { n: number }).n;
    return {
      searchCount: one("SELECT COUNT(*) AS n FROM search_cache"),
      repoCount: one("SELECT COUNT(*) AS n FROM repo_details"),
      treeCount: one("SELECT COUNT(*) AS n FROM repo_trees"),
      totalSizeBytes: one("SELECT COALESCE(SUM(data_size_bytes), 0) AS n FROM repo_details"),
      maxSizeBytes: this.settings().maxSizeBytes,
    };
  }

  clear(): void {
    this.db.exec("DELETE FROM search_cache; DELETE FROM repo_details; DELETE FROM repo_trees;");
  }
}
