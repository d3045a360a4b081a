// SQLite's "database or disk is full" as the project's error: a user reads "disk full" and the index file,
// never a bare SQLITE_FULL. The write it stopped was rolled back whole (SQLite guarantees it), so nothing of it
// is in the index. SQLITE_IOERR_SHMSIZE is the same cause met elsewhere: SQLite could not grow the index's
// shared-memory file (`index.db-shm`, made again at each first open), which it does by writing into it.
import Database from "better-sqlite3";
import { ModelLibraryError } from "../core/errors.js";

/** The E_IO error for SQLITE_FULL or SQLITE_IOERR_SHMSIZE, else null; `action` as "write", "open". */
export function diskFullOf(dbPath: string, e: unknown, action = "write"): ModelLibraryError | null {
  if (!(e instanceof Database.SqliteError)) return null;
  let why: string;
  if (e.code === "SQLITE_FULL") why = `no space left on device; SQLite: ${e.message}`;
  else if (e.code === "SQLITE_IOERR_SHMSIZE") why = `no room for its shared-memory file ${dbPath}-shm; SQLite: ${e.message}, ${e.code}`;
  else return null;
  return new ModelLibraryError("E_IO", `${dbPath}: cannot ${action} the index: disk full (${why})`, { path: dbPath, cause: e });
}

/** Whether `e` is the error diskFullOf made (or SQLite's own) for a full disk. */
export function isDiskFull(e: unknown): boolean {
  const sqlite = e instanceof ModelLibraryError ? e.cause : e;
  return sqlite instanceof Database.SqliteError && (sqlite.code === "SQLITE_FULL" || sqlite.code === "SQLITE_IOERR_SHMSIZE");
}
