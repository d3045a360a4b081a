// How many inotify watches the watcher may take. The kernel's limit (fs.inotify.max_user_watches) is shared by
// every program of the user (editors, file managers, other watchers): taking a quarter leaves the rest room.
import { readFileSync } from "node:fs";

const FALLBACK_LIMIT = 8192; // the historical kernel default, where /proc cannot be read
const SHARE = 0.25;

export function inotifyLimit(): number {
  try {
    const n = Number.parseInt(readFileSync("/proc/sys/fs/inotify/max_user_watches", "utf8").trim(), 10);
    return Number.isInteger(n) && n > 0 ? n : FALLBACK_LIMIT;
  } catch {
    return FALLBACK_LIMIT;
  }
}

/** The default number of folders watched before falling back to watching containers plus a periodic rescan. */
export function defaultWatchBudget(): number {
  return Math.floor(inotifyLimit() * SHARE);
}
