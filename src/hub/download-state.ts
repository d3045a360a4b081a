// downloads.json: the state of every download of the library, in `<root>/.model-library/downloads.json`, shaped
// like the original's downloads.json (download_id, repo_id, filename, filenames, dest_dir, total_bytes, status,
// download_request, created_at, known_sha256) plus what we add: the revision and its commit, the staging
// folder, bytes done, the error, and who runs it (pid, host, a lease renewed while it runs). Other processes
// ask the runner to pause or cancel through `control`. Read-modify-write happens under a lock; a download
// whose runner is gone (dead pid, or a lease not renewed) reads as paused, as the original's restore did.
import { hostname } from "node:os";
import { join, relative, sep } from "node:path";
import { readJson, writeJsonAtomic } from "../core/atomic-json.js";
import { pidAlive } from "../core/lease.js";
import { withLock } from "../core/lock.js";
import { ModelLibraryError } from "../core/errors.js";

export type DownloadStatus = "queued" | "downloading" | "pausing" | "paused" | "cancelling" | "completed" | "cancelled" | "error";

export interface DownloadRequest {
  repo_id: string;
  family: string | null;
  official_name: string;
  model_type: string | null;
  quant: string | null;
  filename: string | null;
  /** Ours: every file asked for with --file, the revision asked for, the model completed with --complete. */
  filenames?: string[] | null;
  revision?: string | null;
  complete_model_id?: string | null;
}

export interface DownloadEntry {
  download_id: string;
  repo_id: string;
  filename: string;
  filenames: string[];
  dest_dir: string;
  total_bytes: number | null;
  status: DownloadStatus;
  download_request: DownloadRequest;
  created_at: string;
  known_sha256?: string | null;
  // Added by model-library.
  revision?: string | null;
  commit_sha?: string | null;
  staging_dir?: string | null;
  downloaded_bytes?: number;
  error?: string | null;
  model_id?: string | null;
  /** The model folder this download made to land in, with its identity (a crashed run takes it back by these). */
  landing?: { model_id: string; dev: number; ino: number } | null;
  control?: "pause" | "cancel" | null;
  runner?: { pid: number; hostname: string; lease_renewed_at: string } | null;
  updated_at?: string;
}

interface DownloadsFile {
  downloads: DownloadEntry[];
  [extra: string]: unknown;
}

/** A runner that has not renewed its lease for this long is gone, even on another host. */
export const LEASE_MS = 60_000;

export function privateDir(root: string): string {
  return join(root, ".model-library");
}

export function downloadsFile(root: string): string {
  return join(privateDir(root), "downloads.json");
}

export function downloadsStagingRoot(root: string): string {
  return join(privateDir(root), "downloads");
}

async function readFile(root: string): Promise<DownloadsFile> {
  try {
    const raw = await readJson<DownloadsFile>(downloadsFile(root));
    if (raw && Array.isArray(raw.downloads)) return { ...raw, downloads: raw.downloads.filter((d) => d && typeof d.download_id === "string").map(withDefaults) };
  } catch {
    // unreadable: treated as empty, as the original did (the entries' staging folders are still on disk)
  }
  return { downloads: [] };
}

function withDefaults(d: DownloadEntry): DownloadEntry {
  return { ...d, filenames: Array.isArray(d.filenames) ? d.filenames : [] };
}

// The downloads this process runs now. A runner recorded with this process's pid is alive only while its download
// is here: one that ended where its last state could not be written (a full disk) must not read as running for as
// long as the process lives (a server, an API user), nor take pause and cancel asks nobody will act on.
const runningHere = new Set<string>();

/** Marks a download as running in this process (true) or ended here (false). */
export function setRunningHere(id: string, running: boolean): void {
  if (running) runningHere.add(id);
  else runningHere.delete(id);
}

/** Whether the process recorded as running the download is still there and renewing its lease. */
export function runnerAlive(d: DownloadEntry, now: number = Date.now()): boolean {
  const r = d.runner;
  if (!r) return false;
  if (r.hostname === hostname()) {
    if (!pidAlive(r.pid)) return false;
    if (r.pid === process.pid) return runningHere.has(d.download_id);
  }
  return now - Date.parse(r.lease_renewed_at) < LEASE_MS;
}

/** Every download, with those whose runner died shown as paused (queued/downloading → paused). */
export async function listDownloads(root: string): Promise<DownloadEntry[]> {
  const f = await readFile(root);
  return f.downloads.map((d) => (isActive(d.status) && !runnerAlive(d) ? { ...d, status: "paused" as const, runner: null, control: null } : d));
}

export function isActive(s: DownloadStatus): boolean {
  return s === "queued" || s === "downloading" || s === "pausing" || s === "cancelling";
}

/** Read-modify-write of downloads.json under its lock; `change` may edit the list in place. */
export async function updateDownloads<T>(root: string, change: (list: DownloadEntry[]) => T): Promise<T> {
  const file = downloadsFile(root);
  return withLock(`${file}.lock`, async () => {
    const f = await readFile(root);
    const result = change(f.downloads);
    await writeJsonAtomic(file, f);
    return result;
  });
}

/**
 * The download an id names: the whole id, else a prefix that only one download's id starts with. An unknown id is
 * E_NOT_FOUND; a prefix of several ids is E_USAGE naming them (never the first of them: cancel deletes its files).
 */
export function findDownload(all: DownloadEntry[], id: string, root: string): DownloadEntry {
  const exact = all.find((d) => d.download_id === id);
  if (exact) return exact;
  const hits = id ? all.filter((d) => d.download_id.startsWith(id)) : [];
  if (hits.length === 1) return hits[0];
  if (hits.length > 1) {
    throw new ModelLibraryError("E_USAGE", `"${id}" starts several download ids (${hits.map((d) => d.download_id.slice(0, 8)).join(", ")}): give more of the id`);
  }
  throw new ModelLibraryError("E_NOT_FOUND", `no download "${id}" in ${root} (see \`mlib downloads list\`)`);
}

export async function getDownload(root: string, id: string): Promise<DownloadEntry | null> {
  return (await listDownloads(root)).find((d) => d.download_id === id) ?? null;
}

export async function saveDownload(root: string, entry: DownloadEntry): Promise<void> {
  await updateDownloads(root, (list) => {
    const i = list.findIndex((d) => d.download_id === entry.download_id);
    const next = { ...entry, updated_at: new Date().toISOString() };
    if (i >= 0) list[i] = next;
    else list.push(next);
  });
}

export async function removeDownload(root: string, id: string): Promise<boolean> {
  return updateDownloads(root, (list) => {
    const i = list.findIndex((d) => d.download_id === id);
    if (i >= 0) list.splice(i, 1);
    return i >= 0;
  });
}

/** The staging folder of an entry, only if it really is one of ours (a hand-edited file never points us elsewhere). */
export function stagingDirOf(root: string, d: DownloadEntry): string {
  const base = downloadsStagingRoot(root);
  const own = join(base, d.download_id.replace(/[^\w-]/g, "_"));
  if (!d.staging_dir) return own;
  const rel = relative(base, d.staging_dir);
  return rel && !rel.startsWith("..") && !rel.includes(sep) && !rel.startsWith(sep) ? d.staging_dir : own;
}
