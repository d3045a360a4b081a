// What `mlib import PATH...` means, before anything is read beyond names and small JSON files:
// a file is one model unless it belongs to a shard set (then the set is one model); a folder that is one model
// (diffusers, HF snapshot, shard set) is one model; any other folder is walked and each model in it is its own unit.
import { lstat, readdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ModelLibraryError, ioError, isCancelled, throwIfAborted } from "../core/errors.js";
import { walkFolders } from "../core/walk.js";
import { detectModelFolder } from "../identify/folder.js";
import { hfSnapshotOf, statBlobLink } from "../identify/hf-cache.js";
import { groupShards, shardInfoOf } from "../formats/sharding.js";
import { isModelFileName } from "../formats/sniff.js";
import { isUndecodableName, undecodableNameError } from "../formats/naming.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export interface ImportUnit {
  /** What the user named (or the walk found): a file, a folder, or the first file of a shard set. */
  source: string;
  kind: "file" | "shard-set" | "folder";
  /** The folder the unit's files are relative to. */
  baseDir: string;
  /** Files to store, relative to baseDir, `/`-separated (sub-folders kept). */
  files: string[];
  /** The weight files among them. */
  weightFiles: string[];
  /** A name for the model when the user gives none: file stem, set base name, or folder name. */
  defaultName: string;
  /** A Hugging Face cache snapshot's repo (`org/name`), recorded as the model's repo_id. */
  repoId?: string;
}

/** A path that could not be planned, or a sub-folder a walk could not read (reported; the rest of the walk goes on). */
export interface PlanProblem {
  path: string;
  error: ModelLibraryError;
}

const MAX_WALK_DEPTH = 12;

export interface PlanImportParams {
  /** Files or folders, as the user named them. */
  paths: string[];
}

export interface PlanImportResult {
  /** The units to import, in order, each file in one unit only. */
  units: ImportUnit[];
  /**
   * Paths that could not be planned (missing, unreadable, not a file or folder), and sub-folders a walk could not
   * read (reported; the rest of the walk goes on): each fails on its own.
   */
  failures: PlanProblem[];
}

/**
 * What importing `params.paths` would store, reading only names and small JSON files. The library is not read
 * (the call shape is the same for every operation). The walk checks `signal` at every folder.
 */
export async function planImport(library: ModelLibrary, params: PlanImportParams, options?: OperationOptions): Promise<PlanImportResult>;
/** @deprecated the old call shape: use `planImport(library, { paths })`. Throws on the first path (or sub-folder) that cannot be planned. */
export async function planImport(paths: string[]): Promise<ImportUnit[]>;
export async function planImport(
  first: ModelLibrary | string[],
  params?: PlanImportParams,
  options: OperationOptions = {},
): Promise<PlanImportResult | ImportUnit[]> {
  if (Array.isArray(first)) {
    const plan = await planUnits(first, undefined);
    if (plan.failures.length > 0) throw plan.failures[0].error;
    return plan.units;
  }
  const onFolder = options.onProgress && ((dir: string) => options.onProgress!({ op: "plan-import", phase: "walk", item: dir }));
  const plan = await planUnits(params?.paths ?? [], options.signal, onFolder);
  options.onProgress?.({ op: "plan-import", phase: "done", done: plan.units.length, total: plan.units.length, unit: "items" });
  return plan;
}

/** Turns user paths into import units, in order, each file in one unit only (shard 1 and 2 named together are one set). */
export async function planUnits(paths: string[], signal: AbortSignal | undefined, onFolder?: (dir: string) => void): Promise<PlanImportResult> {
  const units: ImportUnit[] = [];
  const failures: PlanProblem[] = [];
  const onUnreadable = (path: string, error: ModelLibraryError) => {
    // The same folder can be met twice: by the walk, and by the listing that looks for a model in its parent.
    if (!failures.some((f) => f.path === path)) failures.push({ path, error });
  };
  const taken = new Set<string>(); // absolute file paths already in a unit
  const push = (u: ImportUnit) => {
    const abs = u.files.map((f) => join(u.baseDir, f));
    if (abs.every((a) => taken.has(a))) return;
    abs.forEach((a) => taken.add(a));
    units.push(u);
  };
  for (const p of paths) {
    throwIfAborted(signal, "import planning");
    try {
      for (const u of await unitsOfPath(p, { signal, onFolder, onUnreadable })) push(u);
    } catch (e) {
      if (isCancelled(e)) throw e;
      failures.push({ path: p, error: e instanceof ModelLibraryError ? e : ioError(p, "import", e) });
    }
  }
  return { units, failures };
}

interface Walk {
  signal: AbortSignal | undefined;
  onFolder: ((dir: string) => void) | undefined;
  /** A sub-folder that cannot be read: reported, and the walk goes on without it. */
  onUnreadable: ((path: string, error: ModelLibraryError) => void) | undefined;
}

async function unitsOfPath(p: string, walk: Walk): Promise<ImportUnit[]> {
  const abs = resolve(p);
  let st;
  try {
    st = await stat(abs);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") {
      throw new ModelLibraryError("E_NOT_FOUND", `${p}: no such file or folder`, { path: abs });
    }
    throw ioError(abs, "read", e);
  }
  if (st.isDirectory()) return unitsInFolder(abs, walk);
  if (st.isFile()) return [await unitForFile(abs)];
  throw new ModelLibraryError("E_INVALID", `${p}: not a regular file or folder`, { path: abs });
}

/** A single file, widened to its whole shard set when its name says it is a shard and siblings exist. */
async function unitForFile(abs: string): Promise<ImportUnit> {
  const dir = dirname(abs);
  const name = basename(abs);
  if (shardInfoOf(name)) {
    const set = groupShards(await readdir(dir)).find((g) => g.names.includes(name))!;
    if (set.isSet) {
      const files = [...set.names].sort();
      return { source: abs, kind: "shard-set", baseDir: dir, files, weightFiles: files, defaultName: stemOf(set.setKey!) };
    }
  }
  return { source: abs, kind: "file", baseDir: dir, files: [name], weightFiles: [name], defaultName: stemOf(name) };
}

/** The units under a folder: the folder itself when it is one model, else each model file or shard set in it, and below. */
async function unitsInFolder(root: string, walk: Walk): Promise<ImportUnit[]> {
  const units: ImportUnit[] = [];
  await walkFolders(
    root,
    async ({ abs: dir, entries, depth }) => {
      walk.onFolder?.(dir);
      let folder;
      try {
        folder = await detectModelFolder(dir, walk.onUnreadable);
      } catch (e) {
        // One sub-folder that cannot be read (lost+found, another user's) does not stop the walk: it is reported.
        if (depth === 0 || !walk.onUnreadable || !(e instanceof ModelLibraryError) || isCancelled(e)) throw e;
        walk.onUnreadable(dir, e);
        return false;
      }
      const snapshot = hfSnapshotOf(dir);
      if (folder) {
        const named = snapshot ? { defaultName: snapshot.name, repoId: snapshot.repoId } : { defaultName: basename(dir) };
        units.push({ source: dir, kind: "folder", baseDir: dir, files: folder.files, weightFiles: folder.weightFiles, ...named });
        return false; // one model: its sub-folders are its own
      }
      const modelFiles: string[] = [];
      for (const e of entries) {
        if (!isModelFileName(e.name)) continue;
        if (isUndecodableName(e.name) && !(await lstat(join(dir, e.name)).then(() => true, () => false))) {
          walk.onUnreadable?.(join(dir, e.name), undecodableNameError(join(dir, e.name)));
          continue;
        }
        // A snapshot of a repo of single files (GGUF quants): its links into the repo's blobs/ are its files.
        if (e.isFile() || (snapshot && e.isSymbolicLink() && (await statBlobLink(join(dir, e.name), snapshot)))) modelFiles.push(e.name);
      }
      for (const { setKey, names, isSet } of groupShards(modelFiles)) {
        if (isSet) units.push({ source: join(dir, names[0]), kind: "shard-set", baseDir: dir, files: names, weightFiles: names, defaultName: stemOf(setKey!) });
        else units.push({ source: join(dir, names[0]), kind: "file", baseDir: dir, files: names, weightFiles: names, defaultName: stemOf(names[0]) });
      }
    },
    { maxDepth: MAX_WALK_DEPTH, signal: walk.signal, onUnreadable: walk.onUnreadable },
  );
  return units;
}

function stemOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}
