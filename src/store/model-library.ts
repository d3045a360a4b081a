// ModelLibrary: the store on disk (`<root>/<type>/<family>/<name>/` + metadata.json) and its SQLite index.
// metadata.json files are the truth; the index (`.model-library/index.db`, see index-location.ts) is derived
// and kept in step: every write through this class updates it at once, opening reconciles what other
// programs added or removed (see reconcile.ts), and the models a command shows are re-checked against their
// metadata.json first (refreshModels). A damaged index is moved aside and rebuilt, never fatal.
import { existsSync, readdirSync, statSync } from "node:fs";
import { copyFile, link, rename, rm, rmdir, stat } from "node:fs/promises";
import { basename, dirname, join, resolve } from "node:path";
import { statOrNull } from "../core/stat-or-null.js";
import { makeDirs } from "../core/make-dirs.js";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { walkFoldersSync } from "../core/walk.js";
import { normalizeName } from "../formats/naming.js";
import { readJson, writeJsonAtomic, backupPathOf } from "../core/atomic-json.js";
import { withLock } from "../core/lock.js";
import { leaseTimings, type LeaseTimings } from "../core/lease.js";
import { ModelIndex } from "../index/model-index.js";
import { isDiskFull } from "../index/disk-full.js";
import type { Facets, FileMatch, IndexStats, ModelFilesRecord, ModelRecord, SearchFilters, SearchOptions, SearchResult } from "../index/index-types.js";
import { normalizeMetadata, serializeMetadata, nowIso, type ModelMetadata } from "./metadata.js";
import { COMMIT_LOCK, LEGACY_DB_FILE, LIBRARY_DIR, METADATA_FILE, OVERRIDES_FILE, defaultLibraryRoot } from "./layout.js";
import { locateIndex } from "./index-location.js";
import { corruptMetadata, readMetadataText, readRecord, readRecordSync } from "./record.js";
import { brokenRecord, rebuildIndexSync, reconcileIndex, refreshModels, type ReconcileMode, type ReconcileReport } from "./reconcile.js";
import { cleanStaging, makeStagingDir, releaseStaging, type StagingReport } from "./staging.js";

export interface OpenOptions {
  /** How to bring the index in step with the files on open (default "quick"; see reconcile.ts). */
  reconcile?: ReconcileMode | "none";
  /**
   * false: open an existing library only (read commands): a root that does not exist, or holds no library
   * (no `.model-library/`, no `models.db`, no model folder), is E_NOT_FOUND instead of becoming a new library. Default true.
   */
  create?: boolean;
  /** Told each notice as it happens (they are also kept in `notices`): the CLI prints them on stderr. */
  onNotice?: (notice: LibraryNotice) => void;
  /** Lease renewal/expiry for staging clean-up (default 10 s / 2 min, or MLIB_LEASE_RENEW_MS / MLIB_LEASE_EXPIRE_MS). */
  leaseTimings?: Partial<LeaseTimings>;
}

/** Something the library did or found on its own that the user should hear about. */
export interface LibraryNotice {
  kind: "index-moved" | "index-rebuilt" | "index-in-cache" | "index-behind" | "staging-removed" | "staging-left" | "original-staging";
  message: string;
  path?: string;
}

// The original's `.tmp_import_*` folders are only mentioned once they look abandoned (a fresh one is
// likely a copy the original is making right now); they are never removed either way.
export const ORIGINAL_STAGING_QUIET_MS = 60 * 60 * 1000;

export interface ModelOverrides {
  version_ranges: Record<string, string> | null;
  [extra: string]: unknown;
}

// An empty, "." or ".." part anywhere in a `/`-separated id (also a leading or trailing "/").
const BAD_ID_PART = /(?:^|\/)\.{0,2}(?:\/|$)/;

const NO_THROW = { throwIfNoEntry: false } as const;

/** A model id usable as a relative path under the root: `/`-separated, no empty, "." or ".." part, no NUL. */
export function isSafeId(id: string): boolean {
  return id.length > 0 && !BAD_ID_PART.test(id) && !id.includes("\0");
}

/** What an updateMetadata change returns when it changes nothing (nothing is then written). */
export const UNCHANGED: unique symbol = Symbol("unchanged");

export class ModelLibrary {
  readonly root: string;
  /**
   * The SQLite index under this library. Operations and features use the library's methods (search, get,
   * findByHash, count, indexedState, unindex...), which keep the index in step with the metadata.json files;
   * the index itself is for the store (and, today, the merge's batched index step and the server's facet
   * worker, which opens `index.dbPath` in a thread of its own).
   */
  readonly index: ModelIndex;
  /** `<root>/.model-library`: our index (unless the library is read-only), lock, staging, journals. */
  readonly dataDir: string;
  /** Whether this process can write to the library (a read-only one keeps its index in the cache folder). */
  readonly writable: boolean;
  /** What the last reconcile found (models added, changed, removed, unreadable metadata). */
  lastReconcile: ReconcileReport | null = null;
  /** What opening found in the staging folders (removed, left alone, the original's). */
  staging: StagingReport | null = null;
  /** Notices since opening (index moved or rebuilt, staging removed or left...). */
  readonly notices: LibraryNotice[] = [];
  private readonly onNotice: ((n: LibraryNotice) => void) | undefined;
  // Models this process wrote whose index row could not be (a full disk): the index is behind them until
  // indexModel succeeds. An import catches it up first (catchUpIndex), so it never stores a second copy of a
  // model the index does not show yet.
  private readonly unindexed = new Set<string>();

  private constructor(root: string, index: ModelIndex, writable: boolean, onNotice: OpenOptions["onNotice"]) {
    this.root = root;
    this.index = index;
    this.dataDir = join(root, LIBRARY_DIR);
    this.writable = writable;
    this.onNotice = onNotice;
    index.onCorrupt = (e) => this.recoverIndex(e);
  }

  /** Opens the library at `root` (or the default root), creating it unless `create: false`. */
  static async open(root: string = defaultLibraryRoot(), options: OpenOptions = {}): Promise<ModelLibrary> {
    root = resolve(root);
    const create = options.create ?? true;
    const notFound = () =>
      new ModelLibraryError("E_NOT_FOUND", `no library at ${root} (create one with mlib init or mlib import)`, { path: root });
    let st = statOrNull(root);
    if (!st) {
      if (!create) throw notFound();
      try {
        await makeDirs(root); // not mkdir's recursive mode: it never returns under /proc (core/make-dirs.ts)
      } catch (e) {
        throw ioError(root, "create the library folder", e);
      }
      st = statSync(root);
    }
    if (!st.isDirectory()) throw new ModelLibraryError("E_INVALID", `${root}: not a folder`, { path: root });
    if (!create && !existsSync(join(root, LIBRARY_DIR)) && !existsSync(join(root, LEGACY_DB_FILE)) && !holdsModelFolder(root)) throw notFound();

    const location = locateIndex(root);
    const early: LibraryNotice[] = [];
    if (location.movedFrom) {
      early.push({
        kind: "index-moved",
        path: location.path,
        message: `moved this library's index from ${location.movedFrom} to ${location.path} (models.db in the root is the original program's name)`,
      });
    }
    if (location.newCacheIndex) {
      early.push({
        kind: "index-in-cache",
        path: location.path,
        message: `${root} is not writable here: its index is kept in ${location.path} (built now from the metadata.json files)`,
      });
    }
    const isDamage = (e: unknown): e is ModelLibraryError => e instanceof ModelLibraryError && e.code === "E_CORRUPT";
    let index: ModelIndex;
    try {
      index = ModelIndex.open(location.path);
    } catch (e) {
      if (!isDamage(e)) throw e;
      // Damaged beyond opening: moved aside and rebuilt from the metadata.json files, under a lock so that
      // two processes opening at once do not both move a file aside (the second would move the new one).
      index = await withLock(`${location.path}.rebuild.lock`, async () => {
        try {
          return ModelIndex.open(location.path); // replaced meanwhile by another process
        } catch (again) {
          if (!isDamage(again)) throw again;
        }
        const aside = ModelIndex.moveAside(location.path);
        const fresh = ModelIndex.open(location.path);
        early.push(rebuiltNotice(location.path, aside, e, rebuildIndexSync(root, fresh)));
        return fresh;
      });
    }
    const lib = new ModelLibrary(root, index, location.writable, options.onNotice);
    for (const n of early) lib.notice(n);
    lib.cleanStaging(leaseTimings(options.leaseTimings));
    const mode = options.reconcile ?? "quick";
    try {
      if (mode !== "none") lib.lastReconcile = await lib.reconcile(mode);
    } catch (e) {
      // A full disk: the index cannot take what changed on disk since, but the library opens as it is, so that
      // `mlib rm` can free space; the next open with room brings the index up to date.
      if (!isDiskFull(e)) throw e;
      lib.notice({ kind: "index-behind", path: index.dbPath, message: `${(e as Error).message}: the index may miss changes made outside mlib until there is room again` });
    }
    return lib;
  }

  private notice(n: LibraryNotice): void {
    this.notices.push(n);
    this.onNotice?.(n);
  }

  /** The index file turned out damaged during a call: move it aside, rebuild it, tell the user (ModelIndex retries the call). */
  private recoverIndex(error: ModelLibraryError): void {
    const aside = this.index.replaceDamaged();
    const report = rebuildIndexSync(this.root, this.index);
    this.notice(rebuiltNotice(this.index.dbPath, aside, error, report));
  }

  private cleanStaging(timings: LeaseTimings): void {
    const report = cleanStaging(this.root, { timings, removeNothing: !this.writable });
    this.staging = report;
    for (const r of report.removed) this.notice({ kind: "staging-removed", path: r.path, message: `removed ${r.path}, left behind by an import or a removal that is over (${r.why})` });
    // An import by a process seen running here is business as usual; one whose owner cannot be checked
    // (another host or PID namespace, no lease) is worth a line: the user may know it is dead.
    for (const r of report.leftAlone) {
      if (!r.running) this.notice({ kind: "staging-left", path: r.path, message: `left the import folder ${r.path} in place: ${r.why}` });
    }
    for (const o of report.original) {
      if (o.ageMs < ORIGINAL_STAGING_QUIET_MS) continue;
      this.notice({
        kind: "original-staging",
        path: o.path,
        message: `${o.path}: an import folder of the original program, unchanged for ${Math.round(o.ageMs / 3_600_000)} h; left as it is (remove it yourself if no import is running)`,
      });
    }
  }

  close(): void {
    this.index.close();
  }

  /** Absolute folder of a model id; ids are `/`-separated paths relative to the root. */
  modelDir(id: string): string {
    if (!isSafeId(id)) throw new ModelLibraryError("E_INVALID", `invalid model id "${id}"`);
    return this.pathOf(id);
  }

  /**
   * The folder of a safe id (isSafeId): the root is resolved and the id has no empty, "." or ".." part, so
   * joining by "/" is what join() gives, without its cost (a 10,000-model map apply asks twice per model).
   */
  private pathOf(id: string): string {
    return this.root === "/" ? `/${id}` : `${this.root}/${id}`;
  }

  /** `{type}/{family}/{name}`, each part normalized ("Llama 2 7B" → llm/llama/llama_2_7b, as the original). */
  buildModelId(modelType: string, family: string | null, name: string): string {
    return [normalizeName(modelType || "unknown"), normalizeName(family || "unknown"), normalizeName(name)].join("/");
  }

  /** Reads a model's metadata.json; E_NOT_FOUND for an unknown id (never creates anything). */
  async getMetadata(id: string): Promise<ModelMetadata> {
    const file = join(this.modelDir(id), METADATA_FILE);
    const raw = metadataJson(file, () => corruptMetadata(file, id));
    if (raw === undefined) throw new ModelLibraryError("E_NOT_FOUND", `model "${id}" not found (no ${file})`, { path: file });
    // `[]`, `null` (a bad hand edit): damaged, never read as a blank model (an edit would write that blank over
    // it, and its .bak, the last good version, would be replaced by the damaged one).
    if (!isJsonObject(raw)) throw corruptMetadata(file, id, "valid JSON but not an object");
    return normalizeMetadata(raw);
  }

  /** Writes metadata.json atomically (keeping metadata.json.bak) and updates the index row in step. */
  async saveMetadata(id: string, metadata: ModelMetadata): Promise<void> {
    const dir = this.modelDir(id);
    try {
      await stat(dir);
    } catch {
      throw new ModelLibraryError("E_NOT_FOUND", `model "${id}" not found (${dir} does not exist)`, { path: dir });
    }
    await writeJsonAtomic(join(dir, METADATA_FILE), serializeMetadata(metadata), { backup: true });
    await this.indexWritten(id, join(dir, METADATA_FILE));
  }

  /**
   * Indexes a model whose metadata.json was just written. An index that cannot take the row (disk full) is
   * said as it is: the file holds the change, and the index catches up from it on a later open.
   */
  private async indexWritten(id: string, file: string): Promise<void> {
    try {
      await this.indexModel(id);
    } catch (e) {
      if (!(e instanceof ModelLibraryError) || e.code !== "E_IO") throw e;
      throw new ModelLibraryError("E_IO", `${file} was saved, but ${e.message}; the index catches up from it once space is freed`, { path: e.path, cause: e });
    }
  }

  /**
   * Read-modify-write of one model's metadata under the commit lock, so two processes never lose an update.
   * `touch: false` keeps updated_date (a bookkeeping field written, the model itself unchanged). A `change` that
   * returns UNCHANGED (it decided, on what it read under the lock, to change nothing) writes nothing.
   */
  async updateMetadata(id: string, change: (m: ModelMetadata) => unknown, options: { touch?: boolean } = {}): Promise<ModelMetadata> {
    return withLock(join(this.root, COMMIT_LOCK), async () => {
      const m = await this.getMetadata(id);
      if (change(m) === UNCHANGED) return m;
      if (options.touch !== false) m.updated_date = nowIso();
      await this.saveMetadata(id, m);
      return m;
    });
  }

  async loadOverrides(id: string): Promise<ModelOverrides | null> {
    const raw = await readJson<ModelOverrides>(join(this.modelDir(id), OVERRIDES_FILE));
    return raw ? { ...raw, version_ranges: raw.version_ranges ?? null } : null;
  }

  async saveOverrides(id: string, overrides: ModelOverrides): Promise<void> {
    await this.getMetadata(id); // unknown id → E_NOT_FOUND, never a new folder
    await writeJsonAtomic(join(this.modelDir(id), OVERRIDES_FILE), overrides);
  }

  /** (Re)indexes one model from its metadata.json; removes it from the index when the file is gone. */
  async indexModel(id: string): Promise<ModelRecord | null> {
    const dir = this.modelDir(id);
    let record;
    try {
      record = await readRecord(id, dir);
    } catch (e) {
      if (e instanceof ModelLibraryError) throw e;
      if ((e as NodeJS.ErrnoException).code === "ENOENT") {
        this.index.delete(id);
        this.unindexed.delete(id);
        return null;
      }
      throw ioError(join(dir, METADATA_FILE), "read", e);
    }
    try {
      this.index.upsert(record);
    } catch (e) {
      this.unindexed.add(id);
      throw e;
    }
    this.unindexed.delete(id);
    return this.index.get(id);
  }

  /** Indexes the models whose row could not be written earlier (see unindexed); E_IO while the index still cannot take them. */
  async catchUpIndex(): Promise<void> {
    for (const id of [...this.unindexed]) {
      try {
        await this.indexModel(id);
      } catch (e) {
        if (!(e instanceof ModelLibraryError)) throw e;
        throw new ModelLibraryError(e.code, `${this.modelDir(id)} is stored but not yet in the index, and ${e.message}: free some space first`, { path: e.path, cause: e });
      }
    }
  }

  /**
   * Re-reads the metadata.json of these models where it changed since indexed (mtime/size), so what a
   * command prints is what the files say; returns the ids whose row changed.
   */
  refresh(ids: string[]): string[] {
    return refreshModels(this.root, this.index, ids).changed;
  }

  /** Brings the index in step with the metadata files: "quick" (folder listings), or "full" (a stat of every metadata.json). */
  async reconcile(mode: ReconcileMode = "full", options: { signal?: AbortSignal } = {}): Promise<ReconcileReport> {
    this.lastReconcile = await reconcileIndex(this.root, this.index, mode, options.signal);
    return this.lastReconcile;
  }

  /**
   * Full rebuild of the index from every metadata.json (`mlib reindex`). `signal` stops it between batches
   * (E_CANCELLED): the rebuild is one transaction, so the old index stays as it was.
   */
  async reindex(options: { signal?: AbortSignal } = {}): Promise<ReconcileReport> {
    try {
      return await this.reconcile("rebuild", options);
    } catch (e) {
      // The load writes through a bulk loader, outside the index's own damage guard.
      const damage = this.index.damageOf(e);
      if (!damage) throw e;
      this.index.recoverFrom(damage); // moves the file aside and rebuilds (what was asked)
      return (this.lastReconcile = await this.reconcile("quick"));
    }
  }

  get(id: string): ModelRecord | null {
    return this.index.get(id);
  }

  /** Like get(), but an unknown id is an error naming it; the row is refreshed from metadata.json first. */
  require(id: string): ModelRecord {
    const clean = id.replace(/\/+$/, "");
    let valid = true;
    try {
      this.modelDir(clean);
    } catch {
      valid = false;
    }
    if (valid) this.refresh([clean]);
    const rec = valid ? this.index.get(clean) : null;
    if (!rec) throw new ModelLibraryError("E_NOT_FOUND", `model "${id}" not found in ${this.root}`);
    return rec;
  }

  /** Search; the models of the page are checked against their metadata.json first (see refresh). */
  search(query: string, options: SearchOptions = {}): SearchResult {
    const result = this.index.search(query, options);
    // A model edited by hand since indexed: its row is refreshed and the page asked for again, so the
    // match, order and fields are the files' (one pass: the new page is what the index now says).
    return this.refresh(result.models.map((m) => m.id)).length > 0 ? this.index.search(query, options) : result;
  }

  /**
   * Every model with the fields mapping rules match and its files (ModelIndex.modelFiles), each checked
   * against its metadata.json first as search() checks a page: one stat a model, compared with the stat the
   * row was indexed at; only the models whose file changed (or went) are read again.
   */
  modelFiles(): ModelFilesRecord[] {
    const all = this.index.modelFiles();
    const stale = all.filter((m) => {
      const dir = isSafeId(m.id) ? this.pathOf(m.id) : join(this.root, ...m.id.split("/"));
      const st = statSync(`${dir}/${METADATA_FILE}`, NO_THROW);
      return !st || st.mtimeMs !== m.metaMtimeMs || st.size !== m.metaSize;
    });
    return stale.length > 0 && this.refresh(stale.map((m) => m.id)).length > 0 ? this.index.modelFiles() : all;
  }

  list(options: SearchOptions = {}): SearchResult {
    return this.search("", options);
  }

  /** How many of the models a query and filters match fall in each type, subtype, family, format, quantization and tag. */
  facets(query: string, filters: SearchFilters = {}): Facets {
    return this.index.facets(query, filters);
  }

  findByHash(hash: string): ModelRecord | null {
    return this.index.findByHash(hash.toLowerCase());
  }

  /** Which of these hashes some model of the library holds (lowercased; one index query for all of them). */
  knownHashes(hashes: Iterable<string>): Set<string> {
    return this.index.knownHashes(hashes);
  }

  /** Files already in the library with this size and fast hash (the importer's cheap duplicate pre-check). */
  findFilesBySizeAndFastHash(size: number, fastHash: string): FileMatch[] {
    return this.index.findFilesBySizeAndFastHash(size, fastHash);
  }

  /** How many models the index holds. */
  count(): number {
    return this.index.count();
  }

  /** Each indexed model's metadata.json mtime and size as last read: what a walk of the folders compares with. */
  indexedState(): Map<string, { metaMtimeMs: number; metaSize: number }> {
    return this.index.syncState();
  }

  /**
   * Drops a model's index row, for a model whose metadata.json or folder is gone (the watcher, after the fact);
   * touches no file. False when there was no such row. (To delete a model, files and all: remove().)
   */
  unindex(id: string): boolean {
    return this.index.delete(id);
  }

  stats(): IndexStats {
    return this.index.stats();
  }

  /**
   * Deletes a model: its index row, then its folder, then the family and type folders if they became empty.
   * (Links into app folders come with the mapper; there are none to remove yet.)
   */
  async remove(id: string): Promise<{ id: string; path: string; freedBytes: number }> {
    const dir = this.modelDir(id);
    return withLock(join(this.root, COMMIT_LOCK), async () => {
      // A model whose metadata.json no longer parses can still be removed (its size is then unknown).
      const meta = await this.getMetadata(id).catch((e: unknown) => {
        if (e instanceof ModelLibraryError && e.code === "E_CORRUPT") return null;
        throw e;
      });
      // One rename takes the folder out of its place first, into a staging folder under a lease: a kill -9 in the
      // middle of the deletion then leaves the model whole in its place or gone from it, never a folder holding part
      // of its files (which `adopt` or `watch` would take for a new model); the next open removes what the dead
      // process left in staging. Where the rename cannot be done (a mount point, another filesystem, no staging
      // folder can be made): in place.
      const trash = await makeStagingDir(this.root).catch(() => null);
      let gone = dir;
      if (trash) {
        try {
          await rename(dir, join(trash, "model"));
          gone = join(trash, "model");
        } catch {
          // deleted in place
        }
      }
      this.index.delete(id);
      try {
        await rm(gone, { recursive: true });
      } catch (e) {
        if (gone === dir) await this.indexModel(id).catch(() => undefined); // put the row back if anything is left
        throw ioError(gone, "delete", e); // out of its place already: the files left are where they are said to be
      } finally {
        if (trash) {
          await rm(trash, { recursive: true, force: true }).catch(() => undefined);
          releaseStaging(trash);
        }
      }
      const parts = id.split("/");
      for (let i = parts.length - 1; i >= 1; i--) {
        const parent = join(this.root, ...parts.slice(0, i));
        try {
          await rmdir(parent);
        } catch {
          break; // not empty (or not ours to remove)
        }
      }
      return { id, path: dir, freedBytes: meta?.size_bytes ?? 0 };
    });
  }

  /**
   * Restores metadata.json from metadata.json.bak (for a model whose metadata.json is corrupt). When the
   * current file still parses, it is replaced only with `force` (E_EXISTS otherwise); whatever is replaced
   * is kept as `metadata.json.replaced-<date>` (or `keepAs`). Returns where the replaced file was kept (null if none
   * was). `onlyDamaged` (the doctor's fix): a current file that parses is left alone (`restored: false`), checked
   * under the lock, so a fix another process made meanwhile is never undone and nothing is moved outside it.
   */
  async restoreMetadataBackup(
    id: string,
    options: { force?: boolean; onlyDamaged?: boolean; keepAs?: string } = {},
  ): Promise<{ keptAs: string | null; restored: boolean }> {
    const file = join(this.modelDir(id), METADATA_FILE);
    return withLock(join(this.root, COMMIT_LOCK), async () => {
      const bakFile = backupPathOf(file);
      // Read under the same limits as metadata.json itself: a 2 GB backup is refused, not restored.
      const bak = metadataJson(bakFile, () => new ModelLibraryError("E_CORRUPT", `${bakFile}: the backup is not valid JSON either`, { path: bakFile }));
      if (bak === undefined) throw new ModelLibraryError("E_NOT_FOUND", `${bakFile}: no backup to restore`, { path: file });
      if (!isJsonObject(bak)) throw new ModelLibraryError("E_CORRUPT", `${bakFile}: the backup is not a model's metadata either (valid JSON but not an object)`, { path: bakFile });
      let currentParses = false;
      try {
        currentParses = isJsonObject(metadataJson(file, () => corruptMetadata(file, id)));
      } catch {
        currentParses = false; // corrupt, too big, not a file: what restore is for
      }
      if (currentParses && options.onlyDamaged) return { keptAs: null, restored: false };
      if (currentParses && !options.force) {
        throw new ModelLibraryError(
          "E_EXISTS",
          `${file} is valid JSON: restoring ${backupPathOf(file)} would replace it (use --force; the current file is then kept as metadata.json.replaced-<date>)`,
          { path: file },
        );
      }
      // A restore killed and run again keeps the file it had kept already, not a second copy of it.
      let keptAs: string | null = options.keepAs ? null : keptAlready(file);
      if (keptAs === null && existsSync(file)) {
        keptAs = options.keepAs ?? `${file}.replaced-${new Date().toISOString().replace(/[:.]/g, "-")}`;
        try {
          // A hard link keeps it without copying (a huge hostile file is not copied); a copy where links fail.
          await link(file, keptAs).catch(() => copyFile(file, keptAs!));
        } catch (e) {
          throw ioError(keptAs, "keep the current metadata.json", e);
        }
      }
      await writeJsonAtomic(file, bak);
      await this.indexWritten(id, file);
      return { keptAs, restored: true };
    });
  }

  /** Every model id in the index, sorted. */
  /**
   * Models whose metadata.json is there but cannot be read (not JSON, wrong types): they are not in the index, so
   * search cannot find them, but list names them, verify fails on them and rm removes them. Each id the last
   * reconcile recorded is checked again here (a few stats and reads): fixed or removed ones drop out.
   */
  brokenModels(): { id: string; error: string }[] {
    const out: { id: string; error: string }[] = [];
    for (const [id, error] of Object.entries(brokenRecord(this.index))) {
      if (this.index.get(id)) continue;
      try {
        readRecordSync(id, this.modelDir(id));
      } catch (e) {
        if ((e as NodeJS.ErrnoException).code === "ENOENT") continue;
        out.push({ id, error: e instanceof Error ? e.message : error });
      }
    }
    return out.sort((a, b) => a.id.localeCompare(b.id));
  }

  allIds(): string[] {
    return this.index.allIds().sort();
  }
}

/**
 * The `metadata.json.replaced-<date>` that is already a hard link of this very metadata.json: a restore killed after
 * keeping it and before writing the backup back. The next restore keeps that one rather than a second name for it.
 */
function keptAlready(file: string): string | null {
  const st = statOrNull(file);
  if (!st) return null;
  const dir = dirname(file);
  const prefix = `${basename(file)}.replaced-`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return null;
  }
  for (const name of names) {
    if (!name.startsWith(prefix)) continue;
    const other = statOrNull(join(dir, name));
    if (other && other.ino === st.ino && other.dev === st.dev) return join(dir, name);
  }
  return null;
}

/**
 * Whether a folder without our index or the original's holds a model folder (a metadata.json up to three
 * levels down: a library copied without its dot-folders, say). Stops at the first one, and after a bounded
 * number of entries, so a mistyped --library pointing at a large folder costs little.
 */
function holdsModelFolder(root: string): boolean {
  let budget = 2000;
  let found = false;
  walkFoldersSync(
    root,
    ({ depth, entries }) => {
      budget -= entries.length;
      if (depth > 0 && entries.some((e) => e.name === METADATA_FILE && e.isFile())) found = true;
      return !found && budget > 0;
    },
    { maxDepth: 3, unreadable: "skip", enter: () => !found && budget > 0 },
  );
  return found;
}


function rebuiltNotice(dbPath: string, aside: string | null, error: ModelLibraryError, report: ReconcileReport): LibraryNotice {
  const cause = error.cause instanceof Error ? error.cause.message : error.message;
  const where = aside ? `moved it to ${aside} and rebuilt` : "another process had already replaced it; rebuilt";
  const problems = report.problems.length > 0 ? ` (${report.problems.length} unreadable metadata.json left out)` : "";
  return {
    kind: "index-rebuilt",
    path: dbPath,
    message: `the index ${dbPath} was damaged (${cause}): ${where} it from the metadata.json files: ${report.added} models${problems}`,
  };
}

/**
 * A metadata.json (or its .bak) parsed, or undefined when there is none (a file holding `null` parses to null);
 * E_CORRUPT as readMetadataText, `corrupt()` when it does not parse.
 */
function metadataJson(file: string, corrupt: () => ModelLibraryError): unknown {
  const read = readMetadataText(file);
  if (!read) return undefined;
  try {
    return JSON.parse(read.text);
  } catch {
    throw corrupt();
  }
}

function isJsonObject(v: unknown): v is Record<string, unknown> {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}
