// An exclusive cross-process lock on a file path, for read-modify-write of shared files and for committing
// a model into place. The lock is a file created atomically (link(2) of a fully written temp file, which
// fails with EEXIST when someone holds it), holding a lease record (core/lease.ts): pid, host, boot id,
// PID namespace, process start time and a random token. The holder renews it (the file's mtime) while it
// holds it; another process breaks it only when it has not been renewed for the lease's expiry (2 min) or
// when the holder is provably dead (same host, boot and PID namespace, and its pid gone). A holder in
// another PID namespace (a container) or on another host (a shared folder) is waited for, not broken.
//
// Breaking a stale lock is itself guarded by a short-lived `<lock>.break` file: without it two waiters could
// both see the same stale lock, one removes it and takes a fresh lock, and the other then removes that fresh lock.
// The temp file a process killed between write and link leaves is removed by the same rule (at once when it
// names no writer: killed before its write).
import { lstatSync } from "node:fs";
import { FileTooBigError, readTextFile } from "./read-text-file.js";
import * as fsp from "node:fs/promises";
import * as path from "node:path";
import { ModelLibraryError, ioError } from "./errors.js";
import { currentOwner, judgeLease, leaseTimings, parseOwner, startRenewal, type LeaseOwner, type LeaseTimings } from "./lease.js";

export interface LockOptions {
  /** How long to wait for the holder before failing with E_LOCKED (default 10 s). */
  timeoutMs?: number;
  /** Lease renewal and expiry (default leaseTimings(): 10 s / 2 min, or the MLIB_LEASE_* variables). */
  timings?: LeaseTimings;
}

export interface LockHolder extends LeaseOwner {
  acquiredAt: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// A `.break` guard is held only for a read + unlink; one older than this was left by a crash.
const BREAK_GUARD_STALE_MS = 5_000;
// A lock file that cannot be parsed (hand-edited, disk full mid-write of an old version) is stale after this.
const UNREADABLE_LOCK_STALE_MS = 30_000;
// A lock record is a few hundred bytes: a bigger file is not one (and is not read whole).
const MAX_RECORD_BYTES = 64 * 1024;

const renewals = new Map<string, { stop: () => void }>();

/** Runs `fn` while holding the lock at `lockPath`; releases it however `fn` ends. */
export async function withLock<T>(lockPath: string, fn: () => T | Promise<T>, options: LockOptions = {}): Promise<T> {
  const holder = await acquireLock(lockPath, options);
  try {
    return await fn();
  } finally {
    await releaseLock(lockPath, holder);
  }
}

/** Takes the lock (waiting up to timeoutMs) and returns the record to pass to releaseLock. */
export async function acquireLock(lockPath: string, options: LockOptions = {}): Promise<LockHolder> {
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const timings = options.timings ?? leaseTimings();
  const me: LockHolder = { ...currentOwner(), acquiredAt: "" };
  await cleanTempFiles(lockPath, timings);
  const started = Date.now();
  let delay = 2;
  for (;;) {
    me.acquiredAt = new Date().toISOString();
    if (await tryCreate(lockPath, me)) {
      // Renewed until released (a commit on a slow disk, a long read-modify-write), so nobody judges it expired.
      renewals.set(me.token, startRenewal(lockPath, { timings, tick: () => renewable(lockPath, me.token) }));
      return me;
    }
    const current = await readHolder(lockPath);
    if (current === "missing") continue; // released between our attempt and the read: retry at once
    const verdict = await staleness(lockPath, current, timings);
    if (verdict.stale) {
      await breakStale(lockPath, current);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw lockedError(lockPath, current, waited, verdict.why);
    // Jittered backoff keeps several waiters from retrying in lockstep.
    const sleep = Math.min(delay, timeoutMs - waited) * (0.5 + Math.random());
    await new Promise((r) => setTimeout(r, sleep));
    delay = Math.min(delay * 2, 50);
  }
}

/** Removes the lock if it is still ours (a lock broken and re-taken by another process is left alone). */
export async function releaseLock(lockPath: string, holder: LockHolder): Promise<void> {
  renewals.get(holder.token)?.stop();
  renewals.delete(holder.token);
  const current = await readHolder(lockPath);
  if (current === "missing" || current === "unreadable" || current.token !== holder.token) return;
  try {
    await fsp.unlink(lockPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw ioError(lockPath, "release lock", e);
  }
}

async function tryCreate(lockPath: string, me: LockHolder): Promise<boolean> {
  // Write the record fully into a private temp file, then link it into place: the lock file appears
  // complete or not at all, so a reader never sees an empty lock from a holder that died mid-write.
  const tmp = tempPathOf(lockPath, me.token);
  let written = false;
  try {
    await fsp.mkdir(path.dirname(lockPath), { recursive: true });
    await fsp.writeFile(tmp, JSON.stringify(me) + "\n", { flag: "w" });
    written = true;
    await fsp.link(tmp, lockPath);
    return true;
  } catch (e) {
    // EEXIST: held. ENOENT of the link: our temp file was removed under us (cleanTempFiles takes an empty one
    // for a killed writer's): not taken; the caller looks at the lock and tries again.
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "EEXIST" || (code === "ENOENT" && written)) return false;
    throw ioError(lockPath, "take lock", e);
  } finally {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
  }
}

async function readHolder(lockPath: string): Promise<LockHolder | "missing" | "unreadable"> {
  let text: string | null;
  try {
    text = readRecordText(lockPath);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw ioError(lockPath, "read lock", e);
  }
  const owner = text === null ? null : parseOwner(text);
  if (!owner || text === null) return "unreadable";
  const acquiredAt = (JSON.parse(text) as { acquiredAt?: unknown }).acquiredAt;
  return { ...owner, acquiredAt: typeof acquiredAt === "string" ? acquiredAt : owner.since };
}

async function staleness(lockPath: string, holder: LockHolder | "unreadable", timings: LeaseTimings): Promise<{ stale: boolean; why: string }> {
  if (holder === "unreadable") return { stale: (await ageMs(lockPath)) > UNREADABLE_LOCK_STALE_MS, why: "an unreadable lock record" };
  const st = await fsp.stat(lockPath).catch(() => null);
  if (!st) return { stale: false, why: "released" }; // released meanwhile: the next attempt takes it
  const v = judgeLease(holder, st.mtimeMs, timings);
  return { stale: v.state !== "live", why: v.why };
}

/** Still our lock (not released, not broken and re-taken by someone else): renew it. */
function renewable(lockPath: string, token: string): boolean {
  try {
    const text = readRecordText(lockPath);
    return text !== null && (parseOwner(text)?.token ?? null) === token;
  } catch {
    return false;
  }
}

/**
 * A lock record's text, read synchronously (a few hundred bytes); null when it cannot be one: a FIFO or a device
 * in its place (a read would block forever or never end) or a file bigger than a record. Throws ENOENT when gone.
 */
function readRecordText(file: string): string | null {
  try {
    const read = readTextFile(file, MAX_RECORD_BYTES);
    if (read) return read.text;
  } catch (e) {
    if (e instanceof FileTooBigError) return null;
    throw e;
  }
  // readTextFile's null: gone, or not a regular file.
  if (!lstatSync(file, { throwIfNoEntry: false })) throw Object.assign(new Error(`ENOENT: ${file}`), { code: "ENOENT" });
  return null;
}

function tempPathOf(lockPath: string, token: string): string {
  return path.join(path.dirname(lockPath), `.${path.basename(lockPath)}.${process.pid}.${token}.tmp`);
}

/**
 * Removes the temp files a process killed between writing its record and linking it into place left
 * beside the lock, by the lease rule (expired, or its writer provably dead); a live one is left alone.
 */
export async function cleanTempFiles(lockPath: string, timings: LeaseTimings = leaseTimings()): Promise<string[]> {
  const dir = path.dirname(lockPath);
  const prefix = `.${path.basename(lockPath)}.`;
  const removed: string[] = [];
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  for (const name of names) {
    if (!name.startsWith(prefix) || !name.endsWith(".tmp")) continue;
    const file = path.join(dir, name);
    const st = await fsp.lstat(file).catch(() => null);
    let text: string | null = null;
    try {
      text = readRecordText(file);
    } catch {
      // unreadable: names no writer
    }
    if (!st) continue;
    const owner = text === null ? null : parseOwner(text);
    // One that names no writer (empty, torn) was left by a kill between its creation and its write: a live
    // writer fills it within microseconds, and writes it again if it is removed meanwhile (tryCreate).
    if (owner && judgeLease(owner, st.mtimeMs, timings).state === "live") continue;
    await fsp.rm(file, { force: true }).catch(() => undefined);
    removed.push(file);
  }
  return removed;
}

async function breakStale(lockPath: string, seen: LockHolder | "unreadable"): Promise<void> {
  const guard = `${lockPath}.break`;
  let fd: fsp.FileHandle;
  try {
    fd = await fsp.open(guard, "wx");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw ioError(guard, "create", e);
    // Someone else is breaking it; a guard left by a crashed breaker is removed after a while.
    if ((await ageMs(guard)) > BREAK_GUARD_STALE_MS) await fsp.rm(guard, { force: true });
    else await new Promise((r) => setTimeout(r, 2));
    return;
  }
  try {
    // Re-check under the guard: only remove the very lock we judged stale.
    const now = await readHolder(lockPath);
    const same = now === "unreadable" ? seen === "unreadable" : now !== "missing" && seen !== "unreadable" && now.token === seen.token;
    if (same) await fsp.rm(lockPath, { force: true });
  } finally {
    await fd.close();
    await fsp.rm(guard, { force: true });
  }
}

async function ageMs(file: string): Promise<number> {
  try {
    return Date.now() - (await fsp.stat(file)).mtimeMs;
  } catch {
    return 0;
  }
}

function lockedError(lockPath: string, holder: LockHolder | "unreadable", waitedMs: number, why: string): ModelLibraryError {
  const who =
    holder === "unreadable"
      ? "an unreadable lock record"
      : `pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}: ${why}`;
  return new ModelLibraryError("E_LOCKED", `${lockPath}: locked by ${who}; gave up after ${waitedMs} ms`, { path: lockPath });
}
