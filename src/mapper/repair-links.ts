// `mlib links repair`: brings the registry and the disk back into agreement.
//   healthy            kept (an entry left pending by a killed apply is completed: inode, size recorded)
//   broken, ours       re-made from the model's current file when the model still has it; a dangling symlink
//                      of ours whose model is gone is removed; a hardlink/copy whose source is gone is kept
//                      on disk (it holds data) and forgotten
//   pending, not ours  forgotten; the interrupted apply's temp files (`.name.mlib-partial/-new`) removed
//   missing            forgotten (the user removed it)
//   changed / foreign  forgotten, left on disk: it is not ours any more
//   unreadable         (cannot be looked at: a disk not mounted, a folder we may not read) kept and reported as an
//                      error: a disk unplugged for now must not lose its links. Forgotten only when the caller asks
//                      (`forgetUnreadable`: the disk is gone for good), never touched on disk either way.
import * as fs from "node:fs";
import * as path from "node:path";
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import { inspectLink, lstatOrNull, type LinkInspection, type LinkStatus } from "./inspect-link.js";
import { isAsideNameOf, isTempNameOf, makeLinkAt, stagedPathOf } from "./link-file.js";
import { filterEntries, type LinkFilter } from "./list-links.js";
import { isInside } from "./plan.js";
import { inLibrary, parentMoved, provenPending, removeLinkIfOurs } from "./remove-link.js";
import { withRegistry, type LinkEntry, type LinkRegistry } from "./registry.js";

export interface RepairAction {
  target: string;
  modelId: string;
  was: LinkStatus;
  /** recorded: a pending entry completed; remade; removed: a dangling link of ours deleted; forgotten: entry dropped, disk untouched. */
  action: "recorded" | "remade" | "removed" | "forgotten";
  detail: string | null;
}

export interface RepairParams extends LinkFilter {
  /**
   * Forget the links (of the filter) that cannot be looked at, e.g. on a disk gone for good. Off by default: a
   * disk unplugged for now must keep its links, known again once it is back.
   */
  forgetUnreadable?: boolean;
}

export interface RepairResult {
  actions: RepairAction[];
  healthy: number;
  /** `unreadable`: the link could not be looked at (kept; `forgetUnreadable` forgets such links). */
  errors: { target: string; message: string; unreadable?: true }[];
}

export async function repairLinks(library: ModelLibrary, params: RepairParams = {}, options: OperationOptions = {}): Promise<RepairResult> {
  return withRegistry(library.root, (reg) => {
    const result: RepairResult = { actions: [], healthy: 0, errors: [] };
    const entries = filterEntries(reg, params);
    for (let i = 0; i < entries.length; i++) {
      if (i % 512 === 0) throwIfAborted(options.signal, "links repair");
      try {
        repairOne(library, reg, entries[i], result, Boolean(params.forgetUnreadable));
      } catch (e) {
        if (e instanceof UnreadableLink) {
          result.errors.push({ target: entries[i].target, message: e.message, unreadable: true });
          continue;
        }
        result.errors.push({ target: entries[i].target, message: (e as Error).message });
      }
    }
    return result;
  });
}

function clearTemps(entry: LinkEntry): void {
  for (const p of [entry.partial, stagedPathOf(entry.target)]) {
    if (typeof p === "string" && isTempNameOf(p, entry.target)) fs.rmSync(p, { force: true });
  }
}

/**
 * An overwrite killed after moving the user's file aside and before linking: the file is put back at its name
 * (never over anything: only while the name is free). Returns what was done, or null.
 */
function putBackAside(entry: LinkEntry): string | null {
  const aside = entry.replaced;
  if (typeof aside !== "string" || !isAsideNameOf(aside, entry.target) || !lstatOrNull(aside)) return null;
  if (lstatOrNull(entry.target)) return null;
  fs.renameSync(aside, entry.target);
  return `; your file moved aside by it (${aside}) was put back at its name`;
}

function statFields(entry: LinkEntry, st: fs.Stats): Partial<LinkEntry> {
  const src = fs.statSync(entry.source);
  const fields: Partial<LinkEntry> = {
    source_inode: src.ino,
    source_device: src.dev,
    ...(src.isDirectory() ? {} : { source_size: src.size }),
    target_dir_real: fs.realpathSync.native(path.dirname(entry.target)),
    target_dir_device: fs.statSync(path.dirname(entry.target)).dev,
  };
  if (st.isSymbolicLink()) return { ...fields, link_type: "symlink" };
  if (st.ino === src.ino && st.dev === src.dev) return { ...fields, link_type: "hardlink", target_inode: st.ino, target_device: st.dev, target_size: st.size };
  return { ...fields, link_type: "copy", target_inode: st.ino, target_device: st.dev, target_size: st.size, target_mtime_ms: st.mtimeMs };
}

function withoutPending(entry: LinkEntry): LinkEntry {
  const { pending: _p, partial: _pa, replacing: _r, ...rest } = entry;
  return rest as LinkEntry;
}

/** A link that cannot be looked at (inspectLink threw): not judged, kept unless the caller said to forget it. */
class UnreadableLink extends Error {}

function repairOne(library: ModelLibrary, reg: LinkRegistry, entry: LinkEntry, result: RepairResult, forgetUnreadable: boolean): void {
  const act = (was: LinkStatus, action: RepairAction["action"], detail: string | null) => result.actions.push({ target: entry.target, modelId: entry.model_id, was, action, detail });
  let seen: LinkInspection;
  try {
    seen = inspectLink(entry);
  } catch (e) {
    const why = (e as Error).message;
    if (!forgetUnreadable) throw new UnreadableLink(why);
    reg.unregister(entry.target);
    act("unreadable", "forgotten", `${why}; forgotten as asked (nothing on disk touched)`);
    return;
  }
  if (entry.pending) {
    clearTemps(entry);
    if (seen.status !== "missing" && seen.stat && provenPending(entry, seen.stat)) {
      const st = seen.stat;
      if (st.isSymbolicLink() && fs.readlinkSync(entry.target) !== entry.source) {
        // The old link a killed replacement did not get to replace: ours, and still broken.
        const old = entry.replacing as { source: string; link_type: LinkEntry["link_type"]; model_id: string };
        const restored = { ...withoutPending(entry), source: old.source, link_type: old.link_type, model_id: old.model_id };
        reg.register(restored);
        return repairOne(library, reg, restored, result, forgetUnreadable);
      }
      reg.register({ ...withoutPending(entry), ...statFields(entry, st) });
      act("broken", "recorded", "made by an interrupted apply; now recorded");
      return;
    }
    reg.unregister(entry.target);
    const back = seen.status === "missing" ? putBackAside(entry) : null;
    const aside = typeof entry.replaced === "string" && back === null && lstatOrNull(entry.replaced) ? `; your file moved aside by it is at ${entry.replaced}` : "";
    act(seen.status, "forgotten", (seen.status === "missing" ? "never made (the apply stopped first)" : "what is there is not ours; left as it is") + (back ?? aside));
    return;
  }
  switch (seen.status) {
    case "healthy":
      result.healthy++;
      return;
    case "missing":
      reg.unregister(entry.target);
      act("missing", "forgotten", "removed from the app folder");
      return;
    case "changed":
    case "foreign":
      reg.unregister(entry.target);
      act(seen.status, "forgotten", `${seen.detail}; left as it is`);
      return;
    case "broken":
      return repairBroken(library, reg, entry, act);
  }
}

/** The model's current file for an entry's source (the model may have been re-imported), or null. */
function currentSource(library: ModelLibrary, entry: LinkEntry): string | null {
  // Only a source in the library: a damaged or hand-edited entry naming any other file would have it linked
  // into the app folder in place of what is there.
  if (fs.existsSync(entry.source) && inLibrary(library.root, entry.source)) return entry.source;
  let dir: string;
  try {
    dir = library.modelDir(entry.model_id);
  } catch {
    return null;
  }
  if (!isInside(library.root, entry.source) && !path.isAbsolute(entry.source)) return null;
  // The source's path inside its model folder, re-rooted at the model's folder in this library.
  const rel = isInside(dir, entry.source) ? path.relative(dir, entry.source) : null;
  if (rel === null) return null;
  const p = path.join(dir, rel);
  return fs.existsSync(p) ? p : null;
}

function repairBroken(library: ModelLibrary, reg: LinkRegistry, entry: LinkEntry, act: (was: LinkStatus, action: RepairAction["action"], detail: string | null) => void): void {
  const source = currentSource(library, entry);
  const appDir = typeof entry.app_root === "string" ? path.dirname(entry.app_root) : null;
  if (appDir !== null && !isInside(appDir, entry.target)) {
    reg.unregister(entry.target);
    act("broken", "forgotten", `outside the app folder ${appDir}: not touched`);
    return;
  }
  const moved = parentMoved(entry);
  if (moved) {
    reg.unregister(entry.target);
    act("broken", "forgotten", moved);
    return;
  }
  if (source) {
    // Re-make it the way it was made, at a staged name, renamed over our broken one.
    const st = fs.lstatSync(entry.target);
    const staged = stagedPathOf(entry.target);
    fs.rmSync(staged, { force: true });
    const choice = entry.link_type === "hardlink" ? "hardlink" : entry.link_type === "copy" ? (entry.clone ? "reflink" : "copy") : "symlink";
    const made = makeLinkAt(source, staged, choice, fs.statSync(source).isDirectory());
    if (fs.lstatSync(entry.target).ino !== st.ino) {
      fs.rmSync(staged, { force: true });
      throw new Error(`${entry.target}: changed while repairing; left as it is`);
    }
    fs.renameSync(staged, entry.target);
    const src = fs.statSync(source);
    reg.register({ ...entry, ...made.fields, source, source_inode: src.ino, source_device: src.dev, ...(src.isDirectory() ? {} : { source_size: src.size }), repointed_from: undefined });
    act("broken", "remade", `now links ${source}`);
    return;
  }
  if (entry.link_type === "symlink") {
    const r = removeLinkIfOurs(entry, library.root);
    reg.unregister(entry.target);
    act("broken", r.outcome === "removed" ? "removed" : "forgotten", r.outcome === "removed" ? "its model is gone: the dangling link of ours was removed" : r.reason);
    return;
  }
  reg.unregister(entry.target);
  act("broken", "forgotten", `its source is gone; the ${entry.link_type === "hardlink" ? "hard link" : "copy"} still holds the data and is left for you`);
}
