// Import staging: `<root>/.staging/<pid>-<random>/` holds a model while it is copied and hashed; one rename
// moves it into place. A process killed mid-import leaves its folder behind: the next open removes every
// staging folder whose process is gone (and the original's `.tmp_import_*` folders once they are an hour old).
import { mkdir, readdir, rm, stat } from "node:fs/promises";
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { LEGACY_STAGING_PREFIX, STAGING_DIR } from "./layout.js";

const LEGACY_STALE_MS = 60 * 60 * 1000;

export async function makeStagingDir(root: string): Promise<string> {
  const dir = join(root, STAGING_DIR, `${process.pid}-${randomBytes(6).toString("hex")}`);
  await mkdir(dir, { recursive: true });
  return dir;
}

function processIsAlive(pid: number): boolean {
  if (pid === process.pid) return true;
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Removes staging left by dead processes; returns the folders removed. */
export async function cleanStaging(root: string): Promise<string[]> {
  const removed: string[] = [];
  const stagingRoot = join(root, STAGING_DIR);
  const entries = await readdir(stagingRoot).catch(() => [] as string[]);
  for (const name of entries) {
    const pid = Number.parseInt(name.split("-")[0], 10);
    if (Number.isInteger(pid) && pid > 0 && processIsAlive(pid)) continue;
    await rm(join(stagingRoot, name), { recursive: true, force: true }).catch(() => undefined);
    removed.push(join(stagingRoot, name));
  }
  const top = await readdir(root).catch(() => [] as string[]);
  for (const name of top) {
    if (!name.startsWith(LEGACY_STAGING_PREFIX)) continue;
    const p = join(root, name);
    const st = await stat(p).catch(() => null);
    if (st && Date.now() - st.mtimeMs > LEGACY_STALE_MS) {
      await rm(p, { recursive: true, force: true }).catch(() => undefined);
      removed.push(p);
    }
  }
  return removed;
}
