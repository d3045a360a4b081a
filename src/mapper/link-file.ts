// Making one link: symlink → hardlink (same filesystem) → reflink → copy, or the one method asked for.
// A link is created at its final name by an operation that fails when the name exists (symlink(2), link(2)),
// so a file that appears meanwhile is never overwritten. A copy is written to `.<name>.mlib-partial` first and
// then linked to its name, so a full disk or a kill never leaves a half-copied file under the real name.
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibraryError, ioError } from "../core/errors.js";
import type { LinkChoice, LinkMethod } from "./types.js";
import type { LinkEntry } from "./registry.js";

/** The temp name a copy is written to before it takes `target`'s name. */
export function partialPathOf(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.mlib-partial`);
}

/** The temp name a replacement link is made at before it is renamed over a broken link of ours. */
export function stagedPathOf(target: string): string {
  return path.join(path.dirname(target), `.${path.basename(target)}.mlib-new`);
}

/**
 * Whether `p`, a temp name a journal or registry entry records for `target`, is one of the names an apply uses
 * for it. Only those are removed: a damaged or hand-edited entry naming another file (the user's own, beside
 * the link) would have it deleted.
 */
export function isTempNameOf(p: string, target: string): boolean {
  return p === partialPathOf(target) || p === stagedPathOf(target);
}

/** Whether `p`, where an entry says the user's file at `target` was moved aside, has the name freeAsideName gives. */
export function isAsideNameOf(p: string, target: string): boolean {
  const prefix = `${target}.mlib-replaced-`;
  return p.startsWith(prefix) && !p.slice(prefix.length).includes("/");
}

const SYMLINK_UNSUPPORTED = new Set(["EPERM", "ENOTSUP", "EOPNOTSUPP", "ENOSYS"]);
const HARDLINK_UNSUPPORTED = new Set(["EXDEV", "EPERM", "ENOTSUP", "EOPNOTSUPP", "EMLINK", "ENOSYS"]);
const REFLINK_UNSUPPORTED = new Set(["ENOTSUP", "EOPNOTSUPP", "EXDEV", "EINVAL", "ENOSYS", "EBADF", "ENOTTY"]);

export interface MadeLink {
  method: LinkMethod;
  /** Registry fields describing what was made. */
  fields: Pick<LinkEntry, "link_type"> & Partial<LinkEntry>;
}

function code(e: unknown): string {
  return (e as NodeJS.ErrnoException)?.code ?? "";
}

function existsError(dest: string): ModelLibraryError {
  return new ModelLibraryError("E_EXISTS", `${dest}: something appeared at this name while linking; left as it is`, { path: dest });
}

// The methods a choice tries, in order (constants: a new array per link was garbage for nothing).
const AUTO_FILE: readonly LinkMethod[] = ["symlink", "hardlink", "reflink", "copy"];
const ONE: Readonly<Record<LinkMethod, readonly LinkMethod[]>> = { symlink: ["symlink"], hardlink: ["hardlink"], reflink: ["reflink"], copy: ["copy"] };

/** The methods `choice` tries, in order. */
function methodsFor(choice: LinkChoice, isDir: boolean): readonly LinkMethod[] {
  if (choice !== "auto") return ONE[choice];
  return isDir ? ONE.symlink : AUTO_FILE;
}

/** What makeLinkAt returns for every symlink (shared: callers read it). */
const SYMLINK_MADE: MadeLink = Object.freeze({ method: "symlink", fields: Object.freeze({ link_type: "symlink" as const }) });

/**
 * Makes a link to `source` at `dest` (which must not exist) and returns how. `dest`'s folder must exist.
 * Errors: E_EXISTS when dest appeared, E_UNSUPPORTED when no allowed method works here, E_IO otherwise
 * (ENOSPC, EROFS, EACCES: named with the path), with nothing left at dest or at the temp name.
 */
export function makeLinkAt(source: string, dest: string, choice: LinkChoice, isDir: boolean): MadeLink {
  if (isDir && choice !== "auto" && choice !== "symlink") {
    throw new ModelLibraryError("E_UNSUPPORTED", `${source}: a folder (diffusers) is linked only as a symlink, not as a ${choice}`, { path: source });
  }
  const tried: string[] = [];
  for (const method of methodsFor(choice, isDir)) {
    try {
      if (method === "symlink") {
        fs.symlinkSync(source, dest);
        return SYMLINK_MADE;
      }
      return { method, fields: makeOne(method, source, dest) };
    } catch (e) {
      if (code(e) === "EEXIST") throw existsError(dest);
      const unsupported =
        method === "symlink" ? SYMLINK_UNSUPPORTED : method === "hardlink" ? HARDLINK_UNSUPPORTED : method === "reflink" ? REFLINK_UNSUPPORTED : null;
      if (choice === "auto" && unsupported?.has(code(e))) {
        tried.push(`${method}: ${code(e)}`);
        continue;
      }
      if (e instanceof ModelLibraryError) throw e;
      if (unsupported?.has(code(e))) {
        const why = method === "hardlink" && code(e) === "EXDEV" ? "hard links cannot cross filesystems" : `${method}s are not supported here`;
        throw new ModelLibraryError("E_UNSUPPORTED", `${dest}: cannot make a ${method} to ${source} (${why}, ${code(e)}); try --link auto`, { path: dest, cause: e });
      }
      throw ioError(dest, `make a ${method} to ${source}`, e);
    }
  }
  throw new ModelLibraryError("E_UNSUPPORTED", `${dest}: no way to link ${source} here (${tried.join("; ")})`, { path: dest });
}

/** A hard link, reflink or copy (a symlink is made by makeLinkAt itself). */
function makeOne(method: LinkMethod, source: string, dest: string): MadeLink["fields"] {
  if (method === "hardlink") {
    fs.linkSync(source, dest);
    const st = fs.lstatSync(dest);
    return { link_type: "hardlink", target_inode: st.ino, target_device: st.dev, target_size: st.size };
  }
  const partial = partialPathOf(dest);
  const flags = fs.constants.COPYFILE_EXCL | (method === "reflink" ? fs.constants.COPYFILE_FICLONE_FORCE : 0);
  try {
    fs.copyFileSync(source, partial, flags);
    const fd = fs.openSync(partial, "r+");
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    placeNoReplace(partial, dest);
  } catch (e) {
    // EEXIST on the partial itself is a leftover of a killed apply: say so rather than touch it.
    if (code(e) === "EEXIST" && fs.existsSync(partial) && !fs.existsSync(dest)) {
      throw new ModelLibraryError("E_EXISTS", `${partial}: left by an interrupted apply; run \`mlib links repair\` first`, { path: partial });
    }
    fs.rmSync(partial, { force: true });
    throw e;
  }
  const st = fs.lstatSync(dest);
  return { link_type: "copy", ...(method === "reflink" ? { clone: true } : {}), target_inode: st.ino, target_device: st.dev, target_size: st.size, target_mtime_ms: st.mtimeMs };
}

/** Gives `from` the name `to` without ever replacing an existing `to` (link + unlink; rename where links fail). */
function placeNoReplace(from: string, to: string): void {
  try {
    fs.linkSync(from, to);
    fs.unlinkSync(from);
  } catch (e) {
    if (!HARDLINK_UNSUPPORTED.has(code(e)) || code(e) === "EXDEV") throw e;
    if (fs.existsSync(to)) throw Object.assign(new Error("EEXIST"), { code: "EEXIST" });
    fs.renameSync(from, to);
  }
}

/**
 * Moves a user's file (or folder, or link) at `target` aside to `<name>.mlib-replaced-<date>` (a free name) and
 * returns where it went. Never deletes anything.
 */
export function moveAside(target: string, now = new Date(), planned?: string): string {
  // The name the apply's journal recorded, if it is still free (else the next free one).
  const aside = planned !== undefined && !fs.existsSync(planned) && !isLink(planned) ? planned : freeAsideName(target, now);
  try {
    fs.renameSync(target, aside);
  } catch (e) {
    throw ioError(target, `move aside to ${aside}`, e);
  }
  return aside;
}

/** The first free `<target>.mlib-replaced-<UTC date>[-N]`. */
export function freeAsideName(target: string, now = new Date()): string {
  const stamp = now.toISOString().replace(/[-:]/g, "").replace(/\.\d+Z$/, "Z");
  let aside = `${target}.mlib-replaced-${stamp}`;
  for (let n = 2; fs.existsSync(aside) || isLink(aside); n++) aside = `${target}.mlib-replaced-${stamp}-${n}`;
  return aside;
}

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
