// What `mlib doctor` reports: one problem per thing that is wrong, each with what to do about it, and a fix
// that `--fix` applies when it is safe (loses nothing: removes only what is ours and dead, or adds data).

export type ProblemKind =
  | "staging-dead" // import staging whose process is gone
  | "original-staging" // the original's `.tmp_import_*` folder (reported, never touched)
  | "merge-unfinished" // a merge journal: a merge was stopped
  | "temp-left" // the temp file of a JSON write a killed process left
  | "part-without-download" // a `.part` file with no part record beside it: nothing can resume it
  | "no-metadata" // a folder with model files and no metadata.json
  | "incomplete-shards" // a shard set with missing shards
  | "metadata-corrupt" // metadata.json does not parse
  | "index-out-of-step" // the index disagrees with the metadata.json files
  | "no-hashes" // files recorded without a hash: verify and dedup cannot work for them
  | "file-missing" // a file metadata.json lists is not there
  | "unsafe-name" // metadata.json lists a file name that leaves the model folder (`../`, absolute): never followed
  | "file-changed" // size or mtime differ from when the file was hashed
  | "identify-outdated" // (a notice) models identified by an older identify revision: `mlib redetect`
  | "link"; // (mapper) a link into an app folder that is broken or changed

export interface DoctorProblem {
  kind: ProblemKind;
  /** The file or folder concerned. */
  path: string;
  /** The model, when the problem belongs to one. */
  id?: string;
  message: string;
  /** What the user can do (or what --fix does). */
  remedy: string;
  /** Applied by --fix: returns what it did. Absent when the fix is not safe to apply unasked. */
  fix?: (signal?: AbortSignal) => Promise<string>;
}

/**
 * A check other features add (the extension point for the mapper's link registry: broken links, links changed
 * since they were made). Passed to runDoctor in `checks`; its problems are reported and fixed like the rest.
 */
export interface DoctorCheck {
  name: string;
  run(signal?: AbortSignal): Promise<DoctorProblem[]>;
}

export interface DoctorFixed {
  kind: ProblemKind;
  path: string;
  did: string;
}

export interface DoctorResult {
  /** Problems found (after --fix: those that remain). */
  problems: Omit<DoctorProblem, "fix">[];
  /**
   * What is worth doing but not wrong (models an older mlib identified: `mlib redetect` may know them better).
   * Not problems: the exit status and `problems` ignore them, so a library imported before an upgrade is not "sick".
   */
  notices: Omit<DoctorProblem, "fix">[];
  /** What --fix did. */
  fixed: DoctorFixed[];
  /** Fixes that were tried and failed. */
  fixErrors: { kind: ProblemKind; path: string; error: string }[];
  /** How many of the problems have a safe fix (what --fix would apply). */
  fixable: number;
  modelsChecked: number;
}
