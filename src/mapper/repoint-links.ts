// After a merge moved models out of another library (SRC) into this one: the links SRC's registry records for
// those models are re-pointed at the models' new place, and their entries move into this library's registry.
//   symlink   ours (its text is the recorded SRC path): a new symlink to the new path is made at a temp name
//             and renamed over it (atomic: the app never sees the name missing); one already pointing at the
//             new path (a re-run after a kill) is just recorded
//   hardlink  the same inode as the new file (a rename moved it): only the entry moves; a different inode (a
//             verified duplicate, or a copy across filesystems) while still ours (recorded inode and size): a
//             hard link to the new file replaces it the same way, or, where that cannot be (another filesystem),
//             it is kept and recorded as a copy (its bytes were verified identical by the merge)
//   copy      a file of its own: only the entry moves
// Anything that is not ours any more (a user's file where our symlink was, a re-pointed link, a hard link whose
// inode changed), or that lies outside its app folder, is never touched: its entry moves as it is, so this
// library's `links check` reports it and `links repair` forgets it, as for any link. Entries of models that
// stayed in SRC stay in SRC's registry; so does an entry an interrupted apply left pending in SRC (reported).
//
// Idempotent: what is left to do is read from the disk (the link's text or inode) and the registries, so a kill
// at any point and a re-run finish it; the merge keeps its journal until this has run (MergeParams.beforeFinish).
import * as fs from "node:fs";
import * as path from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { withLock } from "../core/lock.js";
import type { ModelLibrary } from "../store/model-library.js";
import { readMetadataText } from "../store/record.js";
import type { OperationOptions } from "../operations/types.js";
import { inspectLink, lstatOrNull } from "./inspect-link.js";
import { stagedPathOf } from "./link-file.js";
import { isInside } from "./plan.js";
import { isSafeRelativePath } from "../formats/naming.js";
import { parentMoved } from "./remove-link.js";
import { journalPath } from "./link-journal.js";
import { LinkRegistry, REGISTRY_LOCK, registryPath, type LinkEntry } from "./registry.js";

export interface LinkMove {
  /** The model's folder relative to the source library (its id there). */
  fromId: string;
  /** Its id in this library. */
  toId: string;
  /** Its folder in this library. */
  toDir: string;
  /**
   * The source model's files (names, SHA-256, sizes): given for a duplicate, whose file names may differ from the
   * library model's; a file is then found by content in `toDir`'s metadata.json.
   */
  files?: { name: string; sha256: string | null; size: number }[];
}

export interface RepointParams {
  /** The library the models were moved out of. */
  sourceRoot: string;
  moves: LinkMove[];
}

export type RepointAction =
  /** A symlink re-made to the new path, or a hard link re-made to the new file. */
  | "repointed"
  /** Only the entry moved: the link stays valid as it is (a hard link or copy), or was already re-pointed. */
  | "moved"
  /** A hard link that could not be re-made (another filesystem): kept, now recorded as a copy. */
  | "kept-as-copy"
  /** Not ours any more (or gone, or outside its app folder): left on disk as it is; the entry moved. */
  | "untouched"
  /** Stays in SRC's registry (pending, or its file is not found in the moved model). */
  | "left";

export interface RepointedLink {
  target: string;
  fromModelId: string;
  modelId: string;
  linkType: LinkEntry["link_type"];
  action: RepointAction;
  detail: string | null;
}

export interface RepointResult {
  links: RepointedLink[];
  counts: Record<RepointAction, number>;
  errors: { target: string; message: string }[];
}

function emptyResult(): RepointResult {
  return { links: [], counts: { repointed: 0, moved: 0, "kept-as-copy": 0, untouched: 0, left: 0 }, errors: [] };
}

export async function repointLinks(library: ModelLibrary, params: RepointParams, options: OperationOptions = {}): Promise<RepointResult> {
  const result = emptyResult();
  const sourceRoot = path.resolve(params.sourceRoot);
  // No registry in SRC: nothing was linked; nothing is created there.
  if (params.moves.length === 0 || !hasLinks(sourceRoot)) return result;
  const byFolder = foldersOf(params.moves);
  const roots = rootsOf(sourceRoot);
  // Both registries under their locks, always taken in the same order (by path), so two merges never wait on
  // each other in a circle.
  const locks = [path.join(sourceRoot, REGISTRY_LOCK), path.join(library.root, REGISTRY_LOCK)].sort();
  for (const l of locks) fs.mkdirSync(path.dirname(l), { recursive: true });
  const timeoutMs = 10 * 60_000;
  await withLock(locks[0], () =>
    withLock(
      locks[1],
      () => {
        const src = LinkRegistry.load(sourceRoot);
        const dest = LinkRegistry.load(library.root);
        try {
          const entries = src.all();
          for (let i = 0; i < entries.length; i++) {
            if (i % 256 === 0) {
              throwIfAborted(options.signal, "re-pointing links");
              options.onProgress?.({ op: "repoint-links", phase: "repoint", done: i, total: entries.length, unit: "items" });
            }
            const entry = entries[i];
            const found = moveOf(entry, roots, byFolder);
            if (!found) continue; // its model stayed in SRC
            try {
              repointOne(entry, found.move, found.rel, src, dest, result);
            } catch (e) {
              result.errors.push({ target: entry.target, message: (e as Error).message });
            }
          }
        } finally {
          // This library first: a kill between the two saves leaves the entry in both, and a re-run moves it again.
          dest.save();
          src.save();
        }
      },
      { timeoutMs },
    ),
  { timeoutMs });
  return result;
}

/** A registry, or the journal of an apply killed before its first save (its links are read as pending). */
function hasLinks(root: string): boolean {
  return fs.existsSync(registryPath(root)) || fs.existsSync(journalPath(root));
}

function foldersOf<T extends { fromId: string }>(moves: T[]): Map<string, T> {
  return new Map(moves.map((m) => [m.fromId.split(/[\\/]+/).join("/"), m]));
}

/** SRC as given and as it resolves (its registry may record either). */
function rootsOf(sourceRoot: string): string[] {
  const roots = [sourceRoot];
  try {
    const real = fs.realpathSync.native(sourceRoot);
    if (real !== sourceRoot) roots.push(real);
  } catch {
    // SRC gone: its recorded paths are matched as given
  }
  return roots;
}

/**
 * The links SRC's registry records for models in the folders `fromIds` (relative to SRC): what a merge moving
 * them will re-point (its dry run says how many). Reads only; no registry is created.
 */
export function linksInto(sourceRoot: string, fromIds: string[]): LinkEntry[] {
  const root = path.resolve(sourceRoot);
  if (fromIds.length === 0 || !hasLinks(root)) return [];
  const byFolder = foldersOf(fromIds.map((fromId) => ({ fromId, toId: "", toDir: "" })));
  const roots = rootsOf(root);
  return LinkRegistry.load(root).all().filter((e) => moveOf(e, roots, byFolder) !== null);
}

/** The move an entry's source lies in, and the source's path inside the model folder ("" for a folder link). */
function moveOf(entry: LinkEntry, roots: string[], byFolder: Map<string, LinkMove>): { move: LinkMove; rel: string } | null {
  if (!path.isAbsolute(entry.source)) return null;
  for (const root of roots) {
    if (!isInside(root, entry.source)) continue;
    const parts = path.relative(root, entry.source).split(path.sep);
    for (let k = parts.length; k >= 1; k--) {
      const move = byFolder.get(parts.slice(0, k).join("/"));
      if (move) return { move, rel: parts.slice(k).join("/") };
    }
  }
  return null;
}

/** Where the file `rel` of the source model is in the moved model (by content for a duplicate), or null. */
function newSourceOf(move: LinkMove, rel: string): string | null {
  if (rel === "") return move.toDir;
  const want = move.files?.find((f) => f.name === rel);
  if (want?.sha256) {
    try {
      const meta = JSON.parse(readMetadataText(path.join(move.toDir, "metadata.json"))?.text ?? "null") as { files?: { name?: string; sha256?: string | null; size?: number }[] };
      // Only a name inside the folder: an edited or hostile one ("../../x") would re-point the link out of the library.
      const same = meta?.files?.find((f) => typeof f.name === "string" && isSafeRelativePath(f.name) && f.sha256?.toLowerCase() === want.sha256!.toLowerCase() && f.size === want.size);
      if (same?.name) return path.join(move.toDir, ...same.name.split("/"));
    } catch {
      // no readable metadata.json: by name below
    }
  }
  const p = path.join(move.toDir, ...rel.split("/"));
  return fs.existsSync(p) ? p : null;
}


function repointOne(entry: LinkEntry, move: LinkMove, rel: string, src: LinkRegistry, dest: LinkRegistry, result: RepointResult): void {
  const report = (action: RepointAction, detail: string | null, modelId = move.toId) => {
    result.links.push({ target: entry.target, fromModelId: entry.model_id, modelId, linkType: entry.link_type, action, detail });
    result.counts[action]++;
  };
  const newSource = newSourceOf(move, rel);
  if (!newSource) {
    report("left", `its file ${rel} is not in ${move.toDir}`, entry.model_id);
    return;
  }
  const srcSt = fs.statSync(newSource);
  if (entry.pending) {
    // Left by an apply into SRC that was killed: carried over when what is there is provably that link
    // (a symlink with the recorded text, or the moved file's own inode); otherwise left for `links repair` in SRC.
    const proven = provenPendingAfterMove(entry, srcSt);
    if (!proven) {
      report("left", "an apply into the source library stopped before recording this link, and it cannot be proven ours: run `mlib links repair` there", entry.model_id);
      return;
    }
    const { pending: _p, partial: _pa, replacing: _r, ...rest } = entry;
    entry = rest as LinkEntry;
  }
  const sourceFields: Partial<LinkEntry> = { source: newSource, source_inode: srcSt.ino, source_device: srcSt.dev, ...(srcSt.isDirectory() ? {} : { source_size: srcSt.size }) };
  const moveEntry = (fields: Partial<LinkEntry>, action: RepointAction, detail: string | null) => {
    dest.register({ ...entry, ...sourceFields, ...fields, model_id: move.toId, target: entry.target });
    src.unregister(entry.target);
    report(action, detail);
  };

  const appDir = typeof entry.app_root === "string" ? path.dirname(entry.app_root) : null;
  if (!path.isAbsolute(entry.target) || (appDir !== null && !isInside(appDir, entry.target))) {
    moveEntry({}, "untouched", `outside the app folder ${appDir ?? "?"} it was made for: not touched`);
    return;
  }
  const moved = parentMoved(entry);
  if (moved) {
    moveEntry({}, "untouched", moved);
    return;
  }
  const st = lstatOrNull(entry.target);
  if (!st) {
    let unreachable: string | null = null;
    try {
      inspectLink(entry); // throws for a link that cannot be looked at (its disk not mounted)
    } catch (e) {
      unreachable = (e as Error).message;
    }
    if (unreachable === null) moveEntry({}, "untouched", "not in the app folder any more (removed)");
    // Not removed: on a disk that is not mounted, still a symlink to the old place. Recorded as such, so that once
    // the disk is back it is "broken" (ours; links repair re-points it), not "changed" (forgotten, left dangling).
    else if (entry.link_type === "symlink") moveEntry({ repointed_from: entry.source }, "untouched", `${unreachable}; once its disk is back, \`mlib links repair\` re-points it`);
    else moveEntry({}, "untouched", unreachable);
    return;
  }
  if (entry.link_type === "symlink") {
    if (!st.isSymbolicLink()) {
      moveEntry({}, "untouched", "not our symlink any more: left as it is");
      return;
    }
    const text = fs.readlinkSync(entry.target);
    if (text === newSource) {
      moveEntry({}, "moved", "already points at the new place");
      return;
    }
    if (text !== entry.source) {
      moveEntry({}, "untouched", `the symlink now points to ${text}, not ours: left as it is`);
      return;
    }
    replaceAt(entry.target, st, (staged) => fs.symlinkSync(newSource, staged), () => fs.readlinkSync(entry.target) === entry.source);
    moveEntry({}, "repointed", `now links ${newSource}`);
    return;
  }
  if (!st.isFile()) {
    moveEntry({}, "untouched", `not our ${entry.link_type === "hardlink" ? "hard link" : "copy"} any more: left as it is`);
    return;
  }
  if (entry.link_type === "copy") {
    moveEntry({}, "moved", null);
    return;
  }
  // A hard link.
  if (st.ino === srcSt.ino && st.dev === srcSt.dev) {
    moveEntry({ target_inode: st.ino, target_device: st.dev, target_size: st.size }, "moved", null);
    return;
  }
  const ino = entry.target_inode ?? entry.source_inode;
  const size = entry.target_size ?? entry.source_size;
  const ours = ino !== undefined && st.ino === ino && (size === undefined || st.size === size) && st.size === srcSt.size;
  if (!ours) {
    moveEntry({}, "untouched", ino === undefined ? "recorded without an inode: cannot be proven ours, left as it is" : "not the hard link we made any more: left as it is");
    return;
  }
  try {
    replaceAt(entry.target, st, (staged) => fs.linkSync(newSource, staged), () => fs.lstatSync(entry.target).ino === st.ino);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code !== "EXDEV" && code !== "EPERM" && code !== "EMLINK" && code !== "ENOTSUP" && code !== "EOPNOTSUPP") throw e;
    // Another filesystem: the file stays (the same bytes, verified by the merge) and is recorded as the copy it now is.
    moveEntry({ link_type: "copy", target_inode: st.ino, target_device: st.dev, target_size: st.size, target_mtime_ms: st.mtimeMs }, "kept-as-copy", `cannot hard-link ${newSource} there (${code}): kept as a copy`);
    return;
  }
  const now = fs.lstatSync(entry.target);
  moveEntry({ target_inode: now.ino, target_device: now.dev, target_size: now.size }, "repointed", `now a hard link of ${newSource}`);
}

/** Whether a pending entry's target is the link the killed apply made, judged with the model already moved. */
function provenPendingAfterMove(entry: LinkEntry, moved: fs.Stats): boolean {
  if (entry.replacing !== undefined) return false; // a replacement in flight: repair in SRC sorts it out
  const st = lstatOrNull(entry.target);
  if (!st) return false;
  if (st.isSymbolicLink()) return fs.readlinkSync(entry.target) === entry.source;
  return st.isFile() && st.ino === moved.ino && st.dev === moved.dev;
}

/**
 * Replaces our link at `target` by a new one made at the temp name: made, `target` re-checked (the same inode,
 * and `stillOurs`), then renamed over it. Anything that changed meanwhile is left, and the temp name removed.
 */
function replaceAt(target: string, before: fs.Stats, make: (staged: string) => void, stillOurs: () => boolean): void {
  const staged = stagedPathOf(target);
  fs.rmSync(staged, { force: true }); // our temp name, left by a killed run
  make(staged);
  try {
    const now = fs.lstatSync(target);
    if (now.ino !== before.ino || now.dev !== before.dev || !stillOurs()) throw new Error(`${target}: changed while re-pointing; left as it is`);
    fs.renameSync(staged, target);
  } catch (e) {
    fs.rmSync(staged, { force: true });
    throw e;
  }
}
