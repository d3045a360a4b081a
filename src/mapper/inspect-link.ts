// What is at a registered link's target now, and whether it is still the link we made. Everything here is
// read-only and uses lstat: a symlink is judged by itself, never by what it points to.
//
//   healthy  the link we made, and its source is there
//   broken   the link we made, but its source is gone (a dangling symlink of ours), or an apply was killed
//            before it finished this one (pending)
//   changed  the same kind of thing we made, but no longer ours: a symlink re-pointed elsewhere, a hardlink or
//            copy whose inode or size is not the one we recorded
//   foreign  another kind of thing sits there (a real file where our symlink was, a folder...)
//   missing  nothing is there (the user removed it)
//   unreadable  (links check only) it cannot be looked at (EACCES, EIO, ELOOP...): not judged, never touched
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibraryError } from "../core/errors.js";
import { isMounted, mountTable, unmountedMountPoint } from "./mount-points.js";
import type { LinkEntry } from "./registry.js";

export type LinkStatus = "healthy" | "broken" | "changed" | "foreign" | "missing" | "unreadable";

export interface LinkInspection {
  status: LinkStatus;
  /** Why, in words, for anything but healthy. */
  detail: string | null;
  /** lstat of the target (null when missing). */
  stat: fs.Stats | null;
}

/** lstat, null when nothing is there (ENOENT, ENOTDIR); any other error is thrown: a link we cannot inspect is not judged. */
export function lstatOrNull(p: string): fs.Stats | null {
  try {
    return fs.lstatSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
}

function statOrNull(p: string): fs.Stats | null {
  try {
    return fs.statSync(p);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR" || code === "ELOOP") return null;
    throw e;
  }
}

function kindOf(st: fs.Stats): string {
  if (st.isSymbolicLink()) return "a symlink";
  if (st.isDirectory()) return "a folder";
  if (st.isFile()) return "a regular file";
  return "a special file";
}

/** A link that cannot be looked at because `folder`, the nearest folder above it that exists, looks unmounted. */
export class UnreachableLinkError extends ModelLibraryError {
  constructor(message: string, target: string, readonly folder: string) {
    super("E_NOT_FOUND", message, { path: target });
  }
}

/**
 * For a target that is not there: throws when it cannot be told apart from a link on a disk that is not mounted,
 * which is not "missing" (repair and unlink would forget it, and it would be unknown once the disk is back):
 * - the nearest folder above it that exists is a symlink leading nowhere now (the user's folder on another disk);
 * - that folder is on another device than the link's folder was when the link was made (an empty mount point, or
 *   the folder a desktop makes for a disk gone with it);
 * - for entries with no device recorded (the original's): that folder is empty and /etc/fstab mounts a disk there,
 *   or the link's own folder is gone and the folder above it is empty.
 */
function unreachableFolder(target: string, entry: LinkEntry): void {
  const own = path.dirname(target);
  for (let dir = own; path.dirname(dir) !== dir; dir = path.dirname(dir)) {
    const st = lstatOrNull(dir);
    if (!st) continue;
    if (st.isSymbolicLink() && !statOrNull(dir)) {
      throw new UnreachableLinkError(`${dir}: a folder link to ${fs.readlinkSync(dir)}, which leads nowhere now (a disk not mounted?): ${target} cannot be looked at`, target, dir);
    }
    const why = notMounted(dir, dir === own, entry);
    if (why) throw new UnreachableLinkError(`${why}: ${target} cannot be looked at (its disk not mounted?); left alone and kept`, target, dir);
    return;
  }
}

/** Why `dir`, the nearest existing folder above a link that is not there, looks like a disk that is not mounted. */
function notMounted(dir: string, own: boolean, entry: LinkEntry): string | null {
  const st = statOrNull(dir);
  if (!st?.isDirectory()) return null;
  const was = entry.target_dir_device;
  if (typeof was === "number") {
    if (st.dev === was) return null;
    return isMounted(was, mountTable())
      ? `${dir} is on another filesystem (device ${st.dev}) than the link's folder was when it was made (device ${was})`
      : `the filesystem the link was made on (device ${was}) is not mounted now (${dir} is on device ${st.dev})`;
  }
  if (fs.readdirSync(dir).length > 0) return null;
  const configured = unmountedMountPoint(dir, mountTable());
  if (configured) return configured;
  return own ? null : `${path.dirname(entry.target)} is gone and ${dir} above it is empty (where a disk is mounted?)`;
}

export function inspectLink(entry: LinkEntry): LinkInspection {
  const st = lstatOrNull(entry.target);
  if (!st) {
    unreachableFolder(entry.target, entry);
    if (!entry.pending) return { status: "missing", detail: "removed from the app folder", stat: null };
    const aside = typeof entry.replaced === "string" ? `; your file moved aside is at ${entry.replaced} (links repair puts it back)` : "";
    return { status: "missing", detail: `never made (an apply stopped before it)${aside}`, stat: null };
  }
  if (entry.link_type === "symlink") {
    if (!st.isSymbolicLink()) return { status: "foreign", detail: `${kindOf(st)} is there now, not our symlink`, stat: st };
    const text = fs.readlinkSync(entry.target);
    if (text !== entry.source && text === entry.repointed_from) {
      return { status: "broken", detail: `still points at ${text}, where its model was before a merge moved it (links repair re-points it)`, stat: st };
    }
    if (text !== entry.source) return { status: "changed", detail: `the symlink now points to ${text}`, stat: st };
    if (!statOrNull(entry.source)) return { status: "broken", detail: `its source ${entry.source} is gone`, stat: st };
    return { status: "healthy", detail: null, stat: st };
  }
  if (!st.isFile()) return { status: "foreign", detail: `${kindOf(st)} is there now, not our ${entry.link_type === "hardlink" ? "hard link" : "copy"}`, stat: st };
  if (entry.pending) return { status: "broken", detail: "an apply stopped before recording this one (links repair proves it ours or forgets it)", stat: st };
  const src = statOrNull(entry.source);
  if (entry.link_type === "hardlink") {
    const ino = entry.target_inode ?? entry.source_inode;
    const dev = entry.target_device ?? entry.source_device;
    if (ino !== undefined) {
      if (st.ino !== ino || (dev !== undefined && st.dev !== dev)) return { status: "changed", detail: `inode ${st.ino} is not the one we linked (${ino}): another file took its place`, stat: st };
      const size = entry.target_size ?? entry.source_size;
      if (size !== undefined && st.size !== size) return { status: "changed", detail: `size ${st.size} is not the ${size} bytes we linked`, stat: st };
      if (!src) return { status: "broken", detail: `its source ${entry.source} is gone`, stat: st };
      if (src.ino !== st.ino || src.dev !== st.dev) return { status: "broken", detail: `its source ${entry.source} was replaced (no longer the same file)`, stat: st };
      return { status: "healthy", detail: null, stat: st };
    }
    // The original's entry: no inode recorded; ours while it is the same file as the source.
    if (!src) return { status: "broken", detail: `its source ${entry.source} is gone (the original recorded no inode to prove the link)`, stat: st };
    if (src.ino !== st.ino || src.dev !== st.dev) return { status: "changed", detail: "no longer the same file as its source", stat: st };
    return { status: "healthy", detail: null, stat: st };
  }
  // copy (or reflink clone)
  if (entry.target_inode !== undefined) {
    if (st.ino !== entry.target_inode || (entry.target_device !== undefined && st.dev !== entry.target_device)) {
      return { status: "changed", detail: `inode ${st.ino} is not the copy we made (${entry.target_inode})`, stat: st };
    }
    if (entry.target_size !== undefined && st.size !== entry.target_size) return { status: "changed", detail: `size ${st.size} is not the ${entry.target_size} bytes we copied`, stat: st };
    if (entry.target_mtime_ms !== undefined && Math.abs(st.mtimeMs - entry.target_mtime_ms) > 1) return { status: "changed", detail: "modified since we copied it", stat: st };
  } else if (src && src.size !== st.size) {
    return { status: "changed", detail: `size ${st.size} differs from its source's ${src.size}`, stat: st };
  }
  if (!src) return { status: "broken", detail: `its source ${entry.source} is gone`, stat: st };
  return { status: "healthy", detail: null, stat: st };
}
