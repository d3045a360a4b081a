// Facet counts remembered per data version. Counting six groupings over every match costs 100-300 ms at
// 100k models, and the page asks for the same facets again and again (each pause in typing, each back
// button); the answer only changes when the index does. The version is SQLite's PRAGMA data_version read on
// a connection of our own: it moves whenever any other connection — the library's, the facet worker's, a CLI
// import in another process — commits.
import Database from "better-sqlite3";
import type { Facets, SearchFilters } from "../index/index-types.js";

const MAX_ENTRIES = 500;

export interface CacheLookup {
  key: string;
  version: number;
  facets: Facets | null;
}

export class FacetCache {
  private readonly db: Database.Database | null;
  private readonly versionStmt: Database.Statement | null;
  private version = -1;
  private readonly entries = new Map<string, Facets>();

  constructor(dbPath: string) {
    let db: Database.Database | null = null;
    try {
      db = new Database(dbPath, { readonly: true, fileMustExist: true });
    } catch {
      db = null; // no cache: every request counts afresh
    }
    this.db = db;
    this.versionStmt = db ? db.prepare("PRAGMA data_version").pluck() : null;
  }

  /** What is remembered for this query and filters under the current data version (facets null: nothing). */
  lookup(query: string, filters: SearchFilters): CacheLookup {
    const key = JSON.stringify([query.trim().toLowerCase(), filters]);
    if (!this.versionStmt) return { key, version: -1, facets: null };
    const version = this.versionStmt.get() as number;
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    const hit = this.entries.get(key) ?? null;
    if (hit) {
      // Most recently used last, so the oldest goes first when the map is full.
      this.entries.delete(key);
      this.entries.set(key, hit);
    }
    return { key, version, facets: hit };
  }

  /** Remembers facets counted after `lookup` — unless the data changed meanwhile (then they may be stale). */
  store(lookup: CacheLookup, facets: Facets): void {
    if (!this.versionStmt || lookup.version !== this.version) return;
    if ((this.versionStmt.get() as number) !== lookup.version) return;
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(lookup.key, facets);
  }

  close(): void {
    this.db?.close();
  }
}
