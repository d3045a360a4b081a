// What to do at each planned target, judged with lstat and the registry (never by following a link):
//   create    nothing there
//   exists    already the link we want (ours, or an identical one the user made): left alone
//   replace   a link of ours that broke (dangling, or its library file was replaced): re-made
//   conflict  anything else: a user's file or folder, a link we did not make (dangling or not), another
//             model's link of ours, a leftover of an interrupted apply — with the reason
import * as fs from "node:fs";
import * as path from "node:path";
import { inspectLink, UnreachableLinkError } from "./inspect-link.js";
import type { ItemAction, MappingPlan, PlannedItem, PlannedUnit } from "./plan.js";
import type { LinkRegistry } from "./registry.js";

export type { ItemAction };

export interface ClassifiedItem extends PlannedItem {
  /** A conflict with one of our own links (another model's): never moved aside by --on-conflict overwrite. */
  ours?: boolean;
  /** lstat identity of what was seen, to make sure it is the same thing when it is replaced. */
  seenIno?: number;
  /** A link of ours that cannot be looked at (its disk not mounted?): no policy makes anything there. */
  unreachable?: boolean;
}

export interface ClassifiedUnit extends PlannedUnit {
  items: ClassifiedItem[];
}

function describe(st: fs.Stats): string {
  if (st.isDirectory()) return "a folder is there";
  if (st.isFile()) return `a regular file (${st.size} bytes) is there`;
  return "a special file is there";
}

/**
 * Names in each target folder, read once per folder (one readdir for a folder of thousands of links instead
 * of an lstat per name); null when the folder does not exist. A name absent here and from the registry is a
 * create without any further call; a file that appears meanwhile still makes the link fail (never replaced).
 */
export class FolderNames {
  private readonly names = new Map<string, Set<string> | null | "unreadable">();

  /** false when the name is surely absent; true when it may exist (then lstat decides). */
  mayExist(target: string): boolean {
    const slash = target.lastIndexOf("/");
    const dir = slash > 0 ? target.slice(0, slash) : path.dirname(target);
    let set = this.names.get(dir);
    if (set === undefined) {
      try {
        set = new Set(fs.readdirSync(dir));
      } catch (e) {
        set = (e as NodeJS.ErrnoException).code === "ENOENT" ? null : "unreadable";
      }
      this.names.set(dir, set);
    }
    if (set === null) return false;
    return set === "unreadable" || set.has(target.slice(slash + 1));
  }
}

/** Folders where links of ours cannot be looked at now (a disk not mounted?), and why: nothing new is made below them. */
type Unreachable = Map<string, string>;

/** The item with its verdict, set on the item itself (a new object per item cost more than the rest of classifying). */
function verdict(item: PlannedItem, action: ItemAction, reason: string | null, ours?: boolean, seenIno?: number): ClassifiedItem {
  const c: ClassifiedItem = item;
  c.action = action;
  c.reason = reason;
  if (ours) c.ours = true;
  if (seenIno !== undefined) c.seenIno = seenIno;
  return c;
}

export function classifyItem(item: PlannedItem, modelId: string, reg: LinkRegistry, claimedBy: Map<string, string>, folders?: FolderNames, unreachable?: Unreachable): ClassifiedItem {
  const other = claimedBy.get(item.target);
  if (other !== undefined && other !== modelId) return verdict(item, "conflict", `model ${other} maps to the same name`, true);
  claimedBy.set(item.target, modelId);
  const known = reg.get(item.target);
  if (!known && folders && !folders.mayExist(item.target)) return verdict(item, "create", null);
  let st: fs.Stats | null = null;
  try {
    st = fs.lstatSync(item.target);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOTDIR") return verdict(item, "conflict", `a file sits where the folder ${path.dirname(item.target)} should be`);
    if (code !== "ENOENT") return verdict(item, "conflict", `cannot look at it (${code})`);
  }
  const entry = known;
  if (!st && entry) {
    // Ours and not there: removed by the user, or on a disk that is not mounted (inspectLink throws): made again
    // now, it would land in the empty mount point, hidden once the disk is back, and its entry re-pointed there.
    try {
      inspectLink(entry);
    } catch (e) {
      if (e instanceof UnreachableLinkError && unreachable && !unreachable.has(e.folder)) unreachable.set(e.folder, e.message);
      const c = verdict(item, "conflict", (e as Error).message);
      c.unreachable = true;
      return c;
    }
  }
  if (!st) return verdict(item, "create", entry ? "re-made (it was removed)" : null);
  if (entry) {
    const seen = inspectLink(entry);
    const same = entry.model_id === modelId && entry.source === item.source;
    if (entry.pending) {
      if (seen.status === "healthy" && same) return verdict(item, "exists", "made by an interrupted apply (links repair records it)");
      return verdict(item, "conflict", "left by an interrupted apply: run `mlib links repair` first", true);
    }
    if (seen.status === "healthy") {
      if (same) return verdict(item, "exists", null);
      return verdict(item, "conflict", `already linked for model ${entry.model_id}`, true);
    }
    if (seen.status === "broken") return verdict(item, "replace", `our link is broken: ${seen.detail}`, false, st.ino);
    return verdict(item, "conflict", `${seen.detail} (we once linked ${entry.model_id} here)`);
  }
  if (st.isSymbolicLink()) {
    const text = fs.readlinkSync(item.target);
    if (text === item.source) return verdict(item, "exists", "the same link is already there (not made by mlib; left as the user's)");
    let dangling = false;
    try {
      fs.statSync(item.target);
    } catch {
      dangling = true;
    }
    return verdict(item, "conflict", dangling ? `a dangling link we did not make (to ${text})` : `a link we did not make (to ${text})`);
  }
  if (st.isFile() && !item.isDir) {
    try {
      const src = fs.statSync(item.source);
      if (src.ino === st.ino && src.dev === st.dev) return verdict(item, "exists", "the same file is already there (a hard link not made by mlib; left as the user's)");
    } catch {
      // source unreadable: a plain conflict
    }
  }
  return verdict(item, "conflict", describe(st));
}

/** Classifies the plan's items in place and returns its units (the same objects) as classified. */
export function classifyPlan(plan: MappingPlan, reg: LinkRegistry): ClassifiedUnit[] {
  const claimedBy = new Map<string, string>();
  const folders = new FolderNames();
  const unreachable: Unreachable = new Map();
  for (const u of plan.units) for (const i of u.items) classifyItem(i, u.modelId, reg, claimedBy, folders, unreachable);
  if (unreachable.size > 0) {
    // A new link below such a folder would land on the disk under the mount point, hidden once the disk is back.
    for (const u of plan.units) {
      for (const i of u.items) {
        if (i.action !== "create") continue;
        for (const [dir, why] of unreachable) {
          if (!i.target.startsWith(dir + path.sep)) continue;
          const c = verdict(i, "conflict", `not made: links of ours below ${dir} cannot be looked at now (${why})`);
          c.unreachable = true;
          break;
        }
      }
    }
  }
  return plan.units;
}
