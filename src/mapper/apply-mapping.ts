// `mlib map apply APP --root DIR`: makes the links a preview lists, under the registry lock.
//
// Order, so that a kill -9 at any instant leaves something `links check` + `links repair` set right:
//   1. plan and classify (classify.ts); decide each unit's conflicts by --on-conflict;
//   2. write every link about to be made to the journal (link-journal.ts, fsynced): a killed run's links are
//      read from it as `pending` registry entries by whoever loads the registry next;
//   3. make the links (a copy via `.<name>.mlib-partial`, a replacement via `.<name>.mlib-new` + rename);
//      each made link is recorded (inode, device, size); a unit (all shards of a set) that fails
//      part-way is rolled back: the links just made are removed, a user's file moved aside is put back;
//   4. save the registry (also on error or cancel: what was made is recorded, what was not never was), with
//      the journal's id in the same atomic write; then remove the journal.
// Nothing that is not ours is deleted or overwritten: conflicts are left (skip), linked under a free name
// (rename), or moved aside to `<name>.mlib-replaced-<date>` (overwrite; said in the result).
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibraryError, cancelledError, ioError } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import { checkTarget } from "./app-target.js";
import { classifyItem, classifyPlan, type ClassifiedItem, type ClassifiedUnit } from "./classify.js";
import { environmentNotes } from "./environment.js";
import { newJournalId, writeJournal, type JournalLink } from "./link-journal.js";
import { freeAsideName, makeLinkAt, moveAside, partialPathOf, stagedPathOf } from "./link-file.js";
import { isInside, planMapping, resolvedPath, type PlanExclusion } from "./plan.js";
import { withRegistry, type LinkEntry, type LinkRegistry } from "./registry.js";
import type { AppTarget, ConflictPolicy, LinkChoice, LinkMethod } from "./types.js";

export interface ApplyParams extends AppTarget {
  onConflict?: ConflictPolicy;
  link?: LinkChoice;
}

export interface AppliedLink {
  modelId: string;
  source: string;
  target: string;
  method: LinkMethod;
  /** created: new; replaced: a broken link of ours re-made; renamed: a free name for a conflict; overwrote: the user's file was moved aside. */
  action: "created" | "replaced" | "renamed" | "overwrote";
  /** Where the user's file went (overwrite). */
  movedAside?: string;
}

export interface ApplyConflict {
  modelId: string;
  target: string;
  reason: string;
}

export interface ApplyError {
  modelId: string;
  target: string;
  code: string;
  message: string;
}

export interface ApplyResult {
  app: string;
  appVersion: string | null;
  root: string;
  made: AppliedLink[];
  /** Links already in place. */
  existing: number;
  /** Conflicts left as they are. */
  conflicts: ApplyConflict[];
  errors: ApplyError[];
  excluded: PlanExclusion[];
  notes: string[];
}

interface Step {
  item: ClassifiedItem;
  /** Where the link goes (the renamed target for --on-conflict rename). */
  target: string;
  kind: "create" | "replace" | "overwrite";
  renamed: boolean;
  /** Where the user's file went (overwrite), once moved. */
  aside?: string;
  /** Where it is to go (overwrite), chosen before the journal is written, which records it. */
  plannedAside?: string;
}

/** What every link of one apply shares. */
interface Run {
  choice: LinkChoice;
  reg: LinkRegistry;
  /** Folders made or found, with where each resolves (a user's folder may be a symlink to another disk). */
  madeDirs: Map<string, string>;
  /** The library's real path: no link is made in a folder that leads inside it. */
  libraryReal: string;
  /** The folder of the last link and where it resolves: most links go where the one before went. */
  lastDir: string;
  lastDirReal: string;
  /** That folder's device (recorded: a link whose folder is later on another device is on a disk not mounted). */
  lastDirDev: number;
  dirDevs: Map<string, number>;
  root: string;
  appId: string;
  appVersion: string | null;
  createdAt: string;
  result: ApplyResult;
}

/** `stem_N.ext`; a shard `name-00001-of-00003.gguf` becomes `name_N-00001-of-00003.gguf` so the set stays a set. */
export function renamedTarget(target: string, n: number, isDir: boolean): string {
  const dir = path.dirname(target);
  const base = path.basename(target);
  if (isDir) return path.join(dir, `${base}_${n}`);
  const shard = /^(.*)(-\d{5}-of-\d{5}.*)$/.exec(base);
  if (shard) return path.join(dir, `${shard[1]}_${n}${shard[2]}`);
  const dot = base.lastIndexOf(".");
  return path.join(dir, dot > 0 ? `${base.slice(0, dot)}_${n}${base.slice(dot)}` : `${base}_${n}`);
}

function pendingType(choice: LinkChoice): LinkEntry["link_type"] {
  return choice === "hardlink" ? "hardlink" : choice === "copy" || choice === "reflink" ? "copy" : "symlink";
}

export async function applyMapping(library: ModelLibrary, params: ApplyParams, options: OperationOptions = {}): Promise<ApplyResult> {
  const t = checkTarget(params);
  const policy = params.onConflict ?? "skip";
  const choice = params.link ?? "auto";
  const { signal, onProgress } = options;
  const result: ApplyResult = {
    app: t.profile.app,
    appVersion: t.profile.appVersion,
    root: t.root,
    made: [],
    existing: 0,
    conflicts: [],
    errors: [],
    excluded: [],
    notes: environmentNotes(t.root, library.root).notes,
  };
  return withRegistry(library.root, (reg) => {
    onProgress?.({ op: "map", phase: "plan" });
    const plan = planMapping(library, t.profile, t.root, signal, true);
    result.excluded = plan.excluded;
    const units = classifyPlan(plan, reg);
    // The names each unit takes, for --on-conflict rename's search of a free name (not needed otherwise).
    const claimed = new Map<string, string>();
    if (policy === "rename") for (const u of units) for (const i of u.items) claimed.set(i.target, u.modelId);
    const work: { unit: ClassifiedUnit; steps: Step[] }[] = [];
    for (const unit of units) {
      const steps = decide(unit, policy, reg, claimed, result);
      if (steps && steps.length > 0) work.push({ unit, steps });
    }

    const total = work.reduce((n, w) => n + w.steps.length, 0);
    const run: Run = {
      choice,
      reg,
      madeDirs: new Map(),
      libraryReal: resolvedPath(library.root),
      lastDir: "",
      lastDirReal: "",
      lastDirDev: 0,
      dirDevs: new Map(),
      root: t.root,
      appId: t.profile.app,
      appVersion: t.profile.appVersion,
      createdAt: new Date().toISOString(),
      result,
    };
    // Write-ahead: every link about to be made is in the journal before it exists on disk.
    if (total > 0) writeAhead(library.root, run, work);

    let done = 0;
    // Recorded; the links come next (what was seen free at planning is not re-checked: a name taken meanwhile
    // makes symlink(2)/link(2) fail with EEXIST, and that unit is left and reported).
    onProgress?.({ op: "map", phase: "link", done: 0, total, unit: "items" });
    for (let w = 0; w < work.length; w++) {
      // Cancelled: the links not made are in the journal only, which the final save retires.
      if (signal?.aborted) throw cancelledError("map apply");
      const { unit, steps } = work[w];
      makeUnit(run, unit, steps);
      done += steps.length;
      if (w % 256 === 0) onProgress?.({ op: "map", phase: "link", item: unit.modelId, done, total, unit: "items" });
    }
    onProgress?.({ op: "map", phase: "done", done, total, unit: "items" });
    return result;
  });
}

/** The steps of a unit under the conflict policy, or null when the unit is left (conflicts recorded). */
function decide(unit: ClassifiedUnit, policy: ConflictPolicy, reg: LinkRegistry, claimed: Map<string, string>, result: ApplyResult): Step[] | null {
  if (!unit.items.some((i) => i.action === "conflict")) {
    // The common case, without the arrays of the conflict cases below (10,000 units).
    const steps: Step[] = [];
    for (const i of unit.items) {
      if (i.action === "create") steps.push({ item: i, target: i.target, kind: "create", renamed: false });
      else if (i.action === "replace") steps.push({ item: i, target: i.target, kind: "replace", renamed: false });
      else result.existing++;
    }
    return steps;
  }
  const conflicts = unit.items.filter((i) => i.action === "conflict");
  const leave = (reason?: string) => {
    for (const c of conflicts) result.conflicts.push({ modelId: unit.modelId, target: c.target, reason: reason ? `${c.reason}; ${reason}` : (c.reason ?? "conflict") });
    return null;
  };
  if (policy === "skip") return leave();
  if (conflicts.some((c) => c.unreachable)) return leave("nothing is made there until it can be looked at");
  if (policy === "overwrite") {
    if (conflicts.some((c) => c.ours)) return leave("not moved aside: it is one of our own links (use --on-conflict rename)");
    const steps: Step[] = [];
    for (const i of unit.items) {
      if (i.action === "conflict") steps.push({ item: i, target: i.target, kind: "overwrite", renamed: false });
      else if (i.action === "create") steps.push({ item: i, target: i.target, kind: "create", renamed: false });
      else if (i.action === "replace") steps.push({ item: i, target: i.target, kind: "replace", renamed: false });
      else result.existing++;
    }
    return steps;
  }
  // rename: the whole unit under `_N` names (a shard set keeps one name), the first N where nothing conflicts;
  // a name made by an earlier rename run shows as "exists" and is kept.
  for (let n = 1; n < 1000; n++) {
    const items = unit.items.map((i) =>
      classifyItem({ source: i.source, target: renamedTarget(i.target, n, i.isDir), isDir: i.isDir, size: i.size, action: "create", reason: null }, unit.modelId, reg, new Map()),
    );
    if (items.some((i) => i.action === "conflict" || claimed.has(i.target))) continue;
    for (const i of items) claimed.set(i.target, unit.modelId);
    result.existing += items.filter((i) => i.action === "exists").length;
    return items
      .filter((i) => i.action === "create" || i.action === "replace")
      .map((i) => ({ item: i, target: i.target, kind: i.action === "replace" ? "replace" : "create", renamed: true }) as Step);
  }
  return leave("no free name up to _999");
}

/** Writes the journal of the links `work` makes, and tells the registry to retire it at its final save. */
function writeAhead(libraryRoot: string, run: Run, work: { unit: ClassifiedUnit; steps: Step[] }[]): void {
  // Only a copy (asked for, or auto's last resort) is written to a temp name first.
  const mayCopy = run.choice === "auto" || run.choice === "copy" || run.choice === "reflink";
  const links: JournalLink[] = [];
  for (const { unit, steps } of work) {
    for (const s of steps) {
      const old = s.kind === "replace" ? run.reg.get(s.target) : null;
      const partial = s.kind === "replace" ? stagedPathOf(s.target) : mayCopy ? partialPathOf(s.target) : null;
      const replacing = old ? { source: old.source, link_type: old.link_type, model_id: old.model_id } : null;
      if (s.kind === "overwrite") {
        s.plannedAside = freeAsideName(s.target);
        links.push([s.target, s.item.source, unit.modelId, s.item.isDir ? 1 : 0, partial, replacing, s.plannedAside]);
      } else {
        links.push([s.target, s.item.source, unit.modelId, s.item.isDir ? 1 : 0, partial, replacing]);
      }
    }
  }
  const id = newJournalId();
  const file = writeJournal(libraryRoot, {
    mlib_link_journal: 1,
    id,
    created_at: run.createdAt,
    app_id: run.appId,
    app_version: run.appVersion,
    app_root: run.root,
    link_type: pendingType(run.choice),
    links,
  });
  run.reg.journalStarted(file, id);
}

/**
 * Makes `dir` and its missing parents one level at a time (mkdir's recursive mode reports ENOENT for a
 * read-only filesystem; this way the real cause is named). Stops at an existing folder — at the latest the
 * app folder, which exists — and goes through a folder that is a symlink (a user's folder on another disk).
 */
function ensureDir(dir: string, madeDirs: Map<string, string>): void {
  if (madeDirs.has(dir)) return;
  try {
    fs.mkdirSync(dir);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" && path.dirname(dir) !== dir) {
      ensureDir(path.dirname(dir), madeDirs);
      return ensureDir(dir, madeDirs);
    }
    if (code !== "EEXIST") throw ioError(dir, "create the folder", e);
    if (!fs.statSync(dir).isDirectory()) throw new ModelLibraryError("E_EXISTS", `${dir}: a file is there, not a folder; left as it is`, { path: dir });
  }
  // Where it leads (a user's folder may be a symlink to another disk): recorded so removal follows only that.
  madeDirs.set(dir, fs.realpathSync.native(dir));
}

/** Makes (or finds) the folder of `target` and returns where it resolves; the previous link's folder without a lookup. */
function targetFolder(run: Run, target: string): string {
  const slash = target.lastIndexOf("/");
  if (slash === run.lastDir.length && run.lastDir !== "" && target.startsWith(run.lastDir)) return run.lastDirReal;
  const dir = dirOf(target);
  if (!run.madeDirs.has(dir)) {
    // A sub-folder the user symlinked into the library (the rule's own folder is checked when planning).
    const real = resolvedPath(dir);
    if (real === run.libraryReal || isInside(run.libraryReal, real)) {
      throw new ModelLibraryError("E_INVALID", `${dir}: leads to ${real}, inside the library: links are never made there`, { path: dir });
    }
  }
  ensureDir(dir, run.madeDirs);
  run.lastDir = dir;
  run.lastDirReal = run.madeDirs.get(dir)!;
  let dev = run.dirDevs.get(dir);
  if (dev === undefined) run.dirDevs.set(dir, (dev = fs.statSync(run.lastDirReal).dev));
  run.lastDirDev = dev;
  return run.lastDirReal;
}

/** The folder part of an absolute path (path.dirname without its cost, for a path of ours: no trailing slash). */
function dirOf(p: string): string {
  const slash = p.lastIndexOf("/");
  return slash > 0 ? p.slice(0, slash) : path.dirname(p);
}

/** Makes every step of one unit, or none: on a failure the unit's new links are removed and moved files put back. */
function makeUnit(run: Run, unit: ClassifiedUnit, steps: Step[]): void {
  const { reg, result } = run;
  // The unit's result lines go straight into result.made; a failure takes back those not kept.
  const firstLine = result.made.length;
  let made = 0;
  let step: Step | null = null;
  try {
    for (step of steps) {
      const dirReal = targetFolder(run, step.target);
      let link;
      if (step.kind === "replace") {
        link = replaceBroken(step, run.choice);
      } else {
        if (step.kind === "overwrite") step.aside = moveAside(step.target, undefined, step.plannedAside);
        try {
          link = makeLinkAt(step.item.source, step.target, run.choice, step.item.isDir);
        } catch (e) {
          if (step.aside) putBack(step.aside, step.target);
          step.aside = undefined;
          throw e;
        }
      }
      made++;
      // The source's identity: what a hard link or copy shares/was made from (for a symlink its text is the proof).
      const src = link.method === "symlink" ? null : fs.statSync(step.item.source);
      // The entry as one literal with a symlink's fields (no spread, no field added afterwards in the common
      // case; an undefined field is not written to the file).
      const entry: LinkEntry = {
        model_id: unit.modelId,
        source: step.item.source,
        target: step.target,
        link_type: link.fields.link_type,
        created_at: run.createdAt,
        app_id: run.appId,
        app_version: run.appVersion,
        source_size: src ? src.size : step.item.size,
        app_root: run.root,
        target_dir_real: dirReal,
        target_dir_device: run.lastDirDev,
      };
      if (link.method !== "symlink") Object.assign(entry, link.fields);
      if (step.item.isDir) entry.is_dir = true;
      if (src) {
        entry.source_inode = src.ino;
        entry.source_device = src.dev;
      }
      if (step.aside) entry.replaced = step.aside;
      reg.register(entry);
      const line: AppliedLink = {
        modelId: unit.modelId,
        source: step.item.source,
        target: step.target,
        method: link.method,
        action: step.kind === "replace" ? "replaced" : step.kind === "overwrite" ? "overwrote" : step.renamed ? "renamed" : "created",
      };
      if (step.aside) line.movedAside = step.aside;
      result.made.push(line);
    }
  } catch (e) {
    // Roll the unit back: our new links go (each checked to be the link we just made), the user's files return.
    for (let i = made - 1; i >= 0; i--) {
      const m = steps[i];
      if (m.kind === "replace") continue; // a working link in place of a broken one: kept and recorded
      removeJustMade(m.target, m.item.source);
      reg.unregister(m.target);
      if (m.aside) putBack(m.aside, m.target);
    }
    // Replacements made before the failure stay (they work) and are recorded.
    const lines = result.made.splice(firstLine);
    for (const l of lines) if (l.action === "replaced") result.made.push(l);
    const err = e instanceof ModelLibraryError ? e : ioError(step?.target ?? unit.modelId, "link", e);
    result.errors.push({ modelId: unit.modelId, target: step?.target ?? "", code: err.code, message: err.message });
  }
}

/** Re-makes a broken link of ours: the new link at `.<name>.mlib-new`, renamed over the old one if that is still what we saw. */
function replaceBroken(step: Step, choice: LinkChoice): ReturnType<typeof makeLinkAt> {
  const staged = stagedPathOf(step.target);
  fs.rmSync(staged, { force: true }); // a leftover of ours from a killed run (the name is ours)
  const made = makeLinkAt(step.item.source, staged, choice, step.item.isDir);
  try {
    const now = fs.lstatSync(step.target);
    if (now.ino !== step.item.seenIno) throw new ModelLibraryError("E_EXISTS", `${step.target}: changed while linking; left as it is`, { path: step.target });
    fs.renameSync(staged, step.target);
  } catch (e) {
    fs.rmSync(staged, { force: true });
    throw e;
  }
  return made;
}

function removeJustMade(target: string, source: string): void {
  try {
    const st = fs.lstatSync(target);
    if (st.isSymbolicLink() ? fs.readlinkSync(target) === source : st.isFile()) fs.unlinkSync(target);
  } catch {
    // already gone
  }
}

function putBack(aside: string, target: string): void {
  if (fs.existsSync(target)) return; // something is there again: the user's file stays at its aside name
  try {
    fs.renameSync(aside, target);
  } catch {
    // it stays at its aside name, which the result names
  }
}
