// The merge journal, in the destination: `<root>/.model-library/merge-journal.json` holds the plan (written
// atomically and fsync'd before the first move), and `merge-journal.log` gets one line per step before the
// step is taken, fsync'd once per batch (a fsync per model would cost more than the renames themselves).
// A killed merge leaves both; `mlib merge SRC` reads the plan back and finishes it. What each step still
// has to do is decided from the disk (is the folder still in the source? already in the library?), so a
// step the log announced but the kill interrupted is simply done again — every step is idempotent.
import { appendFileSync, closeSync, fsyncSync, openSync } from "node:fs";
import { mkdir, rm } from "node:fs/promises";
import { join } from "node:path";
import { readJson, writeJsonAtomicSync } from "../core/atomic-json.js";
import { ioError } from "../core/errors.js";
import { isSafeId } from "../store/model-library.js";
import type { MergePlanItem } from "./merge-types.js";

/** Our per-library folder (index, locks, staging, journals). */
export const STATE_DIR = ".model-library";
export const JOURNAL_FILE = "merge-journal.json";
export const JOURNAL_LOG = "merge-journal.log";
export const MERGE_STAGING = "merge-staging";
export const MERGE_LOCK = "merge.lock";

export interface JournalData {
  version: 1;
  source: string;
  startedAt: string;
  allowPickle: boolean;
  plan: MergePlanItem[];
}

export function stateDir(root: string): string {
  return join(root, STATE_DIR);
}

export async function readJournal(root: string): Promise<JournalData | null> {
  const data = await readJson<JournalData>(join(stateDir(root), JOURNAL_FILE));
  if (!data || data.version !== 1 || typeof data.source !== "string" || !Array.isArray(data.plan)) return data === null ? null : invalid(root);
  // A damaged or hand-edited plan naming "../x" or "/x" would have the folder it names moved (or removed as a
  // duplicate) from outside the source, or into a place outside the library.
  for (const item of data.plan) {
    const bad = item && typeof item === "object" ? unsafeName(item.source) ?? (item.destId === null ? null : unsafeName(item.destId)) : "an item that is not an object";
    if (bad) throw new Error(`${join(stateDir(root), JOURNAL_FILE)}: ${bad}; move it away to start afresh`);
  }
  return data;
}

/** Why a folder name of the plan (relative to the source or the library) is not one inside it, or null. */
function unsafeName(name: unknown): string | null {
  if (typeof name !== "string") return `a folder name that is not a string (${JSON.stringify(name)})`;
  return isSafeId(name) ? null : `the folder name ${JSON.stringify(name)} is not one inside the source or the library (absolute, or an empty, "." or ".." part, or a NUL)`;
}

function invalid(root: string): never {
  throw new Error(`${join(stateDir(root), JOURNAL_FILE)}: not a merge journal this version can read; move it away to start afresh`);
}

/**
 * The plan, durable before the first move: temp file, fsync, rename, fsync of the folder. Compact JSON, and the
 * file lists only where a step needs them (duplicates are re-hashed against them, copies checked): at 10,000
 * models the pretty-printed plan with every file took longer to write than the renames it describes.
 */
export async function writeJournal(root: string, data: JournalData): Promise<void> {
  const dir = stateDir(root);
  await mkdir(dir, { recursive: true });
  const plan = data.plan.map((p) => (p.action === "duplicate" || p.crossDevice ? p : { ...p, files: [] }));
  // The atomic JSON writer (temp file, fsync, rename, fsync of the folder): its temp file, left by a kill, is one
  // `mlib doctor --fix` knows and removes (a name of our own was left for good).
  writeJsonAtomicSync(join(dir, JOURNAL_FILE), { ...data, plan }, { compact: true });
}

/** Appends step records; `sync` makes them durable (called once per batch, before the batch's steps run). */
export function logSteps(root: string, steps: { i: number; step: string }[]): void {
  if (steps.length === 0) return;
  const file = join(stateDir(root), JOURNAL_LOG);
  try {
    const fd = openSync(file, "a");
    try {
      appendFileSync(fd, steps.map((s) => JSON.stringify(s)).join("\n") + "\n");
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  } catch (e) {
    throw ioError(file, "append to the merge log", e);
  }
}

/** The merge is complete: the journal and its log go (the plan is in the result the caller got). */
export async function removeJournal(root: string): Promise<void> {
  await rm(join(stateDir(root), JOURNAL_LOG), { force: true });
  await rm(join(stateDir(root), JOURNAL_FILE), { force: true });
  await rm(join(stateDir(root), MERGE_STAGING), { recursive: true, force: true });
}
