// An exclusive cross-process lock on a file path, for read-modify-write of shared JSON files
// (link registry, downloads.json...). The lock is a file created atomically (link(2) of a fully written
// temp file, which fails with EEXIST when someone holds it), holding who owns it: pid, hostname, the
// process start time (so a recycled pid is not mistaken for the holder) and a random token.
//
// A lock is stale when its holder is on this host and that process is gone. Breaking a stale lock is
// itself guarded by a short-lived `<lock>.break` file: without it two waiters could both see the same stale
// lock, one removes it and takes a fresh lock, and the other then removes that fresh lock.
// Locks held from other hosts (shared network folders) are never judged stale: we cannot see their pids.
import * as fs from "node:fs";
import * as fsp from "node:fs/promises";
import * as os from "node:os";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { ModelLibraryError, ioError } from "./errors.js";

export interface LockOptions {
  /** How long to wait for the holder before failing with E_LOCKED (default 10 s). */
  timeoutMs?: number;
}

export interface LockHolder {
  pid: number;
  hostname: string;
  /** Process start time from /proc (clock ticks since boot) or null where unavailable. */
  startTicks: number | null;
  acquiredAt: string;
  token: string;
}

const DEFAULT_TIMEOUT_MS = 10_000;
// A `.break` guard is held only for a read + unlink; one older than this was left by a crash.
const BREAK_GUARD_STALE_MS = 5_000;
// A lock file that cannot be parsed (hand-edited, disk full mid-write of an old version) is stale after this.
const UNREADABLE_LOCK_STALE_MS = 30_000;

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
  const me: LockHolder = {
    pid: process.pid,
    hostname: os.hostname(),
    startTicks: processStartTicks(process.pid),
    acquiredAt: "",
    token: randomBytes(12).toString("hex"),
  };
  const started = Date.now();
  let delay = 2;
  for (;;) {
    me.acquiredAt = new Date().toISOString();
    if (await tryCreate(lockPath, me)) return me;
    const current = await readHolder(lockPath);
    if (current === "missing") continue; // released between our attempt and the read: retry at once
    if (await isStale(lockPath, current)) {
      await breakStale(lockPath, current);
      continue;
    }
    const waited = Date.now() - started;
    if (waited >= timeoutMs) throw lockedError(lockPath, current, waited);
    // Jittered backoff keeps several waiters from retrying in lockstep.
    const sleep = Math.min(delay, timeoutMs - waited) * (0.5 + Math.random());
    await new Promise((r) => setTimeout(r, sleep));
    delay = Math.min(delay * 2, 50);
  }
}

/** Removes the lock if it is still ours (a lock broken and re-taken by another process is left alone). */
export async function releaseLock(lockPath: string, holder: LockHolder): Promise<void> {
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
  const tmp = path.join(path.dirname(lockPath), `.${path.basename(lockPath)}.${process.pid}.${me.token}.tmp`);
  try {
    await fsp.mkdir(path.dirname(lockPath), { recursive: true });
    await fsp.writeFile(tmp, JSON.stringify(me) + "\n", { flag: "w" });
    await fsp.link(tmp, lockPath);
    return true;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "EEXIST") return false;
    throw ioError(lockPath, "take lock", e);
  } finally {
    await fsp.rm(tmp, { force: true }).catch(() => undefined);
  }
}

async function readHolder(lockPath: string): Promise<LockHolder | "missing" | "unreadable"> {
  let text: string;
  try {
    text = await fsp.readFile(lockPath, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return "missing";
    throw ioError(lockPath, "read lock", e);
  }
  try {
    const v = JSON.parse(text) as Partial<LockHolder>;
    if (typeof v.pid !== "number" || typeof v.hostname !== "string" || typeof v.token !== "string") return "unreadable";
    return {
      pid: v.pid,
      hostname: v.hostname,
      startTicks: typeof v.startTicks === "number" ? v.startTicks : null,
      acquiredAt: typeof v.acquiredAt === "string" ? v.acquiredAt : "",
      token: v.token,
    };
  } catch {
    return "unreadable";
  }
}

async function isStale(lockPath: string, holder: LockHolder | "unreadable"): Promise<boolean> {
  if (holder === "unreadable") return (await ageMs(lockPath)) > UNREADABLE_LOCK_STALE_MS;
  if (holder.hostname !== os.hostname()) return false;
  if (!pidAlive(holder.pid)) return true;
  // Same pid but a different start time: the holder died and its pid was given to another process.
  const ticks = processStartTicks(holder.pid);
  return holder.startTicks !== null && ticks !== null && ticks !== holder.startTicks;
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

function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); null off Linux or when the pid is gone. */
function processStartTicks(pid: number): number | null {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) is in parentheses and may contain spaces: count fields after the last ")".
    const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const ticks = Number(rest[19]);
    return Number.isFinite(ticks) ? ticks : null;
  } catch {
    return null;
  }
}

function lockedError(lockPath: string, holder: LockHolder | "unreadable", waitedMs: number): ModelLibraryError {
  const who =
    holder === "unreadable"
      ? "an unreadable lock record"
      : `pid ${holder.pid} on ${holder.hostname} since ${holder.acquiredAt}${holder.hostname === os.hostname() ? "" : " (another host: remove the file if that process is gone)"}`;
  return new ModelLibraryError("E_LOCKED", `${lockPath}: locked by ${who}; gave up after ${waitedMs} ms`, { path: lockPath });
}
