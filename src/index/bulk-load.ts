// Replacing the whole index in one go (a full reindex), cheaper per model than an upsert each:
// - one write transaction from the clear to the last row: other connections keep reading the old index
//   until the new one commits whole, and a failure rolls back to the old one;
// - no existence check or delete per model (the tables start empty; doc_ids are handed out in order);
// - the secondary indexes are dropped first and built again at the end: building an index from a sort is
//   cheaper than 100k inserts at random places in 10 B-trees (DDL is transactional, so a rollback
//   brings them back too);
// - FTS5 keeps its default automerge while loading and no 'optimize' follows: merging as it goes runs
//   while this thread would otherwise wait for the reader, where one optimize at the end added ~0.35 s
//   to a 100k reindex, and queries measured the same on either index.
import type Database from "better-sqlite3";
import { ModelLibraryError } from "../core/errors.js";
import { diskFullOf } from "./disk-full.js";
import { MODEL_COLUMNS, MODEL_MARKS, prepareDerived, prepareRows, writeRows, type DerivedStatements, type PreparedRows } from "./index-rows.js";
import type { IndexRecord } from "./index-types.js";

// Indexes on these tables other than their primary keys (and the UNIQUE on models.id, which catches a
// duplicate id) are rebuilt at the end.
const REBUILT_INDEX_TABLES = ["models", "model_tags", "model_hashes"];
const FTS_TABLES = ["model_fts", "model_names"];

export class BulkLoader {
  private readonly db: Database.Database;
  private readonly dbPath: string;
  private readonly onEnd: () => void;
  private readonly insertModel: Database.Statement;
  private readonly derived: DerivedStatements;
  private readonly dropped: string[];
  private nextDocId = 1;
  private open = true;

  /** Use ModelIndex.bulkReplace(). Starts the write transaction and empties the index. */
  constructor(db: Database.Database, dbPath: string, onEnd: () => void) {
    if (db.inTransaction) {
      throw new ModelLibraryError("E_USAGE", `${dbPath}: a bulk load cannot start inside a transaction`, { path: dbPath });
    }
    this.db = db;
    this.dbPath = dbPath;
    this.onEnd = onEnd;
    db.exec("BEGIN IMMEDIATE");
    try {
      const marks = REBUILT_INDEX_TABLES.map(() => "?").join(",");
      const indexes = db
        .prepare(`SELECT name, sql FROM sqlite_master WHERE type = 'index' AND sql IS NOT NULL AND tbl_name IN (${marks})`)
        .all(...REBUILT_INDEX_TABLES) as { name: string; sql: string }[];
      for (const ix of indexes) db.exec(`DROP INDEX "${ix.name.replace(/"/g, '""')}"`);
      this.dropped = indexes.map((ix) => ix.sql);
      for (const t of FTS_TABLES) {
        db.exec(`INSERT INTO ${t} (${t}) VALUES ('delete-all');`);
      }
      db.exec("DELETE FROM model_tags; DELETE FROM model_files; DELETE FROM model_hashes; DELETE FROM models;");
      this.insertModel = db.prepare(`INSERT INTO models (doc_id, id, ${MODEL_COLUMNS}) VALUES (?,?,${MODEL_MARKS})`);
      this.derived = prepareDerived((sql) => db.prepare(sql));
    } catch (e) {
      this.rollback();
      throw e;
    }
  }

  /** Models added so far. */
  get count(): number {
    return this.nextDocId - 1;
  }

  /**
   * Adds one model. A record with wrong types, or an id already added, throws E_USAGE before anything of it
   * is written (the load can go on); any other error means the load must be aborted.
   */
  add(record: IndexRecord): void {
    this.checkOpen();
    this.addRows(prepareRows(this.dbPath, record));
  }

  /**
   * Adds one model from rows made by prepareRows (which a caller may run in another thread: a reindex
   * prepares in its reading worker, so this thread only runs statements). Errors as add().
   */
  addRows(rows: PreparedRows): void {
    this.checkOpen();
    const docId = this.nextDocId;
    try {
      this.insertModel.run(docId, rows.id, ...rows.model);
    } catch (e) {
      if ((e as { code?: string }).code === "SQLITE_CONSTRAINT_UNIQUE") {
        throw new ModelLibraryError("E_USAGE", `${this.dbPath}: cannot index ${JSON.stringify(rows.id)} twice in one load`, { path: this.dbPath });
      }
      throw diskFullOf(this.dbPath, e) ?? e;
    }
    try {
      writeRows(this.derived, docId, rows);
    } catch (e) {
      throw diskFullOf(this.dbPath, e) ?? e;
    }
    this.nextDocId++;
  }

  /** Builds the indexes again and commits: the new index replaces the old. */
  finish(): number {
    this.checkOpen();
    try {
      for (const sql of this.dropped) this.db.exec(sql);
      this.db.exec("COMMIT");
    } catch (e) {
      this.rollback();
      throw diskFullOf(this.dbPath, e) ?? e;
    }
    this.end();
    return this.count;
  }

  /** Gives up: the index is left exactly as it was before the load. */
  abort(): void {
    if (!this.open) return;
    this.rollback();
  }

  private rollback(): void {
    if (this.db.inTransaction) this.db.exec("ROLLBACK");
    this.end();
  }

  private end(): void {
    if (!this.open) return;
    this.open = false;
    this.onEnd();
  }

  private checkOpen(): void {
    if (!this.open) throw new ModelLibraryError("E_USAGE", `${this.dbPath}: this bulk load has already ended`, { path: this.dbPath });
  }
}
