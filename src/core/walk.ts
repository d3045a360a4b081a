// The one directory walker. Every walk of the project lists a folder the same way: entries sorted by name,
// hidden names (".…") left out unless the caller says otherwise, a bounded depth, symlinks not followed (unless
// the caller's followLink vouches for one: a Hugging Face snapshot's links into its blobs/), and a folder that
// cannot be listed either an E_IO error naming it, skipped, or (onUnreadable) reported and skipped.
// Two shapes: walkFolders visits folders (the caller decides at each whether to go deeper: a model folder is
// not looked into), listFiles lists regular files (a folder's files and sub-folders interleaved by name).
// walkFoldersSync is walkFolders without an await per folder, for walks of very many small folders.
import { readdirSync, type Dirent, type Stats } from "node:fs";
import { readdir } from "node:fs/promises";
import { join, sep } from "node:path";
import { ModelLibraryError, ioError, throwIfAborted } from "./errors.js";

export interface WalkOptions {
  /** The deepest folder level visited or listed (the root is 0). Default: no limit. */
  maxDepth?: number;
  /** Entries left out (default: hidden names, starting with "."). */
  skip?: (entry: Dirent) => boolean;
  /** A folder that cannot be listed: "throw" (default: E_IO naming it) or "skip" (as if empty). */
  unreadable?: "throw" | "skip";
  /**
   * A sub-folder (not the root) that cannot be listed is given here, with the E_IO naming it, and the walk goes on
   * without it: the caller reports it (an unreadable lost+found is one failed item, not a failed walk).
   */
  onUnreadable?: (abs: string, error: ModelLibraryError) => void;
  /** Checked at every folder: a walk of a big tree stops with E_CANCELLED. */
  signal?: AbortSignal;
  /**
   * walkFolders: asked before a sub-folder is listed (false: neither listed nor visited), with its `/`-separated
   * path from the root. For a check cheaper than a listing: a model folder known by one stat of its metadata.json
   * (the store's walks record the model here and only enter the containers).
   */
  enter?: (abs: string, entry: Dirent, rel: string) => boolean;
}

export interface Folder {
  abs: string;
  /** `/`-separated path from the root ("" for the root itself). */
  rel: string;
  depth: number;
  /** The folder's entries, sorted by name, without the skipped ones. */
  entries: Dirent[];
}

export interface WalkedFile {
  abs: string;
  /** `/`-separated path from the root. */
  rel: string;
  /** For a symlink followLink accepted: the stat of the file it points at. */
  target?: Stats;
}

export interface ListFilesOptions extends WalkOptions {
  /** Past this many files, the error it makes is thrown (a walk that is not a model). */
  maxFiles?: { count: number; error: () => ModelLibraryError };
  /**
   * Asked for each symlink: the stat of the regular file it may be followed to, or null to leave it out (the
   * default: every link left out). A folder behind a link is never entered.
   */
  followLink?: (abs: string) => Promise<Stats | null> | Stats | null;
}

const isHidden = (e: Dirent) => e.name.startsWith(".");

/** The folder's entries, or null when it is an unreadable sub-folder given to onUnreadable. */
async function entriesOf(abs: string, depth: number, options: WalkOptions): Promise<Dirent[] | null> {
  throwIfAborted(options.signal, "walk");
  try {
    return keptSorted(await readdir(abs, { withFileTypes: true }), options);
  } catch (e) {
    return unreadable(abs, depth, options, e);
  }
}

/** entriesOf, synchronously. */
function entriesOfSync(abs: string, depth: number, options: WalkOptions): Dirent[] | null {
  throwIfAborted(options.signal, "walk");
  try {
    return keptSorted(readdirSync(abs, { withFileTypes: true }), options);
  } catch (e) {
    return unreadable(abs, depth, options, e);
  }
}

function keptSorted(entries: Dirent[], options: WalkOptions): Dirent[] {
  const skip = options.skip ?? isHidden;
  return entries.filter((e) => !skip(e)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

/** What a folder that could not be listed gives: [] (skip), null (reported to onUnreadable), or the E_IO thrown. */
function unreadable(abs: string, depth: number, options: WalkOptions, e: unknown): [] | null {
  if (options.unreadable === "skip") return [];
  const error = ioError(abs, "list", e);
  if (depth > 0 && options.onUnreadable) {
    options.onUnreadable(abs, error);
    return null;
  }
  throw error;
}

/** A child's absolute path: plain concatenation (path.join's normalization, 100k times, shows in a walk). */
function childOf(abs: string, name: string): string {
  return abs.endsWith(sep) ? abs + name : abs + sep + name;
}

/**
 * Visits `root`, then depth-first in name order each sub-folder, down to maxDepth. `visit` returns false to
 * not look inside the folder it was given (its sub-folders are then not visited).
 */
export async function walkFolders(
  root: string,
  visit: (folder: Folder) => Promise<boolean | void> | boolean | void,
  options: WalkOptions = {},
): Promise<void> {
  const maxDepth = options.maxDepth ?? Infinity;
  const go = async (abs: string, rel: string, depth: number): Promise<void> => {
    const entries = await entriesOf(abs, depth, options);
    if (entries === null) return;
    if ((await visit({ abs, rel, depth, entries })) === false || depth >= maxDepth) return;
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const child = childOf(abs, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (options.enter && !options.enter(child, e, childRel)) continue;
      await go(child, childRel, depth + 1);
    }
  };
  await go(join(root), "", 0); // (normalized once: children are concatenated to it)
}

/**
 * walkFolders without an await per folder: the same order, options and visit contract. For walks of very many
 * small folders (adopt over 100k model folders), where async listings left the thread idle most of the time.
 * The signal is checked at every folder, but nothing can abort it while it runs: keep such walks short.
 */
export function walkFoldersSync(root: string, visit: (folder: Folder) => boolean | void, options: WalkOptions = {}): void {
  const maxDepth = options.maxDepth ?? Infinity;
  const go = (abs: string, rel: string, depth: number): void => {
    const entries = entriesOfSync(abs, depth, options);
    if (entries === null) return;
    if (visit({ abs, rel, depth, entries }) === false || depth >= maxDepth) return;
    for (const e of entries) {
      if (!e.isDirectory()) continue;
      const child = childOf(abs, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (options.enter && !options.enter(child, e, childRel)) continue;
      go(child, childRel, depth + 1);
    }
  };
  go(join(root), "", 0);
}

/**
 * Every regular file under `root` (symlinks, unless followLink takes them, and other kinds left out), in name
 * order with each sub-folder's files at the sub-folder's place.
 */
export async function listFiles(root: string, options: ListFilesOptions = {}): Promise<WalkedFile[]> {
  const maxDepth = options.maxDepth ?? Infinity;
  const out: WalkedFile[] = [];
  const go = async (abs: string, rel: string, depth: number): Promise<void> => {
    for (const e of (await entriesOf(abs, depth, options)) ?? []) {
      const childAbs = join(abs, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) {
        if (depth < maxDepth) await go(childAbs, childRel, depth + 1);
        continue;
      }
      const target = e.isSymbolicLink() && options.followLink ? await options.followLink(childAbs) : null;
      if (!e.isFile() && !target?.isFile()) continue;
      if (options.maxFiles && out.length >= options.maxFiles.count) throw options.maxFiles.error();
      out.push(target ? { abs: childAbs, rel: childRel, target } : { abs: childAbs, rel: childRel });
    }
  };
  await go(root, "", 0);
  return out;
}
