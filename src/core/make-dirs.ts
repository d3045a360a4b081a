// `mkdir -p` one level at a time. Node's own `mkdir(p, { recursive: true })` never returns for a path under
// /proc or /sys (procfs answers ENOENT for a child it cannot hold, Node then "creates" the parent, gets EEXIST,
// and tries the child again, for ever, at 100 % CPU; the sync form cannot even be stopped by Ctrl-C), so
// `mlib init --library /proc/x` hung. Here each missing folder is made once, from the nearest existing one
// down, and the first failure is the answer.
import { mkdirSync } from "node:fs";
import { mkdir } from "node:fs/promises";
import { dirname, resolve } from "node:path";
import { statOrNull } from "./stat-or-null.js";

/** Makes `path` and its missing parents; resolves when it exists as a folder, else rejects with the OS error. */
export async function makeDirs(path: string): Promise<void> {
  for (const dir of missingDirs(path)) {
    try {
      await mkdir(dir);
    } catch (e) {
      // Made meanwhile by another process: fine as long as it is a folder (mkdir of the next level says if not).
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** makeDirs, synchronously (opening the Hub cache is synchronous). */
export function makeDirsSync(path: string): void {
  for (const dir of missingDirs(path)) {
    try {
      mkdirSync(dir);
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== "EEXIST") throw e;
    }
  }
}

/** The folders to make, outermost first: `path` and its parents up to the nearest one that exists. */
function missingDirs(path: string): string[] {
  const missing: string[] = [];
  for (let dir = resolve(path); !statOrNull(dir); dir = dirname(dir)) {
    missing.push(dir);
    if (dirname(dir) === dir) break; // the root itself is missing: mkdir says why
  }
  return missing.reverse();
}
