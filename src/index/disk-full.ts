// SQLite's "database or disk is full" as the project's error: a user reads "disk full" and the index file,
// never a bare SQLITE_FULL. The write it stopped was rolled back whole (SQLite guarantees it), so nothing of it
// is in the index.
import Database from "better-sqlite3";
import { ModelLibraryError } from "../core/errors.js";

/** The E_IO error for SQLITE_FULL (the disk, or a size limit), else null. */
export function diskFullOf(dbPath: string, e: unknown): ModelLibraryError | null {
  if (!(e instanceof Database.SqliteError) || e.code !== "SQLITE_FULL") return null;
  return new ModelLibraryError("E_IO", `${dbPath}: cannot write the index: disk full (no space left on device; SQLite: ${e.message})`, {
    path: dbPath,
    cause: e,
  });
}
