// Crash-safe JSON files: a reader sees either the old complete file or the new complete file, never a
// torn one, and with `backup` the previous version survives as `<name>.bak` for recovery.
//
// Order of a write (every step leaves a valid target in place):
//   1. write the new content to `.<name>.<pid>.<random>.tmp` in the same directory, fsync it;
//   2. backup: hard-link the current target as a temp name and rename that over `<name>.bak`
//      (the target itself is never moved away, so it exists at every instant; the .bak is replaced atomically);
//   3. rename the temp file over the target (atomic on POSIX within one filesystem);
//   4. fsync the directory so the rename itself survives a power cut.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { ModelLibraryError, ioError } from "./errors.js";
import { fileKind } from "./read-text-file.js";
import { pauseForTest } from "./test-pause.js"; // (test-only: MLIB_TEST_PAUSE_AT)

export interface WriteJsonOptions {
  /** Keep the version being replaced as `<name>.bak` (used for metadata.json). */
  backup?: boolean;
  /** One line without indentation (large files for programs: the link registry above 1,000 entries, its journal). */
  compact?: boolean;
  /**
   * false: no fsync (of the file or its directory). The write is still atomic for every reader and survives the
   * writer's kill -9 (the page cache outlives the process), but a power cut may bring back an older version.
   */
  durable?: boolean;
}

export function backupPathOf(file: string): string {
  return `${file}.bak`;
}

function tempPathFor(file: string): string {
  return path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`);
}

// tempPathFor's names, of a `.json` file or its `.bak`: `.<name>.json[.bak].<pid>.<12 hex>.tmp`.
const JSON_TEMP = /^\..+\.json(\.bak)?\.\d+\.[0-9a-f]{12}\.tmp$/;

/** Whether a file name is the temp file of a write of ours (one a killed process leaves: never the user's data). */
export function isJsonTempName(name: string): boolean {
  return JSON_TEMP.test(name);
}

function serialize(file: string, data: unknown, compact = false): string {
  const text = compact ? JSON.stringify(data) : JSON.stringify(data, null, 2);
  if (text === undefined) {
    throw new ModelLibraryError("E_INVALID", `${file}: refusing to write a value that is not JSON (${typeof data})`, { path: file });
  }
  return `${text}\n`;
}

/** Writes `data` as pretty JSON + "\n" atomically; creates missing parent directories. */
export async function writeJsonAtomic(file: string, data: unknown, options: WriteJsonOptions = {}): Promise<void> {
  const text = serialize(file, data, options.compact);
  const dir = path.dirname(file);
  let tmp: string | null = null;
  try {
    await fsp.mkdir(dir, { recursive: true });
    tmp = tempPathFor(file);
    const handle = await fsp.open(tmp, "wx", 0o644);
    try {
      await handle.writeFile(text, "utf8");
      if (options.durable !== false) await handle.sync();
    } finally {
      await handle.close();
    }
    if (options.backup) await backupCurrent(file);
    pauseForTest("before-rename", file);
    await fsp.rename(tmp, file);
    tmp = null;
    pauseForTest("after-rename", file);
    if (options.durable !== false) await syncDir(dir);
  } catch (e) {
    if (tmp !== null) await fsp.rm(tmp, { force: true }).catch(() => undefined);
    if (e instanceof ModelLibraryError) throw e;
    throw ioError(file, "write", e);
  }
}

/** Synchronous twin of writeJsonAtomic, for callers inside SQLite transactions or exit handlers. */
export function writeJsonAtomicSync(file: string, data: unknown, options: WriteJsonOptions = {}): void {
  const text = serialize(file, data, options.compact);
  const dir = path.dirname(file);
  let tmp: string | null = null;
  try {
    fs.mkdirSync(dir, { recursive: true });
    tmp = tempPathFor(file);
    const fd = fs.openSync(tmp, "wx", 0o644);
    try {
      fs.writeFileSync(fd, text, "utf8");
      if (options.durable !== false) fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (options.backup) backupCurrentSync(file);
    pauseForTest("before-rename", file);
    fs.renameSync(tmp, file);
    tmp = null;
    pauseForTest("after-rename", file);
    if (options.durable !== false) syncDirSync(dir);
  } catch (e) {
    if (tmp !== null) fs.rmSync(tmp, { force: true });
    if (e instanceof ModelLibraryError) throw e;
    throw ioError(file, "write", e);
  }
}

// A hard link costs no copy and captures exactly the bytes readers saw; filesystems without hard links
// (some FUSE/SMB mounts) fall back to a copy into a temp file. Both then rename over the old .bak.
async function backupCurrent(file: string): Promise<void> {
  const bakTmp = tempPathFor(backupPathOf(file));
  try {
    await fsp.link(file, bakTmp);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return; // first write: nothing to keep
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV" && code !== "EMLINK") throw e;
    try {
      await fsp.copyFile(file, bakTmp, fs.constants.COPYFILE_EXCL);
      const h = await fsp.open(bakTmp, "r+");
      await h.sync().finally(() => h.close());
    } catch (copyErr) {
      await fsp.rm(bakTmp, { force: true });
      if ((copyErr as NodeJS.ErrnoException).code === "ENOENT") return;
      throw copyErr;
    }
  }
  try {
    await fsp.rename(bakTmp, backupPathOf(file));
  } finally {
    // rename() between two links of one file does nothing and leaves its source: the case once a kill -9 between
    // this backup and the rename of the new content left the .bak a link of the very file backed up now.
    await fsp.rm(bakTmp, { force: true });
  }
}

function backupCurrentSync(file: string): void {
  const bakTmp = tempPathFor(backupPathOf(file));
  try {
    fs.linkSync(file, bakTmp);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT") return;
    if (code !== "EPERM" && code !== "ENOTSUP" && code !== "EOPNOTSUPP" && code !== "EXDEV" && code !== "EMLINK") throw e;
    try {
      fs.copyFileSync(file, bakTmp, fs.constants.COPYFILE_EXCL);
      const fd = fs.openSync(bakTmp, "r+");
      try {
        fs.fsyncSync(fd);
      } finally {
        fs.closeSync(fd);
      }
    } catch (copyErr) {
      fs.rmSync(bakTmp, { force: true });
      if ((copyErr as NodeJS.ErrnoException).code === "ENOENT") return;
      throw copyErr;
    }
  }
  try {
    fs.renameSync(bakTmp, backupPathOf(file));
  } finally {
    fs.rmSync(bakTmp, { force: true }); // (see backupCurrent)
  }
}

// Directory fsync makes the rename durable; some filesystems refuse it (EINVAL/EISDIR), which is harmless.
/** fsync a directory, so a rename or a new entry in it survives a power cut (where the platform allows). */
export async function syncDir(dir: string): Promise<void> {
  let handle: fsp.FileHandle | null = null;
  try {
    handle = await fsp.open(dir, "r");
    await handle.sync();
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM" && code !== "ENOTSUP") throw e;
  } finally {
    await handle?.close();
  }
}

function syncDirSync(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, "r");
    fs.fsyncSync(fd);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EINVAL" && code !== "EISDIR" && code !== "EPERM" && code !== "ENOTSUP") throw e;
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

function corruptError(file: string, cause: unknown): ModelLibraryError {
  const bak = backupPathOf(file);
  let hint = "";
  try {
    JSON.parse(fs.readFileSync(bak, "utf8"));
    hint = `; a backup is at ${bak} (restoreBackup puts it back)`;
  } catch {
    // no usable backup: say nothing rather than point at a broken file
  }
  const why = cause instanceof Error ? cause.message : String(cause);
  return new ModelLibraryError("E_CORRUPT", `${file}: not valid JSON (${why})${hint}`, { path: file, cause });
}

function parseOrCorrupt(file: string, text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    throw corruptError(file, e);
  }
}

/** Parsed JSON, or null when the file does not exist. Invalid JSON → E_CORRUPT (mentions a usable .bak). */
export async function readJson<T = unknown>(file: string): Promise<T | null> {
  let handle: fsp.FileHandle;
  try {
    handle = await fsp.open(file, READ_FLAGS);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw ioError(file, "read", e);
  }
  let text: string;
  try {
    refuseNonFile(file, await handle.stat());
    text = await handle.readFile("utf8");
  } catch (e) {
    throw e instanceof ModelLibraryError ? e : ioError(file, "read", e);
  } finally {
    await handle.close();
  }
  return parseOrCorrupt(file, text) as T;
}

export function readJsonSync<T = unknown>(file: string): T | null {
  let fd: number;
  try {
    fd = fs.openSync(file, READ_FLAGS);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw ioError(file, "read", e);
  }
  let text: string;
  try {
    refuseNonFile(file, fs.fstatSync(fd));
    text = fs.readFileSync(fd, "utf8");
  } catch (e) {
    throw e instanceof ModelLibraryError ? e : ioError(file, "read", e);
  } finally {
    fs.closeSync(fd);
  }
  return parseOrCorrupt(file, text) as T;
}

// O_NONBLOCK: a FIFO in a JSON file's place opens at once (to be refused) instead of waiting for a writer forever.
const READ_FLAGS = fs.constants.O_RDONLY | fs.constants.O_NONBLOCK;

/**
 * A JSON file is read only when it is a regular file: a FIFO or a device (a link to /dev/zero) would never end
 * the read. A folder is EISDIR, as a read of it always said.
 */
function refuseNonFile(file: string, st: fs.Stats): void {
  if (st.isFile()) return;
  if (st.isDirectory()) throw ioError(file, "read", Object.assign(new Error("is a directory"), { code: "EISDIR" }));
  throw new ModelLibraryError("E_CORRUPT", `${file}: not a regular file (${fileKind(st)}); not read`, { path: file });
}

/**
 * Puts `<name>.bak` back as `<name>` (atomically, keeping the .bak) and returns its parsed content.
 * E_NOT_FOUND without a backup; E_CORRUPT when the backup itself is not valid JSON.
 */
export async function restoreBackup<T = unknown>(file: string): Promise<T> {
  const bak = backupPathOf(file);
  let text: string;
  try {
    text = await fsp.readFile(bak, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ModelLibraryError("E_NOT_FOUND", `${file}: no backup to restore (${bak} does not exist)`, { path: file });
    }
    throw ioError(bak, "read", e);
  }
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (e) {
    throw new ModelLibraryError("E_CORRUPT", `${bak}: the backup is not valid JSON either (${(e as Error).message})`, { path: bak, cause: e });
  }
  // Write the exact backup bytes (not a re-serialization) so the restore is byte-for-byte.
  const dir = path.dirname(file);
  const tmp = tempPathFor(file);
  try {
    await fsp.copyFile(bak, tmp, fs.constants.COPYFILE_EXCL);
    const h = await fsp.open(tmp, "r+");
    await h.sync().finally(() => h.close());
    await fsp.rename(tmp, file);
    await syncDir(dir);
  } catch (e) {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
    throw ioError(file, "restore from backup", e);
  }
  return value as T;
}
