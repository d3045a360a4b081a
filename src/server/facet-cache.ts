// Facet counts remembered per data version. Counting six groupings over every match costs 100-300 ms at
// 100k models, and the page asks for the same facets again and again (each keystroke, each back button);
// the answer only changes when the index does. The version is SQLite's PRAGMA data_version read on a
// connection of our own: it moves whenever any other connection — the library's, a CLI import in another
// process — commits.
import Database from "better-sqlite3";
import type { Facets, SearchFilters } from "../index/index-types.js";

const MAX_ENTRIES = 500;

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

  /** The remembered facets for this query and filters, or computes and remembers them. */
  get(query: string, filters: SearchFilters, compute: () => Facets): Facets {
    if (!this.versionStmt) return compute();
    const version = this.versionStmt.get() as number;
    if (version !== this.version) {
      this.entries.clear();
      this.version = version;
    }
    const key = JSON.stringify([query.trim().toLowerCase(), filters]);
    const hit = this.entries.get(key);
    if (hit) {
      // Most recently used last, so the oldest goes first when the map is full.
      this.entries.delete(key);
      this.entries.set(key, hit);
      return hit;
    }
    const facets = compute();
    if (this.entries.size >= MAX_ENTRIES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, facets);
    return facets;
  }

  close(): void {
    this.db?.close();
  }
}
