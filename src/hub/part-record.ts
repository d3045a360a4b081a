// The part record beside a partial download (`<file>.part.json`, Ollama's `-partial-N` idea in one file): which
// fixed-size parts of the file are written. A part is listed in `completed` once its bytes are written (they
// survive a kill -9 in the page cache), and in `synced` once an fdatasync has put them on disk (they survive a
// reboot too). On resume the same boot trusts `completed`, another boot only `synced`: so after a crash at most
// the parts in flight — one per connection — are fetched again. Written atomically (temp, rename) and
// synchronously as each part completes, without an fsync: a kill -9 leaves the page cache, and so the record,
// as it was; the record is made durable (syncPartRecord) after each background sync of the data, which is
// all a reboot may trust anyway. Measured on 1 GiB (8 connections, 36 parts): the fsynced write held each
// connection 40-200 ms before its next part (ext4's journal commit waits for the file's data to reach the
// disk), and as connections finish together the whole download stood still; the asynchronous write without
// fsync still took 25-280 ms to come back to a busy event loop; the synchronous one takes well under 1 ms.
import { readFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { dirname } from "node:path";
import { readJson, syncDir, writeJsonAtomicSync } from "../core/atomic-json.js";
import { partLayout } from "./part-layout.js";

export interface PartRecord {
  version: 1;
  /** The resolve URL the bytes come from (the CDN URL expires; this one does not). */
  url: string;
  size: number;
  /** The SHA-256 the Hub announced (LFS oid / X-Linked-Etag), null for plain git files. */
  sha256: string | null;
  partSize: number;
  /** How many leading parts grow up to `partSize` (part-layout.ts); absent in records written before: 0. */
  lead?: number;
  completed: number[];
  synced: number[];
  bootId: string | null;
  /** Set once every byte is written, synced and its hashes checked: the file only waits to be moved into place. */
  verified: { sha256: string; blake3: string } | null;
  updatedAt: string;
}

export function recordPathOf(partialPath: string): string {
  return `${partialPath}.json`;
}

let cachedBootId: string | null | undefined;
/** This boot's id (Linux); null elsewhere, where only synced parts are ever trusted. */
export function bootId(): string | null {
  if (cachedBootId === undefined) {
    try {
      cachedBootId = readFileSync("/proc/sys/kernel/random/boot_id", "utf8").trim() || null;
    } catch {
      cachedBootId = null;
    }
  }
  return cachedBootId;
}

/** The record if it describes this very download (same URL, size, hash and part size); else null (start over). */
export async function loadPartRecord(partialPath: string, expect: { url: string; size: number; sha256: string | null }): Promise<PartRecord | null> {
  let r: PartRecord | null;
  try {
    r = await readJson<PartRecord>(recordPathOf(partialPath));
  } catch {
    return null; // unreadable: the bytes cannot be trusted either
  }
  if (!r || r.version !== 1 || r.size !== expect.size || r.url !== expect.url) return null;
  if ((r.sha256 ?? null) !== (expect.sha256 ?? null)) return null;
  if (!Number.isSafeInteger(r.partSize) || r.partSize <= 0 || !Array.isArray(r.completed) || !Array.isArray(r.synced)) return null;
  const lead = r.lead ?? 0;
  if (!Number.isSafeInteger(lead) || lead < 0 || lead > 64) return null;
  const parts = partLayout(r.size, r.partSize, lead).length;
  const valid = (xs: unknown[]): number[] => [...new Set(xs.filter((x): x is number => Number.isInteger(x) && (x as number) >= 0 && (x as number) < parts))];
  const sameBoot = r.bootId !== null && r.bootId === bootId();
  const synced = valid(r.synced);
  return { ...r, lead, synced, completed: sameBoot ? valid(r.completed) : synced, verified: r.verified ?? null };
}

/** Writes the record atomically, now, without an fsync (enough for a kill -9, see above). */
export function writePartRecord(partialPath: string, r: PartRecord): void {
  writeJsonAtomicSync(recordPathOf(partialPath), { ...r, bootId: bootId(), updatedAt: new Date().toISOString() }, { durable: false });
}

/** Puts the record as it is now on disk (its content and its name), so it survives a power cut. */
export async function syncPartRecord(partialPath: string): Promise<void> {
  const path = recordPathOf(partialPath);
  const fh = await open(path, "r");
  try {
    await fh.sync();
  } finally {
    await fh.close();
  }
  await syncDir(dirname(path));
}
