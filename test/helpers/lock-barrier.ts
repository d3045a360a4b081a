// Barriers for the two-process tests: when another process tries to take a lock (core/lock.ts), it first writes
// its record into `.<lock name>.<pid>.<token>.tmp` beside the lock, on every attempt. Watching the folder for
// those names (inotify: no attempt is missed, however short) tells the test that a given process has reached
// that lock, and how many times it tried: a second attempt means it is waiting for someone else's hold.
import { readFileSync, watch, type FSWatcher } from "node:fs";
import { basename, dirname } from "node:path";

export interface LockAttempts {
  /** Resolves once process `pid` has started its `times`th attempt at the lock (default 1). */
  reached(pid: number, times?: number): Promise<void>;
  close(): void;
}

/** Watches the attempts at the lock file `lockPath` (its folder must exist). */
export function watchLockAttempts(lockPath: string): LockAttempts {
  const prefix = `.${basename(lockPath)}.`;
  const counts = new Map<number, number>();
  const waiters: { pid: number; times: number; resolve: () => void }[] = [];
  const watcher: FSWatcher = watch(dirname(lockPath), (event, name) => {
    if (event !== "rename" || !name || !name.startsWith(prefix) || !name.endsWith(".tmp")) return;
    const pid = Number(name.slice(prefix.length).split(".")[0]);
    // One process's name appears and goes on each attempt (the same name: one token per acquireLock), two
    // "rename" events: attempt k has started at the (2k-1)th.
    const n = (counts.get(pid) ?? 0) + 0.5;
    counts.set(pid, n);
    for (const w of waiters.splice(0)) {
      if (w.pid === pid && n >= w.times - 0.5) w.resolve();
      else waiters.push(w);
    }
  });
  return {
    reached(pid, times = 1) {
      if ((counts.get(pid) ?? 0) >= times - 0.5) return Promise.resolve();
      return new Promise((resolve) => waiters.push({ pid, times, resolve }));
    },
    close() {
      watcher.close();
    },
  };
}

/**
 * Calls `then` (synchronously, from the watcher: a SIGSTOP sent there lands within a fraction of a millisecond) the
 * moment process `pid` lets go of the lock at `lockPath` after its `times`th hold (default 1); close() stops watching.
 */
export function whenReleasedBy(lockPath: string, pid: number, then: () => void, times = 1): { released: Promise<void>; close: () => void } {
  let sawHeld = false;
  let releases = 0;
  let resolve!: () => void;
  const released = new Promise<void>((r) => (resolve = r));
  const watcher = watch(dirname(lockPath), (_event, name) => {
    if (name !== basename(lockPath)) return;
    let holder: number | null = null;
    try {
      holder = (JSON.parse(readFileSync(lockPath, "utf8")) as { pid: number }).pid;
    } catch {
      holder = null;
    }
    if (holder === pid) sawHeld = true;
    else if (holder === null && sawHeld) {
      sawHeld = false;
      if (++releases < times) return;
      watcher.close(); // once
      then();
      resolve();
    }
  });
  return { released, close: () => watcher.close() };
}
