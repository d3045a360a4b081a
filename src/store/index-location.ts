// Where a library's index lives, decided at open:
//  - `<root>/.model-library/index.db`, beside our lock and staging, when the library is writable;
//  - `$XDG_CACHE_HOME/model-library/<hash of the root>/index.db` when it is not (a shared library owned by
//    someone else, a read-only mount): the index is derived data, any reader may build its own copy.
// The root's `models.db` is the original's (another schema): never opened, never written. A `models.db`
// holding OUR schema (made by an earlier version of this program, which kept its index there) is moved
// to `.model-library/index.db` on first open, with its -wal/-shm.
import * as fs from "node:fs";
import { join } from "node:path";
import { ioError } from "../core/errors.js";
import { INDEX_FILE, LEGACY_DB_FILE, LIBRARY_DIR, cacheIndexDir } from "./layout.js";

export interface IndexLocation {
  /** The index file to open. */
  path: string;
  /** Whether the library folder is writable (imports, staging clean-up and locks need it). */
  writable: boolean;
  /** Where a models.db of ours was moved from (null when nothing was moved). */
  movedFrom: string | null;
  /** True when the index is in the cache folder, and this open created it there. */
  newCacheIndex: boolean;
}

const SQLITE_MAGIC = "SQLite format 3\0";

/**
 * Whether `file` is an SQLite database written by this program: the original never sets user_version
 * (header offset 60), our migrations do. Read from the header, so the file is not opened by SQLite (which
 * would create -wal/-shm files beside the original's database). A database of ours whose header was never
 * checkpointed (a crash) reads as not ours: left in place, and a new index is built (it is derived data).
 */
export function isOurIndexFile(file: string): boolean {
  let fd: number;
  try {
    fd = fs.openSync(file, "r");
  } catch {
    return false;
  }
  try {
    const header = Buffer.alloc(100);
    if (fs.readSync(fd, header, 0, 100, 0) < 100) return false;
    if (header.toString("latin1", 0, 16) !== SQLITE_MAGIC) return false;
    return header.readUInt32BE(60) > 0;
  } finally {
    fs.closeSync(fd);
  }
}

function canWrite(dir: string): boolean {
  try {
    fs.accessSync(dir, fs.constants.W_OK);
    return true;
  } catch {
    return false;
  }
}

function isPermissionError(e: unknown): boolean {
  const code = (e as NodeJS.ErrnoException).code;
  return code === "EACCES" || code === "EPERM" || code === "EROFS";
}

/** Finds (and prepares) the index location of the library at root (which exists and is a folder). */
export function locateIndex(root: string, env: NodeJS.ProcessEnv = process.env): IndexLocation {
  const dataDir = join(root, LIBRARY_DIR);
  let writable = canWrite(root);
  if (writable) {
    try {
      fs.mkdirSync(dataDir, { recursive: true });
      writable = canWrite(dataDir);
    } catch (e) {
      if (!isPermissionError(e)) throw ioError(dataDir, "create the library's own folder", e);
      writable = false;
    }
  } else if (fs.existsSync(dataDir)) {
    // A root we cannot add entries to may still hold a writable .model-library (made by its owner for us).
    writable = canWrite(dataDir) && canWrite(join(dataDir, INDEX_FILE));
  }
  if (writable) {
    const path = join(dataDir, INDEX_FILE);
    const legacy = join(root, LEGACY_DB_FILE);
    let movedFrom: string | null = null;
    if (!fs.existsSync(path) && isOurIndexFile(legacy)) {
      try {
        // The -wal first: an index.db without its WAL would be missing rows, one with it is whole; a
        // crash between the renames only leaves derived data behind (reconcile catches up).
        for (const ext of ["-wal", "-shm"]) if (fs.existsSync(legacy + ext)) fs.renameSync(legacy + ext, path + ext);
        fs.renameSync(legacy, path);
        movedFrom = legacy;
      } catch (e) {
        // Another process opening the library at the same moment moved it first: use what it made.
        if (!fs.existsSync(path)) throw ioError(legacy, `move the index to ${path}`, e);
        movedFrom = null;
      }
    }
    return { path, writable, movedFrom, newCacheIndex: false };
  }
  const dir = cacheIndexDir(root, env);
  const path = join(dir, INDEX_FILE);
  const existed = fs.existsSync(path);
  try {
    fs.mkdirSync(dir, { recursive: true });
  } catch (e) {
    throw ioError(dir, "create the index folder in the cache (the library itself is not writable)", e);
  }
  return { path, writable: false, movedFrom: null, newCacheIndex: !existed };
}
