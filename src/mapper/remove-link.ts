// Removing a link we made — only after proving it is still ours, and never through a link:
//   symlink   the target is a symlink whose text is exactly the recorded source: unlink(2) of the link itself
//   hardlink  a regular file (lstat) with the recorded inode/device/size (the original's entries, without
//             them: the source's inode)
//   copy      a regular file with the recorded inode/size/mtime; the original's entries (none recorded):
//             the same SHA-256 as the source (or the hash metadata.json records for it)
// A hard link or copy whose source is gone is kept: it holds the only copy of the bytes.
// Anything else is reported and left. A target outside the app folder it was made for is never touched.
// Folders are never removed (a folder link is a symlink; a user's symlinked folder is written through, kept).
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import { readMetadataText } from "../store/record.js";
import { inspectLink, type LinkStatus } from "./inspect-link.js";
import { isTempNameOf } from "./link-file.js";
import { isInside } from "./plan.js";
import type { LinkEntry } from "./registry.js";

export interface RemovalOutcome {
  target: string;
  modelId: string;
  /** removed: deleted from disk; gone: already absent; kept: on disk and not ours any more (reported). */
  outcome: "removed" | "gone" | "kept";
  status: LinkStatus;
  reason: string | null;
}

const CHUNK = 4 * 1024 * 1024;

export function sha256OfFile(file: string): string {
  const h = createHash("sha256");
  const fd = fs.openSync(file, "r");
  try {
    const buf = Buffer.allocUnsafe(CHUNK);
    for (;;) {
      const n = fs.readSync(fd, buf, 0, CHUNK, null);
      if (n === 0) break;
      h.update(buf.subarray(0, n));
    }
  } finally {
    fs.closeSync(fd);
  }
  return h.digest("hex");
}

/** The SHA-256 the library knows for `source`: hashed from the file, else read from its model's metadata.json. */
function sourceSha256(source: string): string | null {
  try {
    return sha256OfFile(source);
  } catch {
    // source gone: look for its recorded hash
  }
  for (let dir = path.dirname(source), rel = path.basename(source); path.dirname(dir) !== dir; rel = `${path.basename(dir)}/${rel}`, dir = path.dirname(dir)) {
    try {
      const read = readMetadataText(path.join(dir, "metadata.json"));
      if (!read) continue;
      const meta = JSON.parse(read.text) as { files?: { name?: string; sha256?: string | null }[] };
      const f = meta.files?.find((x) => x.name === rel);
      return f?.sha256 ?? null;
    } catch {
      // not a model folder: go up
    }
  }
  return null;
}

/** True when a regular file at `target` is proven a copy of `source` by content. */
export function provenCopy(target: string, source: string): boolean {
  const want = sourceSha256(source);
  if (!want) return false;
  try {
    return sha256OfFile(target) === want.toLowerCase();
  } catch {
    return false;
  }
}

/** The app folder an entry was made for (null for the original's entries, which did not record it). */
function appDirOf(entry: LinkEntry): string | null {
  return typeof entry.app_root === "string" ? path.dirname(entry.app_root) : null;
}

/**
 * Why the folder holding an entry's target is not where the link was made (a folder re-pointed through a
 * symlink since), or null when it is. A user's symlinked folder that was already there when we linked is
 * recorded (`target_dir_real`) and written through; one that appeared later is never followed to remove.
 * The original's entries record nothing: their folder must resolve to itself.
 */
export function parentMoved(entry: LinkEntry, cache: Map<string, string | null> = new Map()): string | null {
  const parent = path.dirname(entry.target);
  if (typeof entry.target_dir_real !== "string") {
    // The original's entries: only the target's own folder is checked (a symlink higher up, such as /home on
    // another disk, is the user's whole layout, not a re-pointed folder).
    try {
      if (fs.lstatSync(parent).isSymbolicLink()) return `the folder ${parent} is a symlink (to ${fs.readlinkSync(parent)}) and the entry does not record where it led: not followed`;
    } catch {
      // gone: nothing to remove there
    }
    return null;
  }
  let real = cache.get(parent);
  if (real === undefined) {
    try {
      real = fs.realpathSync.native(parent);
    } catch {
      real = null; // the folder is gone: nothing there to remove
    }
    cache.set(parent, real);
  }
  return real !== null && real !== entry.target_dir_real ? `the folder ${parent} now leads to ${real}, not where the link was made: not followed` : null;
}

/** Removes the link of `entry` when it is provably ours; never anything else. Does not touch the registry. */
export function removeLinkIfOurs(entry: LinkEntry, libraryRoot: string, dirCache?: Map<string, string | null>): RemovalOutcome {
  const base = { target: entry.target, modelId: entry.model_id };
  const appDir = appDirOf(entry);
  if (!path.isAbsolute(entry.target) || (appDir !== null && !isInside(appDir, entry.target))) {
    return { ...base, outcome: "kept", status: "foreign", reason: `outside the app folder ${appDir ?? "?"} it was made for: not touched` };
  }
  // A hard link or copy is proven ours by its source's inode or content: only a source in the library proves
  // anything. A damaged or hand-edited entry naming another file as the source would have any file with the same
  // content (the user's own copy of it) deleted.
  if (entry.link_type !== "symlink" && fs.existsSync(entry.source) && !inLibrary(libraryRoot, entry.source)) {
    return { ...base, outcome: "kept", status: "foreign", reason: `its source ${entry.source} is not in the library ${libraryRoot}: not ours, not touched` };
  }
  const moved = parentMoved(entry, dirCache);
  if (moved) return { ...base, outcome: "kept", status: "foreign", reason: moved };
  // Leftovers of an interrupted apply carry our temp names: removed when the entry says they are ours.
  if (entry.pending && typeof entry.partial === "string" && isTempNameOf(entry.partial, entry.target)) {
    fs.rmSync(entry.partial, { force: true });
  }
  const seen = inspectLink(entry);
  if (seen.status === "missing") return { ...base, outcome: "gone", status: "missing", reason: null };
  let ours = seen.status === "healthy" || seen.status === "broken";
  let reason: string | null = seen.detail;
  const st = seen.stat as fs.Stats;
  if (entry.pending) {
    // Made by an apply that was killed before recording how: prove it by any method.
    ours = provenPending(entry, st);
    reason = ours ? null : "an interrupted apply recorded this name, but what is there is not ours";
  } else if (ours && entry.link_type !== "symlink" && !fs.existsSync(entry.source)) {
    // A hard link or copy whose library file is gone holds the only copy of the bytes (and the original's
    // entries, with no inode recorded, cannot even prove it ours): left for the user, as repair leaves it.
    ours = false;
    reason = `its source ${entry.source} is gone: this file holds the only copy of the data; left for you`;
  } else if (ours && entry.link_type === "copy" && entry.target_inode === undefined) {
    ours = provenCopy(entry.target, entry.source);
    if (!ours) reason = "a copy recorded by the original whose content no longer matches its source";
  }
  if (!ours) return { ...base, outcome: "kept", status: seen.status, reason };
  // Re-check right before removing that it is the very file we judged (not a folder, not swapped meanwhile).
  const now = fs.lstatSync(entry.target);
  if (now.ino !== st.ino || now.isDirectory()) return { ...base, outcome: "kept", status: "changed", reason: "changed while removing" };
  fs.unlinkSync(entry.target);
  return { ...base, outcome: "removed", status: seen.status, reason: null };
}

/** Whether what sits at a pending entry's target is the link the interrupted apply made (by any method). */
export function provenPending(entry: LinkEntry, st: fs.Stats): boolean {
  if (st.isSymbolicLink()) {
    const text = fs.readlinkSync(entry.target);
    const old = entry.replacing as { source?: string } | undefined;
    return text === entry.source || (old?.source !== undefined && text === old.source);
  }
  if (!st.isFile()) return false;
  try {
    const src = fs.statSync(entry.source);
    if (src.ino === st.ino && src.dev === st.dev) return true;
    if (src.size !== st.size) return false;
  } catch {
    return false;
  }
  return provenCopy(entry.target, entry.source);
}

/** Whether an existing file is in the library: by its path, or both resolved (the library reached through a symlink). */
export function inLibrary(root: string, p: string): boolean {
  if (isInside(root, p)) return true;
  try {
    return isInside(fs.realpathSync.native(root), fs.realpathSync.native(p));
  } catch {
    return false;
  }
}
