// Leases: how a process says "this is mine, I am still working on it" about a file or folder that other
// processes may find (import staging, the commit lock), on a shared folder or from another PID namespace.
//
// The owner writes who it is (pid, host, boot id, PID namespace, process start time) and renews the lease by
// touching its file (mtime) every RENEW interval, from a timer, so a long copy keeps it alive without the
// importer doing anything. Another process may break a lease only when
//  - it has not been renewed for EXPIRE (2 min by default): the owner is gone or hung for long; or
//  - it can prove the owner dead: same host, same boot, same PID namespace, and that pid is gone (or is a
//    different process: its start time differs).
// A pid alone proves nothing across PID namespaces (a container, `unshare --pid`): one kernel, one boot id,
// but the pid numbers are another namespace's. Otherwise the lease is left alone, and the caller says so.
import * as fs from "node:fs";
import * as os from "node:os";
import { randomBytes } from "node:crypto";

export interface LeaseOwner {
  pid: number;
  hostname: string;
  /** /proc/sys/kernel/random/boot_id; null off Linux. */
  bootId: string | null;
  /** The link /proc/self/ns/pid (`pid:[4026531836]`); null off Linux. */
  pidNs: string | null;
  /** Process start time (clock ticks since boot), so a recycled pid is not taken for the owner. */
  startTicks: number | null;
  token: string;
  since: string;
}

export interface LeaseTimings {
  /** How often the owner renews (default 10 s; MLIB_LEASE_RENEW_MS). */
  renewMs: number;
  /** How long without renewal before anyone may break the lease (default 2 min; MLIB_LEASE_EXPIRE_MS). */
  expireMs: number;
}

export type LeaseState = "live" | "expired" | "dead";

export interface LeaseVerdict {
  state: LeaseState;
  /** Milliseconds since the last renewal. */
  ageMs: number;
  /** In words, for a report: whose it is and why it is (or is not) broken. */
  why: string;
  /** "live" because its owner is seen running (same host, boot and PID namespace), not merely not expired. */
  seenRunning?: boolean;
}

function envMs(name: string, fallback: number): number {
  const v = Number(process.env[name]);
  return Number.isFinite(v) && v > 0 ? v : fallback;
}

export function leaseTimings(overrides: Partial<LeaseTimings> = {}): LeaseTimings {
  return {
    renewMs: overrides.renewMs ?? envMs("MLIB_LEASE_RENEW_MS", 10_000),
    expireMs: overrides.expireMs ?? envMs("MLIB_LEASE_EXPIRE_MS", 120_000),
  };
}

function readOr(file: string): string | null {
  try {
    return fs.readFileSync(file, "utf8").trim();
  } catch {
    return null;
  }
}

let self: Omit<LeaseOwner, "token" | "since"> | null = null;

/** Who this process is, as a lease records it. */
export function currentOwner(): LeaseOwner {
  if (!self) {
    let pidNs: string | null = null;
    try {
      pidNs = fs.readlinkSync("/proc/self/ns/pid");
    } catch {
      // not Linux, or /proc not mounted: never "same namespace", so only expiry breaks our leases
    }
    self = {
      pid: process.pid,
      hostname: os.hostname(),
      bootId: readOr("/proc/sys/kernel/random/boot_id"),
      pidNs,
      startTicks: processStartTicks(process.pid),
    };
  }
  return { ...self, token: randomBytes(12).toString("hex"), since: new Date().toISOString() };
}

/** A lease record read back from JSON (null when it is not one). */
export function parseOwner(text: string): LeaseOwner | null {
  try {
    const v = JSON.parse(text) as Partial<LeaseOwner>;
    if (typeof v.pid !== "number" || typeof v.hostname !== "string" || typeof v.token !== "string") return null;
    const s = (x: unknown): string | null => (typeof x === "string" ? x : null);
    return {
      pid: v.pid,
      hostname: v.hostname,
      bootId: s(v.bootId),
      pidNs: s(v.pidNs),
      startTicks: typeof v.startTicks === "number" ? v.startTicks : null,
      token: v.token,
      since: s(v.since) ?? "",
    };
  } catch {
    return null;
  }
}

/**
 * Whether a lease may be broken. `owner` null: unknown owner (an unreadable record, or a folder without a
 * lease), judged on age alone. `renewedAtMs`: the lease file's mtime.
 */
export function judgeLease(owner: LeaseOwner | null, renewedAtMs: number, timings: LeaseTimings = leaseTimings()): LeaseVerdict {
  const ageMs = Math.max(0, Date.now() - renewedAtMs);
  const ago = `renewed ${Math.round(ageMs / 1000)} s ago`;
  const who = owner ? `pid ${owner.pid} on ${owner.hostname}` : "an unknown owner";
  if (ageMs > timings.expireMs) {
    return { state: "expired", ageMs, why: `${who}, not renewed for ${Math.round(ageMs / 1000)} s (the limit is ${Math.round(timings.expireMs / 1000)} s)` };
  }
  if (owner) {
    const me = currentOwner();
    const sameMachine = owner.hostname === me.hostname && owner.bootId !== null && owner.bootId === me.bootId;
    const sameNs = sameMachine && owner.pidNs !== null && owner.pidNs === me.pidNs;
    if (sameNs) {
      if (!pidAlive(owner.pid)) return { state: "dead", ageMs, why: `${who} has exited` };
      const ticks = processStartTicks(owner.pid);
      if (owner.startTicks !== null && ticks !== null && ticks !== owner.startTicks) {
        return { state: "dead", ageMs, why: `${who} has exited (the pid now belongs to another process)` };
      }
      return { state: "live", ageMs, why: `${who} is running (${ago})`, seenRunning: true };
    }
    const where =
      owner.hostname !== me.hostname
        ? "another host"
        : owner.bootId === null || me.bootId === null
          ? "this host, where it cannot be checked (no boot id)"
          : !sameMachine
            ? "another boot of this host"
            : "another PID namespace";
    return { state: "live", ageMs, why: `${who} in ${where}, ${ago} (expires after ${Math.round(timings.expireMs / 1000)} s without renewal)` };
  }
  return { state: "live", ageMs, why: `${who}, changed ${Math.round(ageMs / 1000)} s ago (left for ${Math.round(timings.expireMs / 1000)} s)` };
}

/** Sets a lease file's mtime to now: the renewal. Throws ENOENT when the file is gone. */
export function touchLease(file: string): void {
  const now = new Date();
  fs.utimesSync(file, now, now);
}

/**
 * Renews `file` every renewMs until stop() (or until `tick` returns false). The timer does not keep the
 * process alive. `tick` runs before each renewal: it may re-create the file, or say the lease is over.
 */
export function startRenewal(file: string, options: { timings?: LeaseTimings; tick?: () => boolean } = {}): { stop: () => void; renewNow: () => void } {
  const timings = options.timings ?? leaseTimings();
  const renewNow = (): void => {
    if (options.tick && !options.tick()) {
      stop();
      return;
    }
    try {
      touchLease(file);
    } catch {
      // gone (released, or broken by someone who judged it expired): nothing to renew
    }
  };
  const timer = setInterval(renewNow, timings.renewMs);
  timer.unref();
  const stop = (): void => clearInterval(timer);
  return { stop, renewNow };
}

export function pidAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    // EPERM: the process exists but belongs to another user.
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Field 22 of /proc/<pid>/stat (start time in clock ticks); null off Linux or when the pid is gone. */
export function processStartTicks(pid: number): number | null {
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
