// The write-ahead journal of `map apply`: `<library>/.model-library/link_journal.json`, written (and fsynced)
// before the first link of a run is made, removed once the registry records the run's links.
//
// It lists what the run is about to make, so a process killed mid-apply leaves a trace: whoever loads the
// registry next reads the journal's links as `pending` entries, exactly the entries the registry's own
// write-ahead used to hold, and `links check` / `links repair` / the next apply judge them as before. It is
// one small file (the run's common fields once, then target, source and model per link) instead of the whole
// registry written twice: at 10,000 links, ~1 MB built in a few ms instead of a 5.7 MB registry serialised.
//
// Done or not: the registry's final save records the journal's id (`mlib_journal_done`) in the same atomic
// write that records the links, so a journal still present after that save (killed before its removal) is
// known to be done and is only removed; a journal whose id the registry does not hold was never recorded.
// A journal that does not parse is damaged (written atomically, a kill never leaves half of one): it is removed.
import * as fs from "node:fs";
import * as path from "node:path";
import { randomBytes } from "node:crypto";
import { writeJsonAtomicSync } from "../core/atomic-json.js";
import { ioError } from "../core/errors.js";
import type { LinkEntry } from "./registry.js";

export const JOURNAL_FILE = path.join(".model-library", "link_journal.json");
/** The registry's top-level field holding the id of the last journal it records (a field the original ignores). */
export const JOURNAL_DONE_KEY = "mlib_journal_done";

/** The old entry a replacement of a broken link of ours takes the place of (put back if the replacement is not proven). */
export interface Replacing {
  source: string;
  link_type: LinkEntry["link_type"];
  model_id: string;
}

/**
 * One link about to be made: [target, source, model_id, is a folder (1/0), temp name or null, replacing or null],
 * and for --on-conflict overwrite a 7th: where the user's file at the target is moved aside (so that after a
 * kill between that move and the link, `links repair` puts it back).
 */
export type JournalLink = [string, string, string, 0 | 1, string | null, Replacing | null] | [string, string, string, 0 | 1, string | null, Replacing | null, string];

export interface Journal {
  mlib_link_journal: 1;
  id: string;
  created_at: string;
  app_id: string;
  app_version: string | null;
  app_root: string;
  link_type: LinkEntry["link_type"];
  links: JournalLink[];
}

export function journalPath(libraryRoot: string): string {
  return path.join(libraryRoot, JOURNAL_FILE);
}

export function newJournalId(): string {
  return randomBytes(8).toString("hex");
}

/** Writes the journal and makes it durable (file and folder fsynced) before any of its links exists. */
export function writeJournal(libraryRoot: string, journal: Journal): string {
  const file = journalPath(libraryRoot);
  // The library's atomic write (temp, fsync, rename, folder fsync), on one line: whoever reads it finds the
  // whole journal or none.
  writeJsonAtomicSync(file, journal, { compact: true });
  return file;
}

/**
 * The journal left at `libraryRoot`: null when there is none, "torn" when it does not parse (damaged: written
 * atomically, it is never cut short by a kill, and none of its links was made before it was whole), else its content.
 */
export function readJournal(libraryRoot: string): Journal | "torn" | null {
  let text: string;
  try {
    text = fs.readFileSync(journalPath(libraryRoot), "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") return null;
    throw ioError(journalPath(libraryRoot), "read the link journal", e);
  }
  try {
    const j = JSON.parse(text) as Journal;
    if (j && j.mlib_link_journal === 1 && typeof j.id === "string" && Array.isArray(j.links)) return j;
  } catch {
    // damaged
  }
  return "torn";
}

/** The journal's links as the pending registry entries the write-ahead registry used to hold. */
export function pendingEntries(j: Journal): LinkEntry[] {
  const out: LinkEntry[] = [];
  for (const l of j.links) {
    if (!Array.isArray(l) || typeof l[0] !== "string" || typeof l[1] !== "string" || typeof l[2] !== "string") continue;
    const [target, source, modelId, isDir, partial, replacing, aside] = l;
    const e: LinkEntry = {
      model_id: modelId,
      source,
      target,
      link_type: j.link_type,
      created_at: j.created_at,
      app_id: j.app_id,
      app_version: j.app_version,
      app_root: j.app_root,
      pending: true,
    };
    if (isDir === 1) e.is_dir = true;
    if (typeof partial === "string") e.partial = partial;
    if (replacing && typeof replacing === "object") e.replacing = replacing;
    if (typeof aside === "string") e.replaced = aside;
    out.push(e);
  }
  return out;
}
