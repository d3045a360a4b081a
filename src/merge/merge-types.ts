// What a merge plans and reports. The plan is written to the journal before anything moves, so a re-run
// after a crash follows the same plan.

export type MergeAction =
  /** Moved into the library at `destId` (the same place it had in the source). */
  | "move"
  /** Same place as a different model already in the library: moved under the new name `destId` (`<name>-2`...). */
  | "conflict"
  /** Every file identical (by SHA-256 and size) to the model `destId`: the source copy is removed once re-hashed. */
  | "duplicate"
  /** Left in the source, with the reason. */
  | "error";

export interface MergeFile {
  name: string;
  size: number;
  sha256: string | null;
}

export interface MergePlanItem {
  /** The model's folder relative to the source root (`/`-separated). */
  source: string;
  action: MergeAction;
  /** Where it goes (move, conflict) or the model it duplicates (duplicate); null for an error. */
  destId: string | null;
  reason: string | null;
  bytes: number;
  /** Whether the bytes must be copied (another filesystem) rather than renamed. */
  crossDevice: boolean;
  files: MergeFile[];
}

export type MergeOutcome = "moved" | "renamed" | "duplicate-removed" | "left";

export interface MergeItemResult {
  source: string;
  destId: string | null;
  outcome: MergeOutcome;
  reason: string | null;
}

export interface MergeParams {
  /** The library folder to merge into this one. */
  source: string;
  /** Print the plan, write nothing on either side. */
  dryRun?: boolean;
  /** Merge pickle files too (the import policy: refused unless the caller says they know). */
  allowPickle?: boolean;
  /**
   * Run after every model is moved and indexed, before the journal is removed (under the merge lock): the
   * caller's last step of the merge, e.g. the CLI re-pointing links into the source through the mapper's
   * registry (the merge itself knows nothing of links). A kill or a throw here keeps the journal, so the same
   * merge re-runs it — it must be idempotent. Not called by a dry run.
   */
  beforeFinish?: (result: MergeResult) => Promise<void>;
}

export interface MergeResult {
  source: string;
  dryRun: boolean;
  /** True when this run finished a merge a killed process had started (the journal's plan was followed). */
  resumed: boolean;
  sameFilesystem: boolean;
  plan: MergePlanItem[];
  /** Empty for a dry run. */
  results: MergeItemResult[];
  counts: { moved: number; renamed: number; duplicates: number; left: number };
  /** Bytes copied across filesystems (0 when every move was a rename). */
  bytesCopied: number;
}
