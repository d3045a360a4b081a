// What `mlib import PATH...` means, before anything is read beyond names and small JSON files:
// a file is one model unless it belongs to a shard set (then the set is one model); a folder that is one model
// (diffusers, HF snapshot, shard set) is one model; any other folder is walked and each model in it is its own unit.
import { readdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { detectModelFolder } from "../identify/folder.js";
import { hfSnapshotOf, statBlobLink } from "../identify/hf-cache.js";
import { shardInfoOf } from "../formats/sharding.js";
import { isModelFileName } from "../formats/sniff.js";

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

/** A sub-folder a walk could not read: reported, and the rest of the walk goes on. */
export interface PlanProblem {
  path: string;
  error: ModelLibraryError;
}

const MAX_WALK_DEPTH = 12;

/**
 * Turns user paths into import units, in order, each unit once. With `problems`, an unreadable sub-folder of a
 * walk is recorded there and skipped; without it, it is thrown.
 */
export async function planImport(paths: string[], problems?: PlanProblem[]): Promise<ImportUnit[]> {
  const units: ImportUnit[] = [];
  const taken = new Set<string>(); // absolute file paths already in a unit
  const push = (u: ImportUnit) => {
    const abs = u.files.map((f) => join(u.baseDir, f));
    if (abs.every((a) => taken.has(a))) return;
    abs.forEach((a) => taken.add(a));
    units.push(u);
  };
  for (const p of paths) {
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
    if (st.isDirectory()) {
      for (const u of await unitsInFolder(abs, 0, problems)) push(u);
    } else if (st.isFile()) {
      push(await unitForFile(abs));
    } else {
      throw new ModelLibraryError("E_INVALID", `${p}: not a regular file or folder`, { path: abs });
    }
  }
  return units;
}

/** A single file, widened to its whole shard set when its name says it is a shard and siblings exist. */
async function unitForFile(abs: string): Promise<ImportUnit> {
  const dir = dirname(abs);
  const name = basename(abs);
  const info = shardInfoOf(name);
  if (info) {
    const siblings = (await readdir(dir)).filter((n) => shardInfoOf(n)?.setKey === info.setKey).sort();
    if (siblings.length > 1 || (info.total ?? 1) > 1) {
      return { source: abs, kind: "shard-set", baseDir: dir, files: siblings, weightFiles: siblings, defaultName: stemOf(info.setKey) };
    }
  }
  return { source: abs, kind: "file", baseDir: dir, files: [name], weightFiles: [name], defaultName: stemOf(name) };
}

async function unitsInFolder(dir: string, depth: number, problems?: PlanProblem[]): Promise<ImportUnit[]> {
  const report = problems && ((path: string, error: ModelLibraryError) => {
    if (!problems.some((p) => p.path === path)) problems.push({ path, error });
  });
  const folder = await detectModelFolder(dir, report);
  const snapshot = hfSnapshotOf(dir);
  if (folder) {
    const named = snapshot ? { defaultName: snapshot.name, repoId: snapshot.repoId } : { defaultName: basename(dir) };
    return [{ source: dir, kind: "folder", baseDir: dir, files: folder.files, weightFiles: folder.weightFiles, ...named }];
  }
  const units: ImportUnit[] = [];
  let entries;
  try {
    entries = await readdir(dir, { withFileTypes: true });
  } catch (e) {
    throw ioError(dir, "list", e);
  }
  entries.sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const sets = new Map<string, string[]>();
  for (const e of entries) {
    if (e.name.startsWith(".") || !isModelFileName(e.name)) continue;
    // A snapshot of a repo of single files (GGUF quants): its links into the repo's blobs/ are its files.
    if (!e.isFile() && !(snapshot && e.isSymbolicLink() && (await statBlobLink(join(dir, e.name), snapshot)))) continue;
    const key = shardInfoOf(e.name)?.setKey ?? `\0${e.name}`;
    sets.set(key, [...(sets.get(key) ?? []), e.name]);
  }
  for (const [key, names] of sets) {
    if (key.startsWith("\0") || (names.length === 1 && (shardInfoOf(names[0])?.total ?? 1) <= 1)) {
      units.push({ source: join(dir, names[0]), kind: "file", baseDir: dir, files: names, weightFiles: names, defaultName: stemOf(names[0]) });
    } else {
      units.push({ source: join(dir, names[0]), kind: "shard-set", baseDir: dir, files: names, weightFiles: names, defaultName: stemOf(key) });
    }
  }
  if (depth < MAX_WALK_DEPTH) {
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      try {
        units.push(...(await unitsInFolder(join(dir, e.name), depth + 1, problems)));
      } catch (err) {
        // One unreadable sub-folder (lost+found, another user's) does not stop the walk: it is reported.
        if (!report || !(err instanceof ModelLibraryError)) throw err;
        report(join(dir, e.name), err);
      }
    }
  }
  return units;
}

function stemOf(name: string): string {
  const dot = name.lastIndexOf(".");
  return dot > 0 ? name.slice(0, dot) : name;
}
