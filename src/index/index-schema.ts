// Schema of the index (index.db) and its migrations. The database is a derived cache of the metadata.json files, but
// migrating in place (rather than dropping it) keeps opening a large library cheap after an upgrade.
//
// `PRAGMA user_version` holds the number of migrations applied; MIGRATIONS[i] takes version i to i+1.
// Append new migrations; never edit one that has shipped.
import type Database from "better-sqlite3";

export type Migration = (db: Database.Database) => void;

// Why the models table has its own integer key (doc_id) besides the text id: the FTS5 table is contentless
// and addressed by rowid, and VACUUM may renumber implicit rowids, which would silently detach the text index
// from its rows. An INTEGER PRIMARY KEY is never renumbered.
//
// Filter columns are COLLATE NOCASE so `IN (...)` filters are case-insensitive and still use their indexes.
const V1 = `
CREATE TABLE models (
  doc_id          INTEGER PRIMARY KEY,
  id              TEXT NOT NULL UNIQUE,
  path            TEXT NOT NULL,
  official_name   TEXT NOT NULL COLLATE NOCASE,
  cleaned_name    TEXT NOT NULL,
  model_type      TEXT NOT NULL COLLATE NOCASE,
  subtype         TEXT COLLATE NOCASE,
  family          TEXT COLLATE NOCASE,
  format          TEXT COLLATE NOCASE,
  quantization    TEXT COLLATE NOCASE,
  architecture    TEXT,
  tags_json       TEXT NOT NULL,
  size_bytes      INTEGER NOT NULL,
  parameter_count INTEGER,
  context_length  INTEGER,
  sha256          TEXT,
  blake3          TEXT,
  added_at        TEXT,
  updated_at      TEXT NOT NULL,
  meta_mtime_ms   REAL NOT NULL,
  meta_size       INTEGER NOT NULL
);

-- The full metadata.json text lives beside the row, not in it: with ~2 KiB of JSON inline, every scan of
-- models (stats, facets, syncState, filtered counts) read the whole 260 MB table at 100k models
-- (syncState took ~390 ms); now those scans read only the small rows, and a page of results joins this.
CREATE TABLE model_meta (
  doc_id        INTEGER PRIMARY KEY,
  metadata_json TEXT NOT NULL
);
CREATE INDEX models_type ON models(model_type);
CREATE INDEX models_family ON models(family);
CREATE INDEX models_format ON models(format);
CREATE INDEX models_quantization ON models(quantization);
CREATE INDEX models_updated ON models(updated_at);
CREATE INDEX models_added ON models(added_at);
CREATE INDEX models_name ON models(official_name);
CREATE INDEX models_size ON models(size_bytes);

-- Keyed by model first: a bulk reindex appends instead of inserting at random places.
CREATE TABLE model_files (
  doc_id    INTEGER NOT NULL,
  name      TEXT NOT NULL,
  size      INTEGER NOT NULL,
  sha256    TEXT,
  blake3    TEXT,
  fast_hash TEXT,
  PRIMARY KEY (doc_id, name)
) WITHOUT ROWID;

-- Every hash of a model (primary sha256/blake3, and each file's sha256, blake3 and fast hash) in one
-- index: one random-keyed B-tree to update per hash instead of five separate column indexes (measured
-- as the largest cost of a bulk reindex), and findByHash is a single lookup.
CREATE TABLE model_hashes (
  hash   TEXT NOT NULL,
  doc_id INTEGER NOT NULL,
  PRIMARY KEY (hash, doc_id)
) WITHOUT ROWID;
CREATE INDEX model_hashes_doc ON model_hashes(doc_id);

-- Tag first for the filters; with few distinct tags, inserts land on a few hot pages.
CREATE TABLE model_tags (
  tag    TEXT NOT NULL,
  doc_id INTEGER NOT NULL,
  PRIMARY KEY (tag, doc_id)
) WITHOUT ROWID;
CREATE INDEX model_tags_doc ON model_tags(doc_id);

CREATE VIRTUAL TABLE model_fts USING fts5(
  name, tags, family, body,
  content = '',
  contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '1 2 3'
);

-- Names alone, same rowids: 1-2 character queries and the "name matches first" group of broad queries
-- walk only the doclists of names here, not every doc that has the word in a tag or note.
CREATE VIRTUAL TABLE model_names USING fts5(
  name,
  content = '',
  contentless_delete = 1,
  tokenize = 'unicode61 remove_diacritics 2',
  prefix = '1 2 3'
);
`;

// Small named values the library keeps beside the index (e.g. the container-folder mtimes reconcile compares).
const V2 = `CREATE TABLE library_state (key TEXT PRIMARY KEY, value TEXT NOT NULL) WITHOUT ROWID;`;

// The group indexes also hold size_bytes, so stats() sums bytes per group from the index alone (with the
// bare column, each sum looked up every row: 25-55 ms per group at 100k models instead of ~4).
const V3 = ["model_type", "family", "format", "quantization"]
  .map((c) => `DROP INDEX models_${c === "model_type" ? "type" : c}; CREATE INDEX models_${c === "model_type" ? "type" : c} ON models(${c}, size_bytes);`)
  .join("\n");

// The metadata.json text is no longer copied into the index: it was half the database (~2 KiB a model,
// ~200 MB at 100k) and the largest cost of a reindex, for a copy of what the model folder holds anyway.
// Callers that want the whole metadata read metadata.json (ModelLibrary.getMetadata).
// model_hashes and model_tags lose their doc_id indexes for the same reason (building them was ~10% of a
// reindex): a model's rows there are deleted by their keys, derived again from its row and files.
const V4 = `DROP TABLE model_meta; DROP INDEX model_hashes_doc; DROP INDEX model_tags_doc;`;

// subtype gets the (column, size_bytes) index the other facet columns have: facets group on it (a sort of every
// row without it: ~45 ms at 100k models, ~5 with it).
const V5 = `CREATE INDEX models_subtype ON models(subtype, size_bytes);`;

export const MIGRATIONS: readonly Migration[] = [(db) => db.exec(V1), (db) => db.exec(V2), (db) => db.exec(V3), (db) => db.exec(V4), (db) => db.exec(V5)];

export const SCHEMA_VERSION = MIGRATIONS.length;
