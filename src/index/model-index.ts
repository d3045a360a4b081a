// The SQLite index of the library (.model-library/index.db): a derived cache of every metadata.json, for search,
// filters, hash lookups and stats. WAL lets other processes read while one writes; every write, the FTS5
// rows included, happens in one transaction, so the text index never disagrees with the rows.
//
// Search strategy (measured at 100k models by bench/search.ts):
// - the FTS5 table is contentless (the text lives in metadata.json and the models row already), keyed by
//   models.doc_id, written by this class in the same transaction as the row (no triggers parsing JSON);
// - with no filter and relevance order, the top N are picked inside FTS5 (rowid + bm25 only) and only those
//   N rows are then read from `models`: a broad prefix like "ins" matches tens of thousands of rows, and
//   reading all of them to keep 50 is what made the naive query slow;
// - a typed prefix longer than the prefix index covers ("llama") is expanded into the terms the index holds
//   ("llama" OR "llama3"): FTS5 then reads doclists lazily instead of merging every term of the prefix first;
// - filters are SQL on `models` joined to the FTS hits, tag filters are sub-selects on model_tags, so
//   totals and pages are right under every filter (the original filtered tags after LIMIT).
import Database from "better-sqlite3";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { diskFullOf } from "./disk-full.js";
import { MIGRATIONS, SCHEMA_VERSION } from "./index-schema.js";
import { buildFtsQuery, hasPrefixScan, longestTermLength, matchTerms, type PrefixExpander } from "./fts-query.js";
import { BulkLoader } from "./bulk-load.js";
import { FACET_COLUMNS, FacetColumns, type GroupedIds } from "./facet-columns.js";
import { SortOrders, countMask, filterMask, idsOfMask, intersectIds, pageInOrder, pageTwoGroups } from "./filter-mask.js";
import { MODEL_COLUMNS, MODEL_MARKS, ROW_FIELDS, hashKeys, prepareDerived, prepareRows, tagKeys, writeRows, type PreparedRows } from "./index-rows.js";
import type {
  Facets,
  FileMatch,
  IndexRecord,
  IndexStats,
  ModelFilesRecord,
  ModelRecord,
  SearchFilters,
  SearchOptions,
  SearchResult,
  SortMode,
} from "./index-types.js";

export const DEFAULT_LIMIT = 50;
export const MAX_LIMIT = 10_000;

// bm25 column weights, in FTS column order: name > tags > family/architecture/type > description/notes/repo.
const RANK: Record<FtsTable, string> = {
  model_fts: "bm25(model_fts, 10.0, 4.0, 2.0, 1.0)",
  model_names: "bm25(model_names)",
};

// Queries whose every term is 1-2 characters ("q", "7b", "sd") match most of a large library if read
// everywhere. They search the short fields only (names, tags/quantization/format, family/architecture/type:
// `sd` finds family sd1), not descriptions and notes, through the prefix index (prefix='1 2 3').
const SHORT_TERM_CHARS = 2;

// Up to this many hits, a one-term query is ranked by exact bm25 (about 0.7 µs per hit measured, so
// ~1.5 ms here); beyond it, and for every query of two or more terms, see broadPage(). bm25 counts the
// documents of each term on its own (its IDF), reading every term's whole doclist again: for "dolphin llama"
// (1089 hits) that was ~9 ms of "llama"'s 38k documents, for "shieth llama" (32 hits) still ~7 ms.
const RANK_ALL_MAX = 2000;

// A prefix that matches more terms than this is left to FTS5's prefix scan (see expandPrefix).
const MAX_PREFIX_TERMS = 16;

// Remembered totals (see cachedCount); a bound so that a long session cannot grow the map forever.
const MAX_CACHED_COUNTS = 1000;

// Remembered hit lists of filtered searches (see hitList): paging through one reads FTS5 once.
const MAX_CACHED_HIT_LISTS = 8;

// Name hits read in one bounded chunk for a filtered names-first page (see namesFirstPage); more: all of them.
const NAMES_CHUNK_MAX = 5000;

const NULLABLE_FILTER_COLUMNS = new Set(["subtype", "family", "format", "quantization"]);


interface ModelRow {
  doc_id: number;
  id: string;
  path: string;
  official_name: string;
  cleaned_name: string;
  model_type: string;
  subtype: string | null;
  family: string | null;
  format: string | null;
  quantization: string | null;
  architecture: string | null;
  tags_json: string;
  size_bytes: number;
  parameter_count: number | null;
  context_length: number | null;
  sha256: string | null;
  blake3: string | null;
  added_at: string | null;
  updated_at: string;
}

// A whole record (every ROW_FIELDS column but the metadata.json stat); callers append `WHERE m.doc_id = ?` or `WHERE m.id = ?`.
const SELECT_RECORD = `SELECT m.doc_id, m.id, ${ROW_FIELDS.filter(([c]) => !c.startsWith("meta_"))
  .map(([c]) => `m.${c}`)
  .join(", ")} FROM models m`;

const UPDATE_MODEL = `UPDATE models SET ${ROW_FIELDS.map(([c]) => `${c}=?`).join(", ")} WHERE doc_id=?`;
const INSERT_MODEL = `INSERT INTO models (id, ${MODEL_COLUMNS}) VALUES (?,${MODEL_MARKS})`;

export class ModelIndex {
  readonly dbPath: string;
  private db: Database.Database;
  // The file this connection opened (device + inode): a damaged file is moved aside only if it is still
  // the one at dbPath (another process may have replaced it already).
  private fileId: string;
  /**
   * Called when SQLite reports the file damaged ("malformed", "not a database") during a call: the store
   * moves it aside (replaceDamaged), rebuilds from the metadata.json files, and the call is retried once.
   */
  onCorrupt: ((error: ModelLibraryError) => void) | null = null;
  private guarding = false;
  private readonly statements = new Map<string, Database.Statement>();
  // Totals of recent (query, filters), valid while the data is: paging through a broad query re-counts
  // nothing. See dataVersion().
  private readonly counts = new Map<string, number>();
  // Prefix expansions (see expandPrefix), valid while the counts are.
  private readonly expansions = new Map<string, string[] | null>();
  private countsVersion = "";
  // The doc_id lists facets count against (see facet-columns.ts), and the countsVersion they were read at.
  private facetCache: FacetColumns | null = null;
  private facetCacheVersion = "";
  // Each sort order's doc_ids, read with the facet lists (filtered pages walk them: filter-mask.ts).
  private sortOrders: SortOrders | null = null;
  // The rowids of recent FTS queries (group_concat text), valid while the counts are.
  private readonly hitLists = new Map<string, string | null>();
  // Filtered lists and searches in memory (filter-mask.ts), for a connection that answers many (a server: see
  // prepareSearch); off, they run as SQL joins, cheaper for a one-shot `mlib list --type llm` than reading the
  // value lists and sort orders first (~0.1-0.3 s at 100k models), and the reference the tests compare against.
  private memoryFilters = false;

  // Inside a caller's transaction an upsert runs without a savepoint of its own: a savepoint makes SQLite
  // copy every page it touches into a statement journal, which took ~120 µs of the ~200 µs per upsert of a
  // bulk reindex (measured). The record is checked before anything is written, so what can still fail is
  // SQLite itself (disk full...), and that error leaves the caller's transaction, which then rolls back whole.
  private upsertTxn: Database.Transaction<(rows: PreparedRows) => void>;

  private constructor(dbPath: string, db: Database.Database) {
    this.dbPath = dbPath;
    this.db = db;
    this.fileId = fileIdOf(dbPath);
    this.upsertTxn = db.transaction((rows: PreparedRows) => this.upsertNow(rows));
  }

  /** Opens (creating if needed) the index at dbPath and brings its schema up to date. */
  static open(dbPath: string): ModelIndex {
    try {
      fs.mkdirSync(path.dirname(dbPath), { recursive: true });
    } catch (e) {
      throw ioError(path.dirname(dbPath), "create the index folder", e);
    }
    return new ModelIndex(dbPath, openDatabase(dbPath));
  }

  /**
   * Moves a damaged index file aside (`<file>.damaged-<date>`, its -wal too) and opens a new, empty index
   * in its place; returns where the damaged file went (null when another process had already replaced it).
   * The caller fills the new index (it is derived data: the store rebuilds it from the metadata.json files).
   */
  replaceDamaged(): string | null {
    try {
      this.db.close();
    } catch {
      // a damaged file may fail even to close cleanly: it is being replaced anyway
    }
    this.statements.clear();
    this.forgetCaches();
    this.countsVersion = "";
    const aside = fileIdOf(this.dbPath) === this.fileId ? ModelIndex.moveAside(this.dbPath) : null;
    this.db = openDatabase(this.dbPath);
    this.fileId = fileIdOf(this.dbPath);
    this.upsertTxn = this.db.transaction((rows: PreparedRows) => this.upsertNow(rows));
    return aside;
  }

  /** Renames a damaged index file (and its -wal) to `<file>.damaged-<date>`, drops its -shm; returns the new name. */
  static moveAside(dbPath: string): string {
    const aside = `${dbPath}.damaged-${new Date().toISOString().replace(/[:.]/g, "-")}`;
    try {
      fs.renameSync(dbPath, aside);
      if (fs.existsSync(`${dbPath}-wal`)) fs.renameSync(`${dbPath}-wal`, `${aside}-wal`);
      fs.rmSync(`${dbPath}-shm`, { force: true });
    } catch (e) {
      throw ioError(dbPath, "move the damaged index aside", e);
    }
    return aside;
  }

  /**
   * Runs fn; when SQLite finds the file damaged, lets onCorrupt rebuild the index and runs fn once more.
   * Calls nested in a guarded one (an upsert in a transaction) leave it to the outermost.
   */
  private guard<T>(fn: () => T): T {
    if (this.guarding) return fn();
    this.guarding = true;
    try {
      try {
        return fn();
      } catch (e) {
        const damage = this.onCorrupt ? corruptionOf(this.dbPath, e) : null;
        if (!damage || this.db.inTransaction) throw e;
        this.onCorrupt!(damage);
        return fn();
      }
    } catch (e) {
      throw diskFullOf(this.dbPath, e) ?? lockedOf(this.dbPath, e) ?? e;
    } finally {
      this.guarding = false;
    }
  }

  close(): void {
    if (this.db.open) this.db.close();
  }

  /**
   * Runs fn in one write transaction (nested calls become savepoints); everything or nothing is written.
   * IMMEDIATE takes the write lock up front: a deferred transaction that reads and then writes fails at once
   * with SQLITE_BUSY when another process committed in between (WAL cannot upgrade a stale snapshot), while
   * waiting for the lock at BEGIN goes through busy_timeout. Upserts inside it join it without savepoints
   * (see upsertTxn): let an error from one propagate out of fn rather than catching it and carrying on.
   */
  transaction<T>(fn: () => T): T {
    return this.guard(() => this.db.transaction(fn).immediate());
  }

  /**
   * Opens a write transaction that later calls join (upserts, upsertMany) until commitOpen() or rollbackOpen():
   * for a writer that spreads one transaction over many calls (the merge's writer thread, index-writer.ts).
   * IMMEDIATE, as transaction(): the write lock is taken here, waiting through busy_timeout.
   */
  beginOpen(): void {
    if (!this.db.inTransaction) this.db.exec("BEGIN IMMEDIATE");
  }

  /** Commits the transaction beginOpen() opened (nothing when none is open). */
  commitOpen(): void {
    if (this.db.inTransaction) this.db.exec("COMMIT");
  }

  /** Rolls back the transaction beginOpen() opened (nothing when none is open, e.g. SQLite already rolled it back). */
  rollbackOpen(): void {
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
  }

  schemaVersion(): number {
    return this.db.pragma("user_version", { simple: true }) as number;
  }

  // ---------------------------------------------------------------- writes

  upsert(record: IndexRecord): void {
    const rows = prepareRows(this.dbPath, record); // checks the record before anything is written
    this.guard(() => {
      if (this.db.inTransaction) this.upsertNow(rows);
      else this.upsertTxn.immediate(rows);
    });
  }

  private upsertNow(rows: PreparedRows): void {
    const existing = this.stmt("SELECT doc_id FROM models WHERE id = ?").pluck().get(rows.id) as number | undefined;
    let docId: number;
    if (existing !== undefined) {
      docId = existing;
      this.removeDerived(docId);
      this.stmt(UPDATE_MODEL).run(...rows.model, docId);
    } else {
      docId = Number(this.stmt(INSERT_MODEL).run(rows.id, ...rows.model).lastInsertRowid);
    }
    writeRows(prepareDerived((sql) => this.stmt(sql)), docId, rows);
  }

  /**
   * Adds or replaces many models at once: the same rows as upsert() of each, in one transaction (or in the
   * caller's), every record checked before anything is written. Cheaper than upserts per model: the ids already
   * indexed are found in one statement (a new model needs no lookup, no delete) and the statements are looked up
   * once. Writing table by table with sorted hash and tag keys measured no faster (~28 µs of CPU a model either
   * way at 10,000, nearly all SQLite's own B-tree and FTS5 work), so the rows are written as upsert writes them.
   * A record listed twice: the last one wins, as with upserts in a row.
   */
  upsertMany(records: readonly IndexRecord[]): void {
    const byId = new Map<string, PreparedRows>();
    // A Map keeps a key at its first place: the model gets the doc_id its first upsert would give, the last values.
    for (const r of records) {
      const rows = prepareRows(this.dbPath, r);
      byId.set(rows.id, rows);
    }
    const list = [...byId.values()];
    if (list.length === 0) return;
    this.guard(() => {
      if (this.db.inTransaction) this.upsertManyNow(list);
      else this.db.transaction(() => this.upsertManyNow(list)).immediate();
    });
  }

  private upsertManyNow(list: PreparedRows[]): void {
    const known = new Map(
      this.stmt("SELECT id, doc_id FROM models WHERE id IN (SELECT value FROM json_each(?))")
        .raw()
        .all(JSON.stringify(list.map((r) => r.id))) as [string, number][],
    );
    const insert = this.stmt(INSERT_MODEL);
    const s = prepareDerived((sql) => this.stmt(sql));
    for (const rows of list) {
      if (known.has(rows.id)) this.upsertNow(rows);
      else writeRows(s, Number(insert.run(rows.id, ...rows.model).lastInsertRowid), rows);
    }
  }

  /**
   * Replaces the whole index with the records added to the returned loader, in one write transaction
   * (see bulk-load.ts): call add() for each model, then finish(), or abort() to keep the old index.
   */
  bulkReplace(): BulkLoader {
    return this.guard(() => new BulkLoader(this.db, this.dbPath, () => undefined));
  }

  /** The E_CORRUPT error when `e` says this index file is damaged, else null (for calls made outside the guard). */
  damageOf(e: unknown): ModelLibraryError | null {
    return corruptionOf(this.dbPath, e);
  }

  /** Lets onCorrupt handle a damage found outside a guarded call (a bulk load's rows): rebuilds the index. */
  recoverFrom(damage: ModelLibraryError): void {
    if (!this.onCorrupt) throw damage;
    this.onCorrupt(damage);
  }

  delete(id: string): boolean {
    return this.transaction(() => {
      const docId = this.stmt("SELECT doc_id FROM models WHERE id = ?").pluck().get(id) as number | undefined;
      if (docId === undefined) return false;
      this.removeDerived(docId);
      this.stmt("DELETE FROM models WHERE doc_id = ?").run(docId);
      return true;
    });
  }

  clear(): void {
    this.transaction(() => {
      // 'delete-all' is how a contentless FTS5 table is emptied in one step.
      this.db.exec("INSERT INTO model_fts (model_fts) VALUES ('delete-all'); INSERT INTO model_names (model_names) VALUES ('delete-all'); DELETE FROM model_tags; DELETE FROM model_files; DELETE FROM model_hashes; DELETE FROM models;");
    });
  }

  /** Deletes everything of a model but its models row, which must still hold what was indexed. */
  private removeDerived(docId: number): void {
    // model_tags and model_hashes are keyed by tag / hash first, with no index by doc_id (building those
    // two indexes was a tenth of a reindex): the keys of this model are derived again from its row and files.
    const row = this.stmt("SELECT tags_json, sha256, blake3 FROM models WHERE doc_id = ?").get(docId) as
      | { tags_json: string; sha256: string | null; blake3: string | null }
      | undefined;
    const files = this.stmt("SELECT sha256, blake3, fast_hash AS fastHash FROM model_files WHERE doc_id = ?").all(docId) as {
      sha256: string | null;
      blake3: string | null;
      fastHash: string | null;
    }[];
    const tags = parseTags(row?.tags_json);
    if (tags) for (const t of tagKeys(tags)) this.stmt("DELETE FROM model_tags WHERE tag = ? AND doc_id = ?").run(t, docId);
    else this.stmt("DELETE FROM model_tags WHERE doc_id = ?").run(docId); // unreadable row: a scan, but nothing left behind
    for (const h of hashKeys({ sha256: row?.sha256 ?? null, blake3: row?.blake3 ?? null, files })) {
      this.stmt("DELETE FROM model_hashes WHERE hash = ? AND doc_id = ?").run(h, docId);
    }
    this.stmt("DELETE FROM model_fts WHERE rowid = ?").run(docId);
    this.stmt("DELETE FROM model_names WHERE rowid = ?").run(docId);
    this.stmt("DELETE FROM model_files WHERE doc_id = ?").run(docId);
  }

  // ---------------------------------------------------------------- reads

  get(id: string): ModelRecord | null {
    return this.guard(() => {
      const row = this.stmt(`${SELECT_RECORD} WHERE m.id = ?`).get(id) as ModelRow | undefined;
      return row ? this.toRecord(row) : null;
    });
  }

  count(): number {
    return this.guard(() => this.stmt("SELECT count(*) FROM models").pluck().get() as number);
  }

  /** A named value kept with the index (null when unset); used by the library for reconcile state. */
  getState(key: string): string | null {
    return this.guard(() => (this.stmt("SELECT value FROM library_state WHERE key = ?").pluck().get(key) as string | undefined) ?? null);
  }

  setState(key: string, value: string): void {
    this.guard(() =>
      this.stmt("INSERT INTO library_state (key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value").run(key, value),
    );
  }

  /** The stat of metadata.json recorded when each of these models was indexed (ids not indexed are absent). */
  metaStats(ids: string[]): Map<string, { metaMtimeMs: number; metaSize: number }> {
    return this.guard(() => {
      const rows = this.stmt("SELECT id, meta_mtime_ms, meta_size FROM models WHERE id IN (SELECT value FROM json_each(?))")
        .raw()
        .all(JSON.stringify(ids)) as [string, number, number][];
      return new Map(rows.map(([id, metaMtimeMs, metaSize]) => [id, { metaMtimeMs, metaSize }]));
    });
  }

  /** Every id with the stat of its metadata.json when indexed: what reconcile compares against the disk. */
  syncState(): Map<string, { metaMtimeMs: number; metaSize: number }> {
    return this.guard(() => this.syncStateNow());
  }

  private syncStateNow(): Map<string, { metaMtimeMs: number; metaSize: number }> {
    const out = new Map<string, { metaMtimeMs: number; metaSize: number }>();
    // all() rather than iterate(): iterating crosses into native code per row, several times slower at 100k.
    const rows = this.stmt("SELECT id, meta_mtime_ms, meta_size FROM models").raw().all() as [string, number, number][];
    for (const [id, metaMtimeMs, metaSize] of rows) out.set(id, { metaMtimeMs, metaSize });
    return out;
  }

  /** The ids below a folder (`llm/llama` → `llm/llama/...`, at any depth; "" → every id), from the id index. */
  idsUnder(prefix: string): string[] {
    return this.guard(() =>
      prefix === ""
        ? (this.stmt("SELECT id FROM models").pluck().all() as string[])
        : // '0' follows '/' in code-point order: the range is exactly the ids starting with `prefix/`.
          (this.stmt("SELECT id FROM models WHERE id >= ? AND id < ?").pluck().all(`${prefix}/`, `${prefix}0`) as string[]),
    );
  }

  /** Every id, sorted: read from the id index alone (~25 ms at 100k models where syncState takes ~260). */
  allIds(): string[] {
    return this.guard(() => this.stmt("SELECT id FROM models ORDER BY id").pluck().all() as string[]);
  }

  /**
   * Every model with the fields mapping rules match and its files' names and sizes, in name
   * order (as search sort "name"), in one statement: a mapping of 10,000 models read each metadata.json for
   * them (~0.9 s of a 10,000-link apply). Files by name, as model_files keeps them.
   */
  modelFiles(): ModelFilesRecord[] {
    return this.guard(() => {
      const sql =
        "SELECT m.id, m.official_name, m.model_type, m.subtype, m.family, m.format, m.tags_json, m.meta_mtime_ms, m.meta_size, f.name, f.size FROM models m " +
        "LEFT JOIN model_files f ON f.doc_id = m.doc_id ORDER BY m.official_name, m.id, f.name";
      const rows = this.stmt(sql).raw().all() as [string, string, string, string | null, string | null, string | null, string, number, number, string | null, number | null][];
      const out: ModelFilesRecord[] = [];
      let last: ModelFilesRecord | null = null;
      // Most models share a few tag lists ("[]" above all): each distinct text is parsed once, and the
      // records holding it share the array (10,000 arrays fewer for the GC at 10,000 models).
      const tagLists = new Map<string, string[] | null>();
      for (const [id, officialName, modelType, subtype, family, format, tagsJson, metaMtimeMs, metaSize, name, size] of rows) {
        if (last === null || last.id !== id) {
          let tags = tagLists.get(tagsJson);
          if (tags === undefined) tagLists.set(tagsJson, (tags = parseTags(tagsJson)));
          if (tags === null) throw new ModelLibraryError("E_CORRUPT", `${this.dbPath}: the row of ${id} holds invalid JSON; run a reindex`, { path: this.dbPath });
          last = { id, officialName, modelType, subtype, family, format, tags, files: [], metaMtimeMs, metaSize };
          out.push(last);
        }
        if (name !== null) last.files.push({ name, size: size ?? 0 });
      }
      return out;
    });
  }

  search(query: string, options: SearchOptions = {}): SearchResult {
    return this.guard(() => this.searchNow(query, options));
  }

  private searchNow(query: string, options: SearchOptions): SearchResult {
    const started = performance.now();
    const limit = checkLimit(options.limit);
    const offset = checkOffset(options.offset);
    const sort: SortMode = options.sort ?? "relevance";
    if (!SORTS.has(sort)) throw new ModelLibraryError("E_USAGE", `search: unknown sort "${String(sort)}" (relevance, name, updated, added, size)`);
    const filter = filterSql(options);
    let ids: number[];
    let total: number;
    if (filter.sql && this.memoryFilters) {
      // One read snapshot for the value lists, the sort orders and the hits (deferred: nothing is written).
      ({ ids, total } = this.db.transaction(() => {
        this.checkCaches();
        return this.filteredPage(query, ftsMatch(query, this.expandPrefix), filter, options, sort, limit, offset);
      })());
    } else ({ ids, total } = this.sqlPage(query, filter, sort, limit, offset));
    // The page's rows in one statement, in the order of ids (a statement per row took twice as long).
    const rows = ids.length === 0 ? [] : (this.stmt(`${SELECT_RECORD} JOIN json_each(?) j ON m.doc_id = j.value ORDER BY j.key`).all(JSON.stringify(ids)) as ModelRow[]);
    const models = rows.map((row) => this.toRecord(row));
    return { models, totalCount: total, queryTimeMs: performance.now() - started };
  }

  /**
   * A page under a filter, in memory (filter-mask.ts): the same totals and order as sqlPage. The filter is a
   * mask of doc_ids; a query's hits come from FTS5 alone; a sort walks its order; relevance is bm25 among the
   * filtered hits (one term, few hits) or names first then the rest, newest first (broadPage).
   */
  private filteredPage(query: string, match: FtsMatch | null, filter: FilterSql, options: SearchFilters, sort: SortMode, limit: number, offset: number): { ids: number[]; total: number } {
    const mask = filterMask(this.facetColumns(), options);
    if (mask === null) return this.sqlPage(query, filter, sort, limit, offset); // every list was empty after trimming
    if (match === null) {
      const total = this.cachedCount("list", filter, () => countMask(mask));
      return { ids: pageInOrder(this.sortOrder(sort === "relevance" ? "updated" : sort), mask, offset, limit), total };
    }
    const hits = intersectIds(mask, this.hitList(query, match.all));
    const total = countMask(hits);
    if (sort !== "relevance") return { ids: pageInOrder(this.sortOrder(sort), hits, offset, limit), total };
    if (match.terms <= 1 && total <= RANK_ALL_MAX) return { ids: this.rankedAmong(query, match.all, idsOfMask(hits), limit, offset), total };
    return { ids: this.namesFirstPage(query, match.names, mask, hits, total, offset, limit), total };
  }

  /**
   * broadPage's order among filtered hits: names first, then the rest, each newest first. The page usually lies
   * in the names group: its newest name hits are read a bounded chunk at a time (FTS5 pages by rowid lazily),
   * enough for the page at the filter's density, instead of every name hit (~3-5 ms for a common word).
   */
  private namesFirstPage(query: string, names: Hits, mask: Uint8Array, hits: Uint8Array, total: number, offset: number, limit: number): number[] {
    const need = offset + limit;
    const density = total / mask.length; // matches per doc_id, at least the filter's share among the hits
    const chunk = density > 0 ? Math.ceil((need / density) * 2) + 64 : Infinity;
    if (chunk <= NAMES_CHUNK_MAX) {
      const t = names.table;
      const text = this.ftsCall(query, () =>
        this.stmt(`SELECT group_concat(rowid) FROM (SELECT rowid FROM ${t} WHERE ${t} MATCH ? ORDER BY rowid DESC LIMIT ?)`).pluck().get(names.expr, chunk),
      ) as string | null;
      const read = text ? text.split(",").map(Number) : [];
      for (let i = 1; i < read.length; i++) if (read[i] >= read[i - 1]) return this.namesFirstFull(query, names, mask, hits, offset, limit); // order not kept: read them all
      const kept = read.filter((d) => d < mask.length && mask[d] === 1);
      if (kept.length >= need) return kept.slice(offset, need);
      if (read.length < chunk) {
        // every name hit was read: the names group is complete
        const first = new Uint8Array(mask.length);
        for (const d of kept) first[d] = 1;
        return pageTwoGroups(first, hits, offset, limit);
      }
    }
    return this.namesFirstFull(query, names, mask, hits, offset, limit);
  }

  private namesFirstFull(query: string, names: Hits, mask: Uint8Array, hits: Uint8Array, offset: number, limit: number): number[] {
    return pageTwoGroups(intersectIds(mask, this.hitList(query, names)), hits, offset, limit);
  }

  /** Every rowid of an FTS query (a group_concat list), remembered for a few queries while the data is. */
  private hitList(query: string, hits: Hits): string | null {
    const key = `${hits.table}\0${hits.expr}`;
    if (this.hitLists.has(key)) return this.hitLists.get(key)!;
    const t = hits.table;
    const text = this.ftsCall(query, () => this.stmt(`SELECT group_concat(rowid) FROM ${t} WHERE ${t} MATCH ?`).pluck().get(hits.expr)) as string | null;
    if (this.hitLists.size >= MAX_CACHED_HIT_LISTS) this.hitLists.delete(this.hitLists.keys().next().value!);
    this.hitLists.set(key, text);
    return text;
  }

  /** A page of these doc_ids by bm25 (then rowid), as hitPage "rank": FTS5 scans the hits, scores only these. */
  private rankedAmong(query: string, hits: Hits, docIds: number[], limit: number, offset: number): number[] {
    if (docIds.length === 0) return [];
    const t = hits.table;
    // `+rowid`: a plain rowid IN would make FTS5 run the whole query once per listed id.
    const sql = `SELECT rowid FROM ${t} WHERE ${t} MATCH ? AND +rowid IN (SELECT value FROM json_each(?)) ORDER BY ${RANK[t]}, rowid LIMIT ? OFFSET ?`;
    return this.ftsCall(query, () => this.stmt(sql).pluck().all(hits.expr, JSON.stringify(docIds), limit, offset) as number[]);
  }

  private sortOrder(sort: Exclude<SortMode, "relevance">): Int32Array {
    this.facetColumns();
    return this.sortOrders!.get(sort);
  }

  /** Runs filtered searches in memory (true; prepareSearch turns it on) or as SQL joins (false, the default). */
  useMemoryFilters(on: boolean): void {
    this.memoryFilters = on;
  }

  /**
   * Answers filtered searches in memory from now on and reads what they work from (the value lists, every sort
   * order; read again after any change): ~0.3 s at 100k models, which a server pays at start, not its first user.
   */
  prepareSearch(): void {
    this.memoryFilters = true;
    this.guard(() =>
      this.db.transaction(() => {
        this.checkCaches();
        for (const sort of ["updated", "added", "name", "size"] as const) this.sortOrder(sort);
      })(),
    );
  }

  /** A page and its total through SQL: the unfiltered paths, and every path when memoryFilters is off. */
  private sqlPage(query: string, filter: FilterSql, sort: SortMode, limit: number, offset: number): { ids: number[]; total: number } {
    this.checkCaches();
    const match = ftsMatch(query, this.expandPrefix);
    let ids: number[];
    let total: number;
    if (match === null) {
      const where = filter.sql ? `WHERE ${filter.sql}` : "";
      ids = this.stmt(`SELECT m.doc_id FROM models m ${where} ORDER BY ${orderBy(sort === "relevance" ? "updated" : sort)} LIMIT ? OFFSET ?`)
        .pluck()
        .all(...filter.params, limit, offset) as number[];
      total = this.pageTotal(ids.length, limit, offset, () =>
        this.cachedCount("list", filter, () => this.stmt(`SELECT count(*) FROM models m ${where}`).pluck().get(...filter.params) as number),
      );
    } else if (sort === "relevance" && match.terms > 1) {
      ({ ids, total } = this.broadPage(query, match, filter, limit, offset));
    } else {
      total = this.countHits(query, match.all, filter);
      if (sort !== "relevance") {
        ids = this.hitPage(query, match.all, filter, { models: orderBy(sort) }, limit, offset);
      } else if (total <= RANK_ALL_MAX) {
        ids = this.hitPage(query, match.all, filter, "rank", limit, offset);
      } else {
        ids = this.broadPage(query, match, filter, limit, offset).ids;
      }
    }
    return { ids, total };
  }

  private countHits(query: string, hits: Hits, filter: FilterSql): number {
    return this.cachedCount(`${hits.table}\0${hits.expr}`, filter, () => this.countHitsNow(query, hits, filter));
  }

  /** A count remembered under key + filter until any connection changes the database. */
  private cachedCount(key: string, filter: FilterSql, count: () => number): number {
    const full = this.countKey(key, filter);
    let n = this.counts.get(full);
    if (n === undefined) {
      n = count();
      this.rememberCount(full, n);
    }
    return n;
  }

  /** Forgets remembered totals and prefix expansions: the next searches run as if never seen (benchmarks). */
  forgetCaches(): void {
    this.counts.clear();
    this.expansions.clear();
    this.hitLists.clear();
    this.facetCache = null;
    this.sortOrders = null;
  }

  /** Forgets remembered totals and expansions if the data changed since they were taken; once per search. */
  private checkCaches(): void {
    const version = this.dataVersion();
    if (version !== this.countsVersion) {
      this.forgetCaches();
      this.countsVersion = version;
    }
  }

  /** The key of a remembered count (valid since the last checkCaches()). */
  private countKey(key: string, filter: FilterSql): string {
    return `${key}\0${filter.sql}\0${JSON.stringify(filter.params)}`;
  }

  private rememberCount(full: string, n: number): void {
    if (this.counts.size >= MAX_CACHED_COUNTS) this.counts.clear();
    this.counts.set(full, n);
  }

  /**
   * Changes whenever the database may have changed: PRAGMA data_version moves on commits by other
   * connections, total_changes() on every row this connection writes (committed or not).
   */
  private dataVersion(): string {
    const other = this.stmt("PRAGMA data_version").pluck().get() as number;
    const own = this.stmt("SELECT total_changes()").pluck().get() as number;
    return `${other}:${own}`;
  }

  private countHitsNow(query: string, hits: Hits, filter: FilterSql): number {
    const t = hits.table;
    const sql = filter.sql
      ? `SELECT count(*) FROM ${t} JOIN models m ON m.doc_id = ${t}.rowid WHERE ${t} MATCH ? AND ${filter.sql}`
      : `SELECT count(*) FROM ${t} WHERE ${t} MATCH ?`;
    return this.ftsCall(query, () => this.stmt(sql).pluck().get(hits.expr, ...filter.params) as number);
  }

  private hitPage(query: string, hits: Hits, filter: FilterSql, order: Order, limit: number, offset: number): number[] {
    const t = hits.table;
    const orderSql = order === "rank" ? `${RANK[t]}, ${t}.rowid` : order === "newest" ? `${t}.rowid DESC` : order.models;
    // Without filters and with an order FTS5 can produce itself, the page is picked inside FTS5 and only
    // its rows are read from `models`; otherwise the hits are joined to `models` for the filter or sort.
    const sql =
      !filter.sql && typeof order === "string"
        ? `SELECT rowid FROM ${t} WHERE ${t} MATCH ? ORDER BY ${orderSql} LIMIT ? OFFSET ?`
        : `SELECT m.doc_id FROM ${t} JOIN models m ON m.doc_id = ${t}.rowid WHERE ${t} MATCH ?` +
          `${filter.sql ? ` AND ${filter.sql}` : ""} ORDER BY ${orderSql} LIMIT ? OFFSET ?`;
    return this.ftsCall(query, () => this.stmt(sql).pluck().all(hits.expr, ...filter.params, limit, offset) as number[]);
  }

  /**
   * Relevance order for a query of several terms, or with more than RANK_ALL_MAX hits: models whose name
   * holds every term first, then the others, each group newest first, instead of scoring every hit (bm25
   * over 40k hits took 25-35 ms at 100k models, and among that many hits of a common word the scores differ
   * by little more than name length). With every prefix expanded into plain terms a page is read lazily
   * and the count is the only full pass; a prefix left to FTS5's scan is merged whole before the first row.
   */
  private broadPage(query: string, match: FtsMatch, filter: FilterSql, limit: number, offset: number): { ids: number[]; total: number } {
    const first = this.hitPage(query, match.names, filter, "newest", limit, offset);
    if (first.length === limit || match.rest === null) return { ids: first, total: this.countHits(query, match.all, filter) };
    // How many name hits precede the second group: known from a partial page, counted only past the end.
    const nameHits = first.length > 0 ? offset + first.length : this.countHits(query, match.names, filter);
    const restOffset = Math.max(0, offset - nameHits);
    const key = this.countKey(`${match.all.table}\0${match.all.expr}`, filter);
    if (match.prefixScan && !this.counts.has(key)) {
      // Total not known yet and a prefix scan in the query: one pass over every hit gives both it and the
      // second group, where a count and then a page would each merge the prefix's doclists (~2x the time).
      // Without a scan FTS5 pages lazily (~0.1 ms), and the count below is the only full pass.
      const all = this.allHits(query, match.all, filter);
      this.rememberCount(key, all.length);
      const names = nameHits === 0 ? null : new Set(this.allHits(query, match.names, filter));
      const rest = names ? all.filter((d) => !names.has(d)) : all;
      return { ids: first.concat(rest.slice(restOffset, restOffset + limit - first.length)), total: all.length };
    }
    // No name hits at all (a tag or format word, "llama safetensors"): the rest is every hit, which FTS5
    // pages without evaluating the NOT of the name query.
    const rest = nameHits === 0 ? match.all : match.rest;
    const ids = first.concat(this.hitPage(query, rest, filter, "newest", limit - first.length, restOffset));
    return { ids, total: this.countHits(query, match.all, filter) };
  }

  /** Every hit's doc_id, newest first, read in one call: group_concat instead of a row per hit into JS. */
  private allHits(query: string, hits: Hits, filter: FilterSql): number[] {
    const t = hits.table;
    const inner = filter.sql
      ? `SELECT m.doc_id AS d FROM ${t} JOIN models m ON m.doc_id = ${t}.rowid WHERE ${t} MATCH ? AND ${filter.sql} ORDER BY m.doc_id DESC`
      : `SELECT rowid AS d FROM ${t} WHERE ${t} MATCH ? ORDER BY rowid DESC`;
    const text = this.ftsCall(query, () => this.stmt(`SELECT group_concat(d) FROM (${inner})`).pluck().get(hits.expr, ...filter.params)) as string | null;
    if (!text) return [];
    const ids = text.split(",").map(Number);
    // group_concat keeps the subquery's order in practice, which SQLite does not promise: check it.
    for (let i = 1; i < ids.length; i++) if (ids[i] >= ids[i - 1]) return ids.sort((a, b) => b - a);
    return ids;
  }

  /** Counts per type/subtype/family/format/quantization/tag among the models the query and filters match. */
  facets(query: string, options: SearchFilters = {}): Facets {
    return this.guard(() => this.facetsNow(query, options));
  }

  private facetsNow(query: string, options: SearchFilters): Facets {
    const filter = filterSql(options);
    this.checkCaches();
    const match = ftsMatch(query, this.expandPrefix)?.all ?? null;
    const whole = match === null && !filter.sql;
    // One read snapshot for the lists and the matches (deferred: nothing is written).
    return this.db.transaction((): Facets => {
      if (whole && !this.facetColumnsFresh()) return this.wholeFacets();
      const columns = this.facetColumns();
      let mask: Uint8Array | null = null;
      if (!whole) {
        const t = match?.table;
        const from = match === null ? "models m" : `${t} JOIN models m ON m.doc_id = ${t}.rowid`;
        const where = [match === null ? null : `${t} MATCH ?`, filter.sql || null].filter((w) => w !== null).join(" AND ");
        // Without a filter the FTS rowids are the doc_ids: no join with models at all.
        const sql = filter.sql ? `SELECT group_concat(m.doc_id) FROM ${from} WHERE ${where}` : `SELECT group_concat(rowid) FROM ${t} WHERE ${t} MATCH ?`;
        const params = match === null ? filter.params : [match.expr, ...filter.params];
        mask = columns.mask(this.ftsCall(query, () => this.stmt(sql).pluck().get(...params)) as string | null);
      }
      const facets = {} as Facets;
      for (const [key] of FACET_COLUMNS) facets[key] = facetCounts(columns.rows(key, mask));
      facets.tags = countsOf(columns.rows("tags", mask).map(([k, n]) => ({ k, n })));
      return facets;
    })();
  }

  /**
   * Reads the doc_id lists facets count against, if the data changed since they were read (~0.1 s at 100k
   * models): a server can call this once at start, so that no user's first filtered facets pay for it.
   */
  prepareFacets(): void {
    this.guard(() => {
      this.checkCaches();
      this.db.transaction(() => this.facetColumns())();
    });
  }

  private facetColumnsFresh(): boolean {
    return this.facetCache !== null && this.facetCacheVersion === this.countsVersion;
  }

  private facetColumns(): FacetColumns {
    if (!this.facetColumnsFresh()) {
      this.facetCache = new FacetColumns((sql) => this.stmt(sql).raw().all() as GroupedIds);
      this.sortOrders = new SortOrders((sort) => this.stmt(`SELECT m.doc_id FROM models m ORDER BY ${orderBy(sort)}`).pluck().all() as number[]);
      this.facetCacheVersion = this.countsVersion;
    }
    return this.facetCache!;
  }

  /** Facets of every model without the doc_id lists: each group walks its column's index (tags the model_tags key). */
  private wholeFacets(): Facets {
    const facets = {} as Facets;
    for (const [key, column] of FACET_COLUMNS) {
      facets[key] = facetCounts(this.stmt(`SELECT ${column} AS k, count(*) AS n FROM models GROUP BY ${column}`).raw().all() as [string | null, number][]);
    }
    facets.tags = countsOf(this.stmt("SELECT tag AS k, count(*) AS n FROM model_tags GROUP BY tag").all() as { k: string; n: number }[]);
    return facets;
  }

  /** The model holding a file with this sha256/blake3 (primary or any file) or fast hash; null if none. */
  findByHash(hash: string): ModelRecord | null {
    return this.guard(() => this.findByHashNow(hash));
  }

  private findByHashNow(hash: string): ModelRecord | null {
    const h = hash.trim().toLowerCase();
    if (!h) return null;
    // Prefer the model whose primary file has the hash, then the lowest doc_id, so the answer is stable.
    const docId = this.stmt(
      "SELECT h.doc_id FROM model_hashes h JOIN models m ON m.doc_id = h.doc_id WHERE h.hash = ? " +
        "ORDER BY (m.sha256 = h.hash OR m.blake3 = h.hash) DESC, h.doc_id LIMIT 1",
    )
      .pluck()
      .get(h) as number | undefined;
    if (docId === undefined) return null;
    return this.toRecord(this.stmt(`${SELECT_RECORD} WHERE m.doc_id = ?`).get(docId) as ModelRow);
  }

  /**
   * Which of these hashes some model of the index holds (lowercased), in one statement: a merge asks it for
   * 10,000 models at once, where a findByHash each cost ~17 µs (~0.17 s) and nearly all of them find nothing.
   */
  knownHashes(hashes: Iterable<string>): Set<string> {
    const list = [...new Set([...hashes].map((h) => h.trim().toLowerCase()).filter((h) => h !== ""))];
    if (list.length === 0) return new Set();
    return this.guard(
      () => new Set(this.stmt("SELECT DISTINCT hash FROM model_hashes WHERE hash IN (SELECT value FROM json_each(?))").pluck().all(JSON.stringify(list)) as string[]),
    );
  }

  /** Files already in the library with this size and fast hash: the importer's cheap duplicate pre-check. */
  findFilesBySizeAndFastHash(size: number, fastHash: string): FileMatch[] {
    return this.guard(() => this.findFilesNow(size, fastHash));
  }

  private findFilesNow(size: number, fastHash: string): FileMatch[] {
    return this.stmt(
      "SELECT m.id AS modelId, f.name AS name, f.sha256 AS sha256 FROM model_hashes h " +
        "JOIN model_files f ON f.doc_id = h.doc_id AND f.fast_hash = h.hash JOIN models m ON m.doc_id = h.doc_id " +
        "WHERE h.hash = ? AND f.size = ? ORDER BY m.id, f.name",
    ).all(fastHash.trim().toLowerCase(), size) as FileMatch[];
  }

  stats(): IndexStats {
    return this.guard(() => this.statsNow());
  }

  private statsNow(): IndexStats {
    const totals = this.stmt("SELECT count(*) AS n, coalesce(sum(size_bytes), 0) AS bytes FROM models").get() as { n: number; bytes: number };
    // Grouping on the bare column lets SQLite walk that column's (column, size_bytes) index instead of
    // sorting or reading every row; NULL becomes "unknown" in groupsOf.
    const group = (column: string): { counts: Record<string, number>; bytes: Record<string, number> } =>
      groupsOf(this.stmt(`SELECT ${column} AS k, count(*) AS n, coalesce(sum(size_bytes), 0) AS b FROM models GROUP BY ${column}`).all() as GroupRow[]);
    const type = group("model_type");
    const family = group("family");
    const format = group("format");
    const quant = group("quantization");
    return {
      count: totals.n,
      totalBytes: totals.bytes,
      byType: type.counts,
      byFamily: family.counts,
      byFormat: format.counts,
      byQuantization: quant.counts,
      bytesByType: type.bytes,
      bytesByFamily: family.bytes,
      bytesByFormat: format.bytes,
      bytesByQuantization: quant.bytes,
    };
  }

  /** Merges FTS5 segments; worth running after a full reindex (queries then read one segment per term). */
  optimize(): void {
    this.db.exec("INSERT INTO model_fts (model_fts) VALUES ('optimize'); INSERT INTO model_names (model_names) VALUES ('optimize'); PRAGMA optimize;");
  }

  /** Folds the WAL back into the database file (e.g. after a reindex, before a backup). */
  checkpoint(): void {
    this.db.pragma("wal_checkpoint(TRUNCATE)");
  }

  // ---------------------------------------------------------------- helpers

  private pageTotal(got: number, limit: number, offset: number, count: () => number): number {
    // A short first page already tells the total; the count query is only needed when the page is full.
    if (offset === 0 && got < limit) return got;
    return count();
  }

  /**
   * The terms of model_fts starting with token, or null when there are more than MAX_PREFIX_TERMS (FTS5's
   * own prefix scan then does it). "llama"* read as ("llama" OR "llama3") took 1.7 ms instead of 3.8 ms at
   * 100k models, and ANDed with "safetensors" 2.0 ms instead of 6.1 (FTS5 merges every term of a prefix that
   * no prefix index covers, with their positions, before the first row); the lookup itself costs ~0.1-0.7 ms.
   */
  private readonly expandPrefix: PrefixExpander = (token) => {
    const known = this.expansions.get(token);
    if (known !== undefined) return known;
    if (this.expansions.size >= MAX_CACHED_COUNTS) this.expansions.clear();
    const next = token.slice(0, -1) + String.fromCharCode(token.charCodeAt(token.length - 1) + 1);
    const terms = this.stmt("SELECT term FROM temp.model_fts_terms WHERE term >= ? AND term < ? LIMIT ?")
      .pluck()
      .all(token, next, MAX_PREFIX_TERMS + 1) as string[];
    const result = terms.length > MAX_PREFIX_TERMS ? null : terms;
    this.expansions.set(token, result);
    return result;
  };

  private ftsCall<T>(query: string, fn: () => T): T {
    try {
      return fn();
    } catch (e) {
      if (e instanceof Database.SqliteError && !isDamageCode(e.code)) {
        throw new ModelLibraryError("E_INVALID", `${this.dbPath}: search for ${JSON.stringify(query)} failed: ${e.message}`, {
          path: this.dbPath,
          cause: e,
        });
      }
      throw e;
    }
  }

  private stmt(sql: string): Database.Statement {
    let s = this.statements.get(sql);
    if (!s) {
      s = this.db.prepare(sql);
      // Filter lists of different lengths make different SQL; bound the cache so it cannot grow forever.
      if (this.statements.size > 500) this.statements.clear();
      this.statements.set(sql, s);
    }
    return s;
  }

  private toRecord(row: ModelRow): ModelRecord {
    const dbPath = this.dbPath;
    const corrupt = (e: unknown): ModelLibraryError =>
      new ModelLibraryError("E_CORRUPT", `${dbPath}: the row of ${row.id} holds invalid JSON; run a reindex`, { path: dbPath, cause: e });
    let tags: string[];
    try {
      tags = JSON.parse(row.tags_json) as string[];
    } catch (e) {
      throw corrupt(e);
    }
    const record: ModelRecord = {
      id: row.id,
      path: row.path,
      officialName: row.official_name,
      cleanedName: row.cleaned_name,
      modelType: row.model_type,
      subtype: row.subtype,
      family: row.family,
      format: row.format,
      quantization: row.quantization,
      architecture: row.architecture,
      tags,
      sizeBytes: row.size_bytes,
      parameterCount: row.parameter_count,
      contextLength: row.context_length,
      hashes: { sha256: row.sha256, blake3: row.blake3 },
      addedAt: row.added_at,
      updatedAt: row.updated_at,
    };
    return record;
  }
}

// ------------------------------------------------------------------ module helpers

/** The tags of a models row, or null when tags_json is not a JSON list. */
function parseTags(tagsJson: string | undefined): string[] | null {
  if (tagsJson === undefined) return [];
  try {
    const v = JSON.parse(tagsJson) as unknown;
    return Array.isArray(v) ? v.filter((t): t is string => typeof t === "string") : null;
  } catch {
    return null;
  }
}

function migrate(db: Database.Database, dbPath: string): void {
  const current = db.pragma("user_version", { simple: true }) as number;
  if (current > SCHEMA_VERSION) {
    throw new ModelLibraryError(
      "E_UNSUPPORTED",
      `${dbPath}: index schema version ${current} is newer than this program's (${SCHEMA_VERSION}); upgrade, or delete the file to rebuild it`,
      { path: dbPath },
    );
  }
  if (current === SCHEMA_VERSION) return;
  // IMMEDIATE takes the write lock before reading user_version again, so two processes opening a new
  // library at once do not both run the same migration.
  db.transaction(() => {
    let version = db.pragma("user_version", { simple: true }) as number;
    while (version < SCHEMA_VERSION) {
      MIGRATIONS[version](db);
      version += 1;
      db.pragma(`user_version = ${version}`);
    }
  }).immediate();
}

/**
 * Opens the SQLite file at dbPath with our settings and brings its schema up to date. On a full disk SQLite may not
 * be able to make the index's shared-memory file (`index.db-shm`, made again at the first open): the index is then
 * opened in EXCLUSIVE locking mode, whose WAL index lives in this process's memory, so the library still opens —
 * above all for `mlib rm`, which frees space. Other processes wait for this one meanwhile (busy_timeout).
 */
function openDatabase(dbPath: string): Database.Database {
  try {
    return openWith(dbPath, false);
  } catch (e) {
    if (!(e instanceof ModelLibraryError && e.cause instanceof Database.SqliteError && e.cause.code === "SQLITE_IOERR_SHMSIZE")) throw e;
    return openWith(dbPath, true);
  }
}

function openWith(dbPath: string, exclusive: boolean): Database.Database {
  let db: Database.Database;
  try {
    db = new Database(dbPath);
  } catch (e) {
    throw asIndexError(dbPath, e);
  }
  try {
    // Before the first access of the file: only then does SQLite keep the WAL index in memory.
    if (exclusive) db.pragma("locking_mode = EXCLUSIVE");
    // busy_timeout first: switching to WAL and migrating both need locks another process may hold.
    db.pragma(`busy_timeout = ${busyTimeoutMs()}`);
    // 16 KiB pages: fewer, larger writes and shallower B-trees for the FTS doclists; it only takes
    // effect on a new, empty database, before WAL is switched on.
    db.pragma("page_size = 16384");
    switchToWal(db);
    // Up to 64 MiB of page cache (allocated as used): a reindex touches every index, and searches
    // re-read the FTS doclists of common terms.
    db.pragma("cache_size = -65536");
    // Reads through a memory map skip a read() call and a copy per page (address space only, not RAM).
    db.pragma("mmap_size = 1073741824");
    db.pragma("synchronous = NORMAL");
    db.pragma("temp_store = MEMORY");
    migrate(db, dbPath);
    // The term list of model_fts, for expanding prefixes (see expandPrefix); temp: this connection only.
    db.exec("CREATE VIRTUAL TABLE IF NOT EXISTS temp.model_fts_terms USING fts5vocab(main, 'model_fts', 'row')");
  } catch (e) {
    db.close();
    throw asIndexError(dbPath, e);
  }
  return db;
}

/**
 * journal_mode = WAL, waiting for another process that is switching or creating the same new file: SQLite answers
 * SQLITE_BUSY at once there, without calling the busy handler (two imports into a new library at once met it).
 */
function switchToWal(db: Database.Database): void {
  const deadline = Date.now() + busyTimeoutMs();
  for (;;) {
    try {
      db.pragma("journal_mode = WAL");
      return;
    } catch (e) {
      if (!(e instanceof Database.SqliteError && e.code.startsWith("SQLITE_BUSY")) || Date.now() > deadline) throw e;
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 10 + Math.random() * 20);
    }
  }
}

function fileIdOf(file: string): string {
  try {
    const st = fs.statSync(file);
    return `${st.dev}:${st.ino}`;
  } catch {
    return "";
  }
}

function isDamageCode(code: string): boolean {
  return code.startsWith("SQLITE_CORRUPT") || code === "SQLITE_NOTADB";
}

/** The E_CORRUPT error for a SQLite error that says the file is damaged, else null. */
function corruptionOf(dbPath: string, e: unknown): ModelLibraryError | null {
  if (e instanceof ModelLibraryError) return e.code === "E_CORRUPT" && e.path === dbPath ? e : null;
  if (e instanceof Database.SqliteError && isDamageCode(e.code)) return asIndexError(dbPath, e);
  return null;
}

/**
 * How long a write waits for another process's write to this index to end: 30 s, or MLIB_INDEX_BUSY_MS (tests;
 * a shared folder on a slow disk).
 */
function busyTimeoutMs(): number {
  const ms = Number(process.env.MLIB_INDEX_BUSY_MS);
  return Number.isFinite(ms) && ms >= 0 ? Math.floor(ms) : 30_000;
}

/**
 * SQLite's busy answer once the wait is over ("database is locked", bare, was all a user saw) as E_LOCKED naming
 * the index and what may hold it; null for any other error.
 */
function lockedOf(dbPath: string, e: unknown): ModelLibraryError | null {
  if (!(e instanceof Database.SqliteError) || !(e.code.startsWith("SQLITE_BUSY") || e.code.startsWith("SQLITE_LOCKED"))) return null;
  return new ModelLibraryError(
    "E_LOCKED",
    `${dbPath}: another process kept the index locked for ${(busyTimeoutMs() / 1000).toFixed(busyTimeoutMs() < 10_000 ? 1 : 0)} s (a merge, reindex or import writing it, or a program holding it open in a transaction); run the command again once it is done (${e.message})`,
    { path: dbPath, cause: e },
  );
}

function asIndexError(dbPath: string, e: unknown): ModelLibraryError {
  if (e instanceof ModelLibraryError) return e;
  const full = diskFullOf(dbPath, e, "open");
  if (full) return full;
  if (e instanceof Database.SqliteError) {
    if (isDamageCode(e.code)) {
      return new ModelLibraryError("E_CORRUPT", `${dbPath}: the index file is damaged (${e.message}); it is derived data: \`mlib reindex\` rebuilds it`, {
        path: dbPath,
        cause: e,
      });
    }
    const locked = lockedOf(dbPath, e);
    if (locked) return locked;
    if (e.code.startsWith("SQLITE_READONLY") || e.code.startsWith("SQLITE_CANTOPEN") || e.code.startsWith("SQLITE_PERM")) {
      return new ModelLibraryError("E_IO", `${dbPath}: cannot open the index for writing (${e.message})`, { path: dbPath, cause: e });
    }
    // Never a bare SQLite code: SQLite's own sentence says what went wrong.
    return new ModelLibraryError("E_IO", `${dbPath}: cannot open the index (${e.message}; ${e.code})`, { path: dbPath, cause: e });
  }
  return ioError(dbPath, "open the index", e);
}

type FtsTable = "model_fts" | "model_names";

/** A MATCH expression and the FTS table it runs on. */
interface Hits {
  table: FtsTable;
  expr: string;
}

/** bm25, newest first (rowid DESC, which FTS5 produces without sorting), or an ORDER BY on `models m`. */
type Order = "rank" | "newest" | { models: string };

interface FtsMatch {
  /** How many terms decide the match (see matchTerms). */
  terms: number;
  /** Every hit of the query. */
  all: Hits;
  /** Hits whose name holds every term. */
  names: Hits;
  /** The hits that are not name hits (null when the query only looks at names). */
  rest: Hits | null;
  /** FTS5 must merge a prefix's doclists before the first row (see hasPrefixScan): pages are not cheap. */
  prefixScan: boolean;
}

function ftsMatch(query: string, expand: PrefixExpander): FtsMatch | null {
  const expr = buildFtsQuery(query, undefined, expand);
  if (expr === null) return null;
  const names: Hits = { table: "model_names", expr };
  const terms = matchTerms(query).length;
  // 1-2 character queries look at the short fields only (see SHORT_TERM_CHARS): names, tags (with
  // quantization and format), family (with architecture, type and subtype); not descriptions or notes.
  if (longestTermLength(query) <= SHORT_TERM_CHARS) {
    const short = `{name tags family} : (${expr})`;
    return { terms, all: { table: "model_fts", expr: short }, names, rest: { table: "model_fts", expr: `(${short}) NOT ({name} : (${expr}))` }, prefixScan: false };
  }
  return {
    terms,
    prefixScan: hasPrefixScan(query, expand),
    all: { table: "model_fts", expr },
    names,
    rest: { table: "model_fts", expr: `(${expr}) NOT ({name} : (${expr}))` },
  };
}

interface FilterSql {
  sql: string;
  params: unknown[];
}

function filterSql(o: SearchFilters): FilterSql {
  const parts: string[] = [];
  const params: unknown[] = [];
  const inList = (column: string, values: string[] | undefined): void => {
    const list = cleanList(values, `search filter on ${column}`);
    if (list.length === 0) return;
    const marks = list.map(() => "?").join(",");
    // Stats and facets report a missing value as "unknown"; filtering by it finds those rows.
    const withNull = NULLABLE_FILTER_COLUMNS.has(column) && list.some((v) => v.toLowerCase() === "unknown");
    parts.push(withNull ? `(m.${column} IN (${marks}) OR m.${column} IS NULL)` : `m.${column} IN (${marks})`);
    params.push(...list);
  };
  inList("model_type", o.types);
  inList("subtype", o.subtypes);
  inList("family", o.families);
  inList("format", o.formats);
  inList("quantization", o.quantizations);
  const tags = [...new Set(cleanList(o.tags, "search filter on tags").map((t) => t.toLowerCase()))];
  if (tags.length > 0) {
    const mode = o.tagMode ?? "any";
    const marks = tags.map(() => "?").join(",");
    if (mode === "any") {
      parts.push(`m.doc_id IN (SELECT doc_id FROM model_tags WHERE tag IN (${marks}))`);
      params.push(...tags);
    } else if (mode === "all") {
      parts.push(`m.doc_id IN (SELECT doc_id FROM model_tags WHERE tag IN (${marks}) GROUP BY doc_id HAVING count(*) = ?)`);
      params.push(...tags, tags.length);
    } else {
      throw new ModelLibraryError("E_USAGE", `search: tagMode must be "any" or "all", not "${String(mode)}"`);
    }
  }
  return { sql: parts.join(" AND "), params };
}

function cleanList(values: string[] | undefined, what: string): string[] {
  if (values === undefined || values === null) return [];
  if (!Array.isArray(values) || values.some((v) => typeof v !== "string")) {
    throw new ModelLibraryError("E_USAGE", `${what}: expected a list of strings`);
  }
  return values.map((v) => v.trim()).filter((v) => v.length > 0);
}

const SORTS = new Set<SortMode>(["relevance", "name", "updated", "added", "size"]);

function orderBy(sort: Exclude<SortMode, "relevance">): string {
  switch (sort) {
    case "name":
      return "m.official_name, m.id";
    case "updated":
      return "m.updated_at DESC, m.doc_id DESC";
    case "added":
      // NULLs sort lowest in SQLite, so DESC puts models without an added date last.
      return "m.added_at DESC, m.doc_id DESC";
    case "size":
      return "m.size_bytes DESC, m.doc_id DESC";
  }
}

function checkLimit(limit: number | undefined): number {
  if (limit === undefined) return DEFAULT_LIMIT;
  if (!Number.isInteger(limit) || limit < 1) throw new ModelLibraryError("E_USAGE", `search: limit must be a positive integer, not ${limit}`);
  return Math.min(limit, MAX_LIMIT);
}

function checkOffset(offset: number | undefined): number {
  if (offset === undefined) return 0;
  if (!Number.isInteger(offset) || offset < 0) throw new ModelLibraryError("E_USAGE", `search: offset must be an integer ≥ 0, not ${offset}`);
  return offset;
}

interface GroupRow {
  k: string | null;
  n: number;
  b: number;
}

/** countsOf for counts and bytes alike: the bytes keyed and ordered as the counts. */
function groupsOf(rows: GroupRow[]): { counts: Record<string, number>; bytes: Record<string, number> } {
  const counts = countsOf(rows);
  const sums = new Map<string, number>();
  for (const { k, b } of rows) sums.set(k ?? "unknown", (sums.get(k ?? "unknown") ?? 0) + b);
  const bytes: Record<string, number> = {};
  for (const k of Object.keys(counts)) bytes[k] = sums.get(k) ?? 0;
  return { counts, bytes };
}

/**
 * Facet counts from GROUP BY rows of a NOCASE column: NULL counts as "unknown", and merges (ASCII case
 * folded, as NOCASE does) with a value spelled "unknown" in any case; a merged group is named by its largest
 * part. Largest first, ties by name, as countsOf.
 */
function facetCounts(rows: [string | null, number][]): Record<string, number> {
  const byFold = new Map<string, { k: string; n: number; top: number }>();
  for (const [raw, n] of rows) {
    const k = raw ?? "unknown";
    const fold = k.replace(/[A-Z]+/g, (c) => c.toLowerCase());
    const g = byFold.get(fold);
    if (!g) byFold.set(fold, { k, n, top: n });
    else {
      g.n += n;
      if (n > g.top || (n === g.top && k < g.k)) {
        g.k = k;
        g.top = n;
      }
    }
  }
  return countsOf([...byFold.values()]);
}

/** Counts keyed by value, NULL as "unknown", largest first (ties by name), merged where keys coincide. */
function countsOf(rows: { k: string | null; n: number }[]): Record<string, number> {
  const merged = new Map<string, number>();
  for (const { k, n } of rows) {
    const key = k ?? "unknown";
    merged.set(key, (merged.get(key) ?? 0) + n);
  }
  const out: Record<string, number> = {};
  for (const [k, n] of [...merged].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0))) out[k] = n;
  return out;
}
