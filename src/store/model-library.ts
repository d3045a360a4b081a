// ModelLibrary: the store on disk (`<root>/<type>/<family>/<name>/` + metadata.json) and its SQLite index.
// metadata.json files are the truth; models.db is derived and kept in step: every write through this class
// updates the index at once, and opening reconciles what other programs changed (see reconcile.ts).
import { mkdir, rm, rmdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { normalizeName } from "../formats/naming.js";
import { readJson, writeJsonAtomic, backupPathOf } from "../core/atomic-json.js";
import { withLock } from "../core/lock.js";
import { ModelIndex } from "../index/model-index.js";
import type { Facets, IndexStats, ModelRecord, SearchFilters, SearchOptions, SearchResult } from "../index/index-types.js";
import { normalizeMetadata, serializeMetadata, nowIso, type ModelMetadata } from "./metadata.js";
import { COMMIT_LOCK, DB_FILE, METADATA_FILE, OVERRIDES_FILE, defaultLibraryRoot } from "./layout.js";
import { corruptMetadata, readRecord } from "./record.js";
import { reconcileIndex, type ReconcileMode, type ReconcileReport } from "./reconcile.js";
import { cleanStaging } from "./staging.js";

export interface OpenOptions {
  /** How to bring the index in step with the files on open (default "quick"; see reconcile.ts). */
  reconcile?: ReconcileMode | "none";
}

export interface ModelOverrides {
  version_ranges: Record<string, string> | null;
  [extra: string]: unknown;
}

export class ModelLibrary {
  readonly root: string;
  readonly index: ModelIndex;
  /** What the last reconcile found (models added, changed, removed, unreadable metadata). */
  lastReconcile: ReconcileReport | null = null;

  private constructor(root: string, index: ModelIndex) {
    this.root = root;
    this.index = index;
  }

  /** Opens (creating if needed) the library at `root`, or the default root. */
  static async open(root: string = defaultLibraryRoot(), options: OpenOptions = {}): Promise<ModelLibrary> {
    try {
      await mkdir(root, { recursive: true });
    } catch (e) {
      throw ioError(root, "create the library folder", e);
    }
    const st = await stat(root);
    if (!st.isDirectory()) throw new ModelLibraryError("E_INVALID", `${root}: not a folder`, { path: root });
    const index = ModelIndex.open(join(root, DB_FILE));
    const lib = new ModelLibrary(root, index);
    await cleanStaging(root);
    const mode = options.reconcile ?? "quick";
    if (mode !== "none") lib.lastReconcile = await lib.reconcile(mode);
    return lib;
  }

  close(): void {
    this.index.close();
  }

  /** Absolute folder of a model id; ids are `/`-separated paths relative to the root. */
  modelDir(id: string): string {
    if (!id || id.startsWith("/") || id.split("/").some((p) => p === "" || p === "." || p === "..")) {
      throw new ModelLibraryError("E_INVALID", `invalid model id "${id}"`);
    }
    return join(this.root, ...id.split("/"));
  }

  /** `{type}/{family}/{name}`, each part normalized (original §2.1). */
  buildModelId(modelType: string, family: string | null, name: string): string {
    return [normalizeName(modelType || "unknown"), normalizeName(family || "unknown"), normalizeName(name)].join("/");
  }

  /** Reads a model's metadata.json; E_NOT_FOUND for an unknown id (never creates anything). */
  async getMetadata(id: string): Promise<ModelMetadata> {
    const file = join(this.modelDir(id), METADATA_FILE);
    let raw: unknown;
    try {
      raw = await readJson(file);
    } catch (e) {
      throw e instanceof ModelLibraryError && e.code === "E_CORRUPT" ? corruptMetadata(file, id) : e;
    }
    if (raw === null) throw new ModelLibraryError("E_NOT_FOUND", `model "${id}" not found (no ${file})`, { path: file });
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
    await this.indexModel(id);
  }

  /** Read-modify-write of one model's metadata under the commit lock, so two processes never lose an update. */
  async updateMetadata(id: string, change: (m: ModelMetadata) => void): Promise<ModelMetadata> {
    return withLock(join(this.root, COMMIT_LOCK), async () => {
      const m = await this.getMetadata(id);
      change(m);
      m.updated_date = nowIso();
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
        return null;
      }
      throw ioError(join(dir, METADATA_FILE), "read", e);
    }
    this.index.upsert(record);
    return this.index.get(id);
  }

  /** Brings the index in step with the metadata files: "quick" (folder listings), or "full" (a stat of every metadata.json). */
  async reconcile(mode: ReconcileMode = "full"): Promise<ReconcileReport> {
    this.lastReconcile = await reconcileIndex(this.root, this.index, mode);
    return this.lastReconcile;
  }

  /** Full rebuild of the index from every metadata.json (`mlib reindex`). */
  async reindex(): Promise<ReconcileReport> {
    return this.reconcile("rebuild");
  }

  get(id: string): ModelRecord | null {
    return this.index.get(id);
  }

  /** Like get(), but an unknown id is an error naming it. */
  require(id: string): ModelRecord {
    const rec = this.index.get(id.replace(/\/+$/, ""));
    if (!rec) throw new ModelLibraryError("E_NOT_FOUND", `model "${id}" not found in ${this.root}`);
    return rec;
  }

  search(query: string, options: SearchOptions = {}): SearchResult {
    return this.index.search(query, options);
  }

  list(options: SearchOptions = {}): SearchResult {
    return this.index.search("", options);
  }

  /** How many of the models a query and filters match fall in each type, subtype, family, format, quantization and tag. */
  facets(query: string, filters: SearchFilters = {}): Facets {
    return this.index.facets(query, filters);
  }

  findByHash(hash: string): ModelRecord | null {
    return this.index.findByHash(hash.toLowerCase());
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
      this.index.delete(id);
      try {
        await rm(dir, { recursive: true });
      } catch (e) {
        await this.indexModel(id).catch(() => undefined); // put the row back if anything is left
        throw ioError(dir, "delete", e);
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

  /** Restores metadata.json from metadata.json.bak (for a model whose metadata.json is corrupt). */
  async restoreMetadataBackup(id: string): Promise<void> {
    const file = join(this.modelDir(id), METADATA_FILE);
    const bak = await readJson(backupPathOf(file));
    if (bak === null) throw new ModelLibraryError("E_NOT_FOUND", `${backupPathOf(file)}: no backup to restore`, { path: file });
    await writeJsonAtomic(file, bak);
    await this.indexModel(id);
  }

  /** Every model id in the index, sorted. */
  allIds(): string[] {
    return this.index.allIds().sort();
  }
}
