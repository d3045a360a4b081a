// The link registry: `<library>/link_registry.json`, the original's file and shape
// — `{by_target: {target: LinkEntry}, by_model: {model_id: [target...]}}` — so a library the original
// linked reads as it is, and the original still reads ours. `link_type` keeps its three values; a reflink is
// recorded as "copy" with `clone: true`. Facts the original lacks go in new fields: the source's and target's
// inode/device/size (proof, later, that a hardlink or copy is still the one we made), the app root, and
// `pending` (written before a link is made, so a process killed mid-apply leaves a trace `links repair` reads).
//
// It is library data, not index data (a reindex never touches it). Every change is a read-modify-write under
// the library's registry lock and an atomic rewrite, so two processes mapping at once lose nothing.
// An apply's links about to be made are in its journal (link-journal.ts) until its final save records them:
// loading reads a journal left by a killed apply as pending entries, and the next save under the lock keeps
// them in the registry and removes the journal.
import * as fs from "node:fs";
import * as path from "node:path";
import { readJsonSync, writeJsonAtomicSync } from "../core/atomic-json.js";
import { ModelLibraryError } from "../core/errors.js";
import { withLock } from "../core/lock.js";
import { JOURNAL_DONE_KEY, journalPath, pendingEntries, readJournal } from "./link-journal.js";

export const REGISTRY_FILE = "link_registry.json";
/** Above this many entries the registry is written without indentation (see save()). */
export const COMPACT_ABOVE = 1000;
/** Ours, not per-model: beside the index in `<root>/.model-library/`. */
export const REGISTRY_LOCK = path.join(".model-library", "link_registry.lock");

export interface LinkEntry {
  model_id: string;
  source: string;
  target: string;
  link_type: "symlink" | "hardlink" | "copy";
  created_at: string;
  app_id: string;
  app_version: string | null;
  // Added by model-library (absent in the original's entries):
  /** A copy made as a copy-on-write clone (reflink). */
  clone?: boolean;
  /** The source is a folder (a diffusers folder linked as one). */
  is_dir?: boolean;
  source_inode?: number;
  source_device?: number;
  source_size?: number;
  target_inode?: number;
  target_device?: number;
  target_size?: number;
  target_mtime_ms?: number;
  /** Where the target's folder resolved to when the link was made (a user's symlinked folder is written through). */
  target_dir_real?: string;
  /**
   * A symlink a merge could not re-point (its disk not mounted): still pointing at this old source, ours, to be
   * re-made by links repair.
   */
  repointed_from?: string;
  /** That folder's device then: found on another device later (an empty mount point), the disk is not mounted. */
  target_dir_device?: number;
  /** The app's models root given to apply (`--root`); removal never leaves its parent folder. */
  app_root?: string;
  /** Written before the link is made; cleared once it exists. */
  pending?: boolean;
  /** Temp file a copy is written to before it takes the target's name (removed by repair after a crash). */
  partial?: string;
  /** Where a user's file at the target was moved by `--on-conflict overwrite`. */
  replaced?: string;
  [extra: string]: unknown;
}

export interface RegistryData {
  by_target: Record<string, LinkEntry>;
  by_model: Record<string, string[]>;
  [extra: string]: unknown;
}

export function registryPath(libraryRoot: string): string {
  return path.join(libraryRoot, REGISTRY_FILE);
}

/** In-memory registry with the original's operations (register, unregister, queries). */
export class LinkRegistry {
  readonly file: string;
  /** The library whose registry this is: the sources of our links are in it. */
  readonly libraryRoot: string;
  private data: RegistryData;
  /** Set by every change: an unchanged registry is not rewritten (and an absent one not created). */
  dirty = false;
  /** How many entries by_target holds. */
  private size = 0;
  /** A journal to remove once the registry is saved: its links are in `data` (merged at load, or an apply's own). */
  private journalFile: string | null = null;
  /** At load: a journal the registry already records (done) or one cut short; removed by settleJournal(). */
  private staleJournal: string | null = null;

  private constructor(file: string, data: RegistryData, libraryRoot: string) {
    this.file = file;
    this.data = data;
    this.libraryRoot = libraryRoot;
  }

  /** Reads the registry (an absent file is an empty registry; bad JSON is E_CORRUPT naming the file). */
  static load(libraryRoot: string): LinkRegistry {
    const file = registryPath(libraryRoot);
    const raw = readJsonSync<Partial<RegistryData>>(file);
    if (raw !== null && (typeof raw !== "object" || Array.isArray(raw))) {
      throw new ModelLibraryError("E_CORRUPT", `${file}: expected a JSON object {by_target, by_model}`, { path: file });
    }
    const by_target: Record<string, LinkEntry> = {};
    for (const [target, e] of Object.entries(raw?.by_target ?? {})) {
      if (!e || typeof e !== "object" || typeof e.source !== "string" || typeof e.model_id !== "string") continue;
      by_target[target] = { ...e, target };
    }
    // by_model is rebuilt from by_target: it is derived, and the original duplicated entries in it.
    const data: RegistryData = { ...(raw ?? {}), by_target, by_model: {} };
    const reg = new LinkRegistry(file, data, libraryRoot);
    for (const e of Object.values(by_target)) {
      reg.addToModel(e.model_id, e.target);
      reg.size++;
    }
    reg.mergeJournal(libraryRoot);
    return reg;
  }

  /**
   * Reads the journal a killed apply left (if any) as pending entries, as its write-ahead registry held them
   * (a replacement's entry takes the place of the old one, which it names in `replacing`). In memory only:
   * settleJournal() or the next save() makes it permanent.
   */
  private mergeJournal(libraryRoot: string): void {
    const j = readJournal(libraryRoot);
    if (j === null) return;
    if (j === "torn" || this.data[JOURNAL_DONE_KEY] === j.id) {
      this.staleJournal = journalPath(libraryRoot);
      return;
    }
    for (const e of pendingEntries(j)) this.register(e);
    this.data[JOURNAL_DONE_KEY] = j.id;
    this.journalFile = journalPath(libraryRoot);
    this.dirty = true;
  }

  /**
   * Under the registry lock, before a change: a journal merged at load is saved into the registry (and then
   * removed); a stale one is removed. After this a new apply may write its own journal.
   */
  settleJournal(): void {
    if (this.journalFile !== null) this.save();
    if (this.staleJournal !== null) {
      fs.rmSync(this.staleJournal, { force: true });
      this.staleJournal = null;
    }
  }

  /** An apply's journal (already written): the next save records its id with its links, then removes it. */
  journalStarted(file: string, id: string): void {
    this.data[JOURNAL_DONE_KEY] = id;
    this.journalFile = file;
    this.dirty = true;
  }

  /**
   * Writes the registry if it changed: indented as the original writes it, or on one line above
   * COMPACT_ABOVE entries (a file for programs by then: at 10,000 entries 5.7 MB instead of 6.8 MB, and a
   * third less time serialising it; the original reads either).
   */
  save(): void {
    if (!this.dirty) return;
    writeJsonAtomicSync(this.file, this.data, { compact: this.size > COMPACT_ABOVE });
    this.dirty = false;
    if (this.journalFile !== null) {
      fs.rmSync(this.journalFile, { force: true });
      this.journalFile = null;
    }
  }

  private addToModel(modelId: string, target: string): void {
    const list = (this.data.by_model[modelId] ??= []);
    if (!list.includes(target)) list.push(target);
  }

  register(entry: LinkEntry): void {
    const old = this.data.by_target[entry.target];
    this.data.by_target[entry.target] = entry;
    this.dirty = true;
    if (!old) this.size++;
    // The same model's target (an apply completing its pending entry) is already in by_model.
    if (old && old.model_id === entry.model_id) return;
    if (old) this.pruneModel(old.model_id, entry.target);
    this.addToModel(entry.model_id, entry.target);
  }

  unregister(target: string): LinkEntry | null {
    const e = this.data.by_target[target];
    if (!e) return null;
    delete this.data.by_target[target];
    this.dirty = true;
    this.size--;
    this.pruneModel(e.model_id, target);
    return e;
  }

  private pruneModel(modelId: string, target: string): void {
    const list = this.data.by_model[modelId];
    if (!list) return;
    const rest = list.filter((t) => t !== target);
    if (rest.length > 0) this.data.by_model[modelId] = rest;
    else delete this.data.by_model[modelId];
  }

  get(target: string): LinkEntry | null {
    return this.data.by_target[target] ?? null;
  }

  all(): LinkEntry[] {
    return Object.values(this.data.by_target);
  }

  forModel(modelId: string): LinkEntry[] {
    return (this.data.by_model[modelId] ?? []).map((t) => this.data.by_target[t]).filter((e): e is LinkEntry => !!e);
  }

  forApp(app: string): LinkEntry[] {
    return this.all().filter((e) => e.app_id === app);
  }

  count(): number {
    return this.size;
  }
}

/** Options for a registry change; the lock waits long because an apply of thousands of links holds it. */
export interface RegistryLockOptions {
  timeoutMs?: number;
}

/**
 * Runs `fn` on the registry under the library's registry lock and saves it afterwards (also when `fn` throws:
 * what it did on disk before failing is then recorded, never lost).
 */
export async function withRegistry<T>(libraryRoot: string, fn: (reg: LinkRegistry) => T | Promise<T>, options: RegistryLockOptions = {}): Promise<T> {
  const lockPath = path.join(libraryRoot, REGISTRY_LOCK);
  fs.mkdirSync(path.dirname(lockPath), { recursive: true });
  return withLock(
    lockPath,
    async () => {
      const reg = LinkRegistry.load(libraryRoot);
      reg.settleJournal();
      try {
        return await fn(reg);
      } finally {
        reg.save();
      }
    },
    { timeoutMs: options.timeoutMs ?? 10 * 60_000 },
  );
}
