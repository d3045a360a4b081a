// Import staging: `<root>/.model-library/staging/<pid>-<random>/` holds a model while it is copied and
// hashed; one rename moves it into place. Beside each folder, `<name>.lease` says whose it is (core/lease.ts);
// a timer renews it every ~10 s while the folder exists (also during a long copy: the importer does nothing
// for it) and removes it once the folder is gone (committed or cleaned up). `rm` uses one too: a model folder is
// renamed into it before it is deleted (store/model-library.ts remove()).
//
// Opening a library cleans up: a staging folder whose lease expired (not renewed for 2 min) or whose owner
// is provably dead (same host, boot and PID namespace, pid gone) is removed; any other is left alone and
// reported. Folders of the older `<root>/.staging/` layout have no lease: judged by their newest mtime.
// The original's `<root>/.tmp_import_*` folders are the original's: reported, never removed.
//
// A lease is written whole or not at all (a temp file `<name>.lease.tmp`, renamed into place), so a kill -9
// mid-write leaves at worst that temp file, which the next open removes at once: an empty one had no writer
// left to finish it, a whole one names its writer. A lease without its folder is removed as soon as no live
// owner can be behind it (a torn one from an older version: at once), never kept for the 2 minutes of expiry.
import * as fs from "node:fs";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { lstatOrNull } from "../core/stat-or-null.js";
import { FileTooBigError, readTextFile } from "../core/read-text-file.js";
import { ioError } from "../core/errors.js";
import { walkFoldersSync } from "../core/walk.js";
import { currentOwner, judgeLease, leaseTimings, parseOwner, startRenewal, type LeaseTimings, type LeaseVerdict } from "../core/lease.js";
import { LEGACY_STAGING_PREFIX, OLD_COMMIT_LOCK, OLD_STAGING_DIR, STAGING_DIR } from "./layout.js";

const LEASE_SUFFIX = ".lease";
const LEASE_TEMP_SUFFIX = ".lease.tmp";
const MAX_LEASE_BYTES = 64 * 1024;

export interface StagingReport {
  /** Staging folders removed (expired or owner dead), with why. */
  removed: { path: string; why: string }[];
  /** Staging folders left alone (their owner may still be working), with why; `running` when its owner is seen running here. */
  leftAlone: { path: string; why: string; running?: boolean }[];
  /** The original's `.tmp_import_*` folders found in the root (never touched), with their age. */
  original: { path: string; ageMs: number }[];
}

const renewals = new Map<string, { stop: () => void; renewNow: () => void }>();

/** Makes a staging folder under a renewed lease; removing or renaming the folder ends the lease. */
export async function makeStagingDir(root: string, timings: LeaseTimings = leaseTimings()): Promise<string> {
  const stagingRoot = join(root, ...STAGING_DIR.split("/"));
  const name = `${process.pid}-${randomBytes(6).toString("hex")}`;
  const dir = join(stagingRoot, name);
  const lease = dir + LEASE_SUFFIX;
  const record = JSON.stringify(currentOwner()) + "\n";
  try {
    await fs.promises.mkdir(stagingRoot, { recursive: true });
    // The lease first: a folder never exists without one (a cleaner could otherwise judge it ownerless).
    writeLeaseWhole(lease, record);
    await fs.promises.mkdir(dir);
  } catch (e) {
    await fs.promises.rm(lease, { force: true }).catch(() => undefined);
    throw ioError(dir, "create the staging folder", e);
  }
  const renewal = startRenewal(lease, {
    timings,
    // Runs from a timer: an error here (a full disk, a read-only folder) would be uncaught and end the import, so
    // it is swallowed; the next tick tries again.
    tick: () => {
      try {
        if (!fs.existsSync(dir)) {
          fs.rmSync(lease, { force: true });
          renewals.delete(dir);
          return false;
        }
        // Broken by someone who judged us expired (a stalled process): say again that it is ours.
        if (!fs.existsSync(lease)) writeLeaseWhole(lease, record);
      } catch {
        // tried again at the next tick
      }
      return true;
    },
  });
  renewals.set(dir, renewal);
  return dir;
}

/**
 * Writes a lease so that it appears complete or not at all: into `<lease>.tmp`, then renamed over `<lease>`.
 * A cleaner that removed the temp file meanwhile (it judges an empty one at once: see cleanStaging) makes the
 * rename fail with ENOENT: written again.
 */
function writeLeaseWhole(lease: string, record: string): void {
  const tmp = lease.slice(0, -LEASE_SUFFIX.length) + LEASE_TEMP_SUFFIX;
  for (let attempt = 1; ; attempt++) {
    try {
      fs.writeFileSync(tmp, record);
      fs.renameSync(tmp, lease);
      return;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "ENOENT" || attempt >= 5) {
        fs.rmSync(tmp, { force: true });
        throw e;
      }
    }
  }
}

/** Renews the lease of a staging folder now (the timer does it anyway; for callers that want to be sure). */
export function renewStaging(dir: string): void {
  renewals.get(dir)?.renewNow();
}

/** Ends the lease of a staging folder whose folder is gone (else the timer does it at its next tick). */
export function releaseStaging(dir: string): void {
  const r = renewals.get(dir);
  if (!r) return;
  r.renewNow(); // removes the lease file and stops when the folder is gone
  if (fs.existsSync(dir)) return;
  r.stop();
  renewals.delete(dir);
}

/** Removes staging that nobody owns any more; reports what it removed, what it left and the original's folders. */
export function cleanStaging(root: string, options: { timings?: LeaseTimings; removeNothing?: boolean } = {}): StagingReport {
  const timings = options.timings ?? leaseTimings();
  const report: StagingReport = { removed: [], leftAlone: [], original: [] };
  const remove = (path: string, why: string, lease?: string): void => {
    if (options.removeNothing) {
      report.leftAlone.push({ path, why: `${why}; not removed (the library is read-only here)` });
      return;
    }
    try {
      fs.rmSync(path, { recursive: true, force: true });
      if (lease) fs.rmSync(lease, { force: true });
      report.removed.push({ path, why });
    } catch (e) {
      report.leftAlone.push({ path, why: `${why}; could not remove it (${(e as Error).message})` });
    }
  };

  const stagingRoot = join(root, ...STAGING_DIR.split("/"));
  const names = new Set(readdirOrEmpty(stagingRoot));
  for (const name of names) {
    const path = join(stagingRoot, name);
    if (name.endsWith(LEASE_SUFFIX) || name.endsWith(LEASE_TEMP_SUFFIX)) {
      // A lease whose folder is gone: its owner committed or cleaned up and its timer has not run yet, or it is
      // about to make the folder, or it died in between. A lease's temp file: its writer is renaming it into
      // place now, or died mid-write. Either is removed once no live owner can be behind it; an empty or torn
      // one names no owner and was left by a kill (a live writer renames a whole one, and writes again if its
      // temp file was removed under it): removed at once.
      if (name.endsWith(LEASE_SUFFIX) && names.has(name.slice(0, -LEASE_SUFFIX.length))) continue;
      const v = judgeLeaseFile(path, timings, { unreadable: "dead" });
      if (v && v.state !== "live" && !options.removeNothing) fs.rmSync(path, { force: true });
      continue;
    }
    const lease = path + LEASE_SUFFIX;
    const verdict = stagingVerdict(path, names.has(name + LEASE_SUFFIX) ? lease : null, timings);
    if (verdict.state === "live") report.leftAlone.push({ path, why: `an import in progress: ${verdict.why}`, running: verdict.seenRunning === true });
    else remove(path, verdict.why, lease);
  }

  // The layout before `.model-library/`: `<root>/.staging/<pid>-<random>/`, no lease. Age alone decides.
  const oldRoot = join(root, OLD_STAGING_DIR);
  for (const name of readdirOrEmpty(oldRoot)) {
    const path = join(oldRoot, name);
    const verdict = stagingVerdict(path, null, timings);
    if (verdict.state === "live") report.leftAlone.push({ path, why: `an import in progress (older layout): ${verdict.why}` });
    else remove(path, verdict.why);
  }
  if (!options.removeNothing && fs.existsSync(oldRoot) && readdirOrEmpty(oldRoot).length === 0) fs.rmSync(oldRoot, { recursive: true, force: true });

  // The commit lock of the layout before `.model-library/` (`<root>/.commit.lock`), left by a killed process:
  // removed once its lease expired or its owner is provably dead; and the temp files beside it, alike.
  if (!options.removeNothing) {
    const oldLock = join(root, OLD_COMMIT_LOCK);
    const v = judgeLeaseFile(oldLock, timings);
    if (v && v.state !== "live") {
      fs.rmSync(oldLock, { force: true });
      report.removed.push({ path: oldLock, why: v.why });
    }
  }
  for (const name of readdirOrEmpty(root)) {
    if (!options.removeNothing && name.startsWith(`.${OLD_COMMIT_LOCK}.`) && name.endsWith(".tmp")) {
      const path = join(root, name);
      const v = judgeLeaseFile(path, timings);
      if (v && v.state !== "live") {
        fs.rmSync(path, { force: true });
        report.removed.push({ path, why: v.why });
      }
      continue;
    }
    if (!name.startsWith(LEGACY_STAGING_PREFIX)) continue;
    const path = join(root, name);
    report.original.push({ path, ageMs: Date.now() - newestMtime(path) });
  }
  return report;
}

/**
 * Whether a staging folder is still someone's: by its lease when it has one, else (a hand-made folder, the layout
 * before `.model-library/`, a lease that cannot be read) by the age of its newest entry. The one rule for every
 * cleaner (opening a library, `mlib doctor --fix`).
 */
export function stagingVerdict(path: string, lease: string | null, timings: LeaseTimings = leaseTimings()): LeaseVerdict {
  return (lease ? judgeLeaseFile(lease, timings) : null) ?? judgeLease(null, newestMtime(path), timings);
}

/**
 * The verdict on a lease file (null when it is gone). A record that cannot be read names no owner: judged by
 * age like a folder without a lease, or with `unreadable: "dead"` (a lease without its folder) as nobody's.
 */
function judgeLeaseFile(file: string, timings: LeaseTimings, options: { unreadable?: "age" | "dead" } = {}): LeaseVerdict | null {
  try {
    const { st, text } = readLeaseText(file);
    if (!st) return null;
    const owner = text === null ? null : parseOwner(text);
    if (!owner && options.unreadable === "dead") {
      return { state: "dead", ageMs: Math.max(0, Date.now() - st.mtimeMs), why: `${file}: a lease that names no owner (${st.size === 0 ? "empty" : "torn"}: its writer was killed while writing it)` };
    }
    return judgeLease(owner, st.mtimeMs, timings);
  } catch {
    return null;
  }
}

/**
 * A lease file's stat and text; text null when it cannot be a lease: bigger than one (not read whole), or not a
 * regular file (a FIFO would block this synchronous read forever). st null when it is gone.
 */
function readLeaseText(file: string): { st: fs.Stats | null; text: string | null } {
  try {
    const read = readTextFile(file, MAX_LEASE_BYTES);
    return read ?? { st: lstatOrNull(file), text: null };
  } catch (e) {
    if (e instanceof FileTooBigError) return { st: e.st, text: null };
    throw e;
  }
}

function readdirOrEmpty(dir: string): string[] {
  try {
    return fs.readdirSync(dir);
  } catch {
    return [];
  }
}

/** The newest mtime of a folder and what it holds (a copy in progress keeps touching its file). */
export function newestMtime(path: string): number {
  const st = lstatOrNull(path);
  if (!st?.isDirectory()) return st?.mtimeMs ?? 0;
  let newest = st.mtimeMs;
  // Every entry (hidden ones too) down to four levels, links not followed.
  walkFoldersSync(
    path,
    ({ abs, entries }) => {
      for (const e of entries) newest = Math.max(newest, lstatOrNull(join(abs, e.name))?.mtimeMs ?? 0);
    },
    { maxDepth: 3, skip: () => false, unreadable: "skip" },
  );
  return newest;
}

