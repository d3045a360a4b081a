// watchLibrary: keeps the index in step with the library folder while it runs (`mlib watch`, the web server).
//
// Built on fs.watch of single folders (inotify, one watch per folder) rather than a recursive watcher, so the
// number of watches is ours to choose: chokidar also watches every file it sees, which at 100k models would
// take more inotify watches than the machine allows. Two modes:
//   "all-folders":          every container (root, type, family folders) and every model folder is watched; an
//                           edited metadata.json, a new or removed model folder is re-indexed within the debounce.
//   "containers+rescan":    more folders than the budget (a quarter of max_user_watches), or the kernel refused
//                           a watch: only containers and folders being adopted are watched (new and removed
//                           models still seen at once), and every `rescanMs` a stat-based reconcile finds
//                           metadata.json files edited in place.
// Only what changed is re-indexed: events name a folder, the folder is looked at after the debounce, and only
// that folder's model is read. The library's own writes (ignore.ts) are not events; a metadata.json we wrote
// ourselves is recognised by its size+mtime already being in the index, so after changes settle nothing runs.
import { watch, type FSWatcher } from "node:fs";
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { ModelLibraryError } from "../core/errors.js";
import { walkFolders } from "../core/walk.js";
import { isModelFileName } from "../formats/sniff.js";
import { missingShardNames, shardInfoOf } from "../formats/sharding.js";
import { identify } from "../identify/identify.js";
import { importInPlace } from "../operations/import-in-place.js";
import { COPY_SETTLE_MS } from "../operations/find-orphans.js";
import type { ModelLibrary } from "../store/model-library.js";
import { METADATA_FILE } from "../store/layout.js";
import { isIgnoredName } from "./ignore.js";
import { defaultWatchBudget } from "./watch-budget.js";

export type WatchMode = "all-folders" | "containers+rescan";

export type WatchEvent =
  | { type: "ready"; mode: WatchMode; watchedFolders: number; models: number; rescanMs: number | null }
  | { type: "mode"; mode: WatchMode; reason: string }
  | { type: "indexed"; id: string }
  | { type: "removed"; id: string }
  | { type: "waiting"; dir: string; reason: string }
  | { type: "adopted"; id: string }
  | { type: "incomplete"; dir: string; missing: string[] }
  | { type: "refused"; dir: string; reason: string }
  | { type: "rescan"; added: number; updated: number; removed: number }
  | { type: "error"; path: string; message: string };

export interface WatchOptions {
  /** Stops the watcher when it fires. */
  signal?: AbortSignal;
  /** Events are gathered for this long before the folders they name are looked at (default 100 ms). */
  debounceMs?: number;
  /** A folder of new model files is adopted once no file in it changed size or mtime for this long (default 2 s). */
  settleMs?: number;
  onEvent?: (event: WatchEvent) => void;
  /** Adopt pickle files too (the import policy: refused unless the user says they know; CLI --allow-pickle). */
  allowPickle?: boolean;
  /** Most folders to watch before falling back to containers + rescan (default: a quarter of max_user_watches). */
  maxWatches?: number;
  /** The periodic reconcile of "containers+rescan" mode (default 60 s). */
  rescanMs?: number;
}

export interface LibraryWatcher {
  readonly mode: WatchMode;
  /** Folders watched now. */
  watchedFolders(): number;
  /** Resolves once every change seen so far has been processed (for tests and callers that just wrote). */
  flush(): Promise<void>;
  close(): Promise<void>;
  /** Resolves when the watcher has stopped (closed, or the signal fired). */
  readonly closed: Promise<void>;
}

// Models live at <type>/<family>/<name>; the reconcile walks up to 8 levels and so do we.
const MAX_DEPTH = 8;
// A burst of this many events in one debounce window may have overflowed the kernel's queue (16384 by
// default; Node does not report IN_Q_OVERFLOW): a full reconcile follows it.
const BURST_EVENTS = 4096;

type Kind = "container" | "model" | "candidate";

interface Candidate {
  snapshot: string;
  since: number;
  /** The snapshot a verdict (incomplete, refused, failed) was given for: not repeated until the files change. */
  judged: string | null;
}

export async function watchLibrary(lib: ModelLibrary, options: WatchOptions = {}): Promise<LibraryWatcher> {
  const w = new Watcher(lib, options);
  await w.start();
  return w;
}

class Watcher implements LibraryWatcher {
  mode: WatchMode = "all-folders";
  readonly closed: Promise<void>;
  private resolveClosed!: () => void;
  private readonly debounceMs: number;
  private readonly settleMs: number;
  private readonly budget: number;
  private readonly rescanMs: number;
  private readonly kinds = new Map<string, Kind>();
  private readonly watchers = new Map<string, FSWatcher>();
  private readonly candidates = new Map<string, Candidate>();
  /** size+mtime of each metadata.json as last indexed: an event for a file already indexed is no work. */
  private indexedStat = new Map<string, { metaMtimeMs: number; metaSize: number }>();
  private dirty = new Set<string>();
  private eventsInWindow = 0;
  private debounceTimer: NodeJS.Timeout | null = null;
  private settleTimer: NodeJS.Timeout | null = null;
  private rescanTimer: NodeJS.Timeout | null = null;
  private chain: Promise<void> = Promise.resolve();
  private stopped = false;
  /** Fired by close(): the work under way (an adoption's hashing, a rescan) stops at its next safe point. */
  private readonly stopping = new AbortController();

  constructor(
    private readonly lib: ModelLibrary,
    private readonly options: WatchOptions,
  ) {
    this.debounceMs = options.debounceMs ?? 100;
    this.settleMs = options.settleMs ?? COPY_SETTLE_MS;
    this.budget = options.maxWatches ?? defaultWatchBudget();
    this.rescanMs = options.rescanMs ?? 60_000;
    this.closed = new Promise((r) => (this.resolveClosed = r));
  }

  private emit(e: WatchEvent): void {
    try {
      this.options.onEvent?.(e);
    } catch {
      // a listener's failure is not the watcher's
    }
  }

  async start(): Promise<void> {
    const signal = this.options.signal;
    if (signal?.aborted) throw new ModelLibraryError("E_CANCELLED", "watch cancelled before it started");
    // Listened to before the first walk (seconds at 100k models): a signal fired during it stops the watcher.
    signal?.addEventListener("abort", () => void this.close(), { once: true });
    const models: string[] = [];
    const containers: string[] = [];
    const candidates: string[] = [];
    this.indexedStat = this.lib.indexedState();
    await this.walk(new Set(this.indexedStat.keys()), models, containers, candidates);
    if (this.stopped) return;
    if (containers.length + candidates.length + models.length > this.budget) this.mode = "containers+rescan";
    for (const rel of containers) this.addWatch(rel);
    for (const rel of candidates) this.addWatch(rel);
    if (this.mode === "all-folders") for (const rel of models) this.addWatch(rel);
    this.emit({ type: "ready", mode: this.mode, watchedFolders: this.watchers.size, models: models.length, rescanMs: this.mode === "containers+rescan" ? this.rescanMs : null });
    // Anything that changed before the watches were in place (or while no watcher ran): one stat-based pass,
    // queued first, so events that arrive meanwhile are processed after it (at 100k models it takes seconds).
    this.enqueue(() => this.rescan());
    for (const rel of candidates) this.markDirty(rel);
    if (this.mode === "containers+rescan") this.startRescans();
  }

  watchedFolders(): number {
    return this.watchers.size;
  }

  /** Lists the tree once: model folders (known to the index, or holding metadata.json), containers, and candidates. */
  private async walk(known: Set<string>, models: string[], containers: string[], candidates: string[]): Promise<void> {
    const modelSet = new Set<string>();
    await walkFolders(
      this.lib.root,
      async ({ rel, depth, entries }) => {
        const childModels: string[] = [];
        for (const e of entries) {
          if (!e.isDirectory()) continue;
          const c = rel ? `${rel}/${e.name}` : e.name;
          if (known.has(c) || (await stat(join(this.abs(c), METADATA_FILE)).catch(() => null))) childModels.push(c);
        }
        for (const c of childModels) {
          this.kinds.set(c, "model");
          modelSet.add(c);
        }
        models.push(...childModels);
        if (depth >= 1 && childModels.length === 0 && entries.some((e) => e.isFile() && isModelFileName(e.name))) {
          this.kinds.set(rel, "candidate");
          candidates.push(rel);
          return false;
        }
        this.kinds.set(rel, "container");
        containers.push(rel);
        return true;
      },
      // Names the watcher ignores are not looked at (nor are hidden ones); a model folder is not entered, an
      // unreadable folder is as if empty (its events, if any come, are looked at then).
      { maxDepth: MAX_DEPTH, skip: (e) => isIgnoredName(e.name), unreadable: "skip", enter: (_abs, _e, rel) => !modelSet.has(rel) },
    );
  }

  private abs(rel: string): string {
    return rel ? join(this.lib.root, ...rel.split("/")) : this.lib.root;
  }

  private addWatch(rel: string): void {
    if (this.stopped || this.watchers.has(rel)) return;
    const kind = this.kinds.get(rel);
    if (this.mode === "containers+rescan" && kind === "model") return;
    if (this.watchers.size >= this.budget && kind === "model") {
      this.fallBack(`more than ${this.budget} folders to watch`);
      return;
    }
    let fw: FSWatcher;
    try {
      fw = watch(this.abs(rel), { persistent: true }, (_type, name) => this.onFsEvent(rel, name === null ? null : String(name)));
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === "ENOSPC" || code === "EMFILE") {
        this.fallBack(`the system refused another watch (${code}: inotify limit reached)`);
      } else if (code !== "ENOENT") {
        this.emit({ type: "error", path: this.abs(rel), message: `cannot watch: ${(e as Error).message}` });
      }
      return;
    }
    fw.on("error", () => {
      // The folder went away (or the watch broke): look at it again, which forgets it if it is gone.
      this.closeWatch(rel);
      this.markDirty(rel);
    });
    this.watchers.set(rel, fw);
  }

  private closeWatch(rel: string): void {
    const fw = this.watchers.get(rel);
    if (fw) {
      fw.close();
      this.watchers.delete(rel);
    }
  }

  /** Too many folders: keep watching containers and adoptions, drop model-folder watches, rescan periodically. */
  private fallBack(reason: string): void {
    if (this.mode === "containers+rescan") return;
    this.mode = "containers+rescan";
    for (const [rel, kind] of this.kinds) if (kind === "model") this.closeWatch(rel);
    this.startRescans();
    this.emit({ type: "mode", mode: this.mode, reason });
  }

  /**
   * The periodic rescan of containers+rescan mode. The next one waits at least 20x as long as the last took, so
   * rescans never take more than ~5 % of a core (at 100k models one took 6 s on a loaded 2-core machine).
   */
  private startRescans(): void {
    if (this.rescanTimer || this.stopped) return;
    const schedule = (delay: number): void => {
      this.rescanTimer = setTimeout(() => {
        const t0 = performance.now();
        void this.enqueue(() => this.rescan()).then(() => {
          if (!this.stopped) schedule(Math.max(this.rescanMs, 20 * (performance.now() - t0)));
        });
      }, delay);
      this.rescanTimer.unref();
    };
    schedule(this.rescanMs);
  }

  private onFsEvent(rel: string, name: string | null): void {
    if (this.stopped) return;
    if (name === null) {
      this.markDirty(rel); // the kernel did not say which entry: look at the whole folder
      return;
    }
    if (rel !== "" && name === rel.slice(rel.lastIndexOf("/") + 1)) {
      // Named after the watched folder itself: it was removed or moved away (inotify's DELETE_SELF / MOVE_SELF).
      // This watch is dead even if a folder of that name comes back (made again, another renamed into its place):
      // closed, and look() watches whatever is there now. (A child of the same name: one needless re-watch.)
      this.closeWatch(rel);
      this.markDirty(rel);
    }
    if (isIgnoredName(name)) return;
    const kind = this.kinds.get(rel);
    if (kind === "model") {
      if (name === METADATA_FILE) this.markDirty(rel);
      return;
    }
    if (kind === "candidate") {
      this.markDirty(rel);
      return;
    }
    // A container: the entry may be a new or removed folder; a model file dropped here makes it a candidate, and
    // a metadata.json written after its folder was made (mkdir, then a slow writer) makes it a model.
    if (rel === "" && !name.includes("/")) this.markDirty(name);
    else this.markDirty(`${rel}/${name}`);
    if (rel !== "" && (name === METADATA_FILE || isModelFileName(name))) this.markDirty(rel);
  }

  private markDirty(rel: string): void {
    if (this.stopped) return;
    this.dirty.add(rel);
    this.eventsInWindow++;
    if (!this.debounceTimer) {
      // A fixed window from the first event (not reset by later ones): a change is processed within the
      // debounce even while a file is rewritten continuously; later events land in the next window.
      this.debounceTimer = setTimeout(() => {
        this.debounceTimer = null;
        const batch = this.dirty;
        const burst = this.eventsInWindow >= BURST_EVENTS;
        this.dirty = new Set();
        this.eventsInWindow = 0;
        this.enqueue(async () => {
          for (const rel of sortByDepth(batch)) await this.look(rel);
          if (burst) await this.rescan();
        });
      }, this.debounceMs);
    }
  }

  /** Runs `task` after every task queued before it: the index sees one writer from this watcher at a time. */
  private enqueue(task: () => Promise<void>): Promise<void> {
    const next = this.chain.then(async () => {
      if (this.stopped) return;
      try {
        await task();
      } catch (e) {
        if (!this.stopped) this.emit({ type: "error", path: this.lib.root, message: (e as Error).message });
      }
    });
    this.chain = next;
    return next;
  }

  /** Looks at one folder after events named it, and brings the index and the watches in step with it. */
  private async look(rel: string): Promise<void> {
    if (this.stopped) return;
    const depth = rel === "" ? 0 : rel.split("/").length;
    if (depth > MAX_DEPTH) return;
    const abs = this.abs(rel);
    const st = await stat(abs).catch(() => null);
    if (!st?.isDirectory()) {
      this.forget(rel);
      return;
    }
    if (rel !== "") {
      const metaStat = await stat(join(abs, METADATA_FILE)).catch(() => null);
      if (metaStat?.isFile()) {
        this.candidates.delete(rel);
        this.setKind(rel, "model");
        if (this.mode === "all-folders") this.addWatch(rel); // (a watch closed because the folder was replaced)
        const known = this.indexedStat.get(rel);
        // Our own write, already indexed: nothing to do.
        if (known && known.metaMtimeMs === metaStat.mtimeMs && known.metaSize === metaStat.size) return;
        try {
          await this.lib.indexModel(rel);
          this.indexedStat.set(rel, { metaMtimeMs: metaStat.mtimeMs, metaSize: metaStat.size });
          this.emit({ type: "indexed", id: rel });
        } catch (e) {
          this.emit({ type: "error", path: join(abs, METADATA_FILE), message: (e as Error).message });
        }
        return;
      }
      if (this.kinds.get(rel) === "model" || this.lib.get(rel)) {
        // metadata.json removed, folder kept: the model leaves the index; its files may be adopted again.
        this.indexedStat.delete(rel);
        if (this.lib.unindex(rel)) this.emit({ type: "removed", id: rel });
      }
    }
    const entries = await readdir(abs, { withFileTypes: true }).catch(() => []);
    const childDirs = entries.filter((e) => e.isDirectory() && !isIgnoredName(e.name)).map((e) => (rel ? `${rel}/${e.name}` : e.name));
    const hasModelChild = childDirs.some((c) => this.kinds.get(c) === "model");
    const weights = entries.some((e) => e.isFile() && isModelFileName(e.name) && !isIgnoredName(e.name));
    if (depth >= 1 && weights && !hasModelChild) {
      this.setKind(rel, "candidate");
      this.addWatch(rel);
      await this.settle(rel, entries.some((e) => e.name.endsWith(".part")));
      return;
    }
    this.candidates.delete(rel);
    this.setKind(rel, "container");
    this.addWatch(rel);
    // Folders moved in whole (a tree copied or renamed into the library) bring children nobody reported: each is
    // looked at as if an event named it. (Not core/walk.ts: look() knows a model by one stat of its metadata.json
    // before any listing, and a folder that is gone must be forgotten, which a walker's listing cannot tell apart.)
    for (const c of childDirs) if (!this.kinds.has(c)) await this.look(c);
  }

  private setKind(rel: string, kind: Kind): void {
    const before = this.kinds.get(rel);
    if (before === kind) return;
    this.kinds.set(rel, kind);
    if (kind === "model" && this.mode === "containers+rescan") this.closeWatch(rel);
    else if (kind === "model") this.addWatch(rel);
  }

  /** A folder (or file) is gone: its watches and whatever the index holds under it leave. */
  private forget(rel: string): void {
    // A file, or a folder never seen and not indexed: nothing of it is watched or indexed (no index scan).
    if (!this.kinds.has(rel) && !this.lib.get(rel)) return;
    const prefix = `${rel}/`;
    for (const k of [...this.kinds.keys()]) {
      if (k === rel || k.startsWith(prefix)) {
        this.kinds.delete(k);
        this.candidates.delete(k);
        this.indexedStat.delete(k);
        this.closeWatch(k);
      }
    }
    const ids = this.lib.get(rel) ? [rel] : this.lib.allIds().filter((id) => id.startsWith(prefix));
    for (const id of ids) if (this.lib.unindex(id)) this.emit({ type: "removed", id });
  }

  /** A folder with model files and no metadata.json: adopted once nothing in it changed for settleMs. */
  private async settle(rel: string, downloading: boolean): Promise<void> {
    const abs = this.abs(rel);
    const files = await listFiles(abs);
    const snapshot = files.map((f) => `${f.name}\0${f.size}\0${f.mtimeMs}`).join("\n");
    const now = Date.now();
    let c = this.candidates.get(rel);
    if (!c || c.snapshot !== snapshot) {
      const first = !c;
      c = { snapshot, since: now, judged: c?.judged ?? null };
      this.candidates.set(rel, c);
      if (first) this.emit({ type: "waiting", dir: abs, reason: downloading ? "a download is in progress (.part)" : `waiting until its files stop changing (${this.settleMs} ms)` });
    }
    if (downloading || c.judged === snapshot) return;
    if (now - c.since < this.settleMs) {
      this.scheduleSettle();
      return;
    }
    c.judged = snapshot;
    await this.adopt(rel, files.filter((f) => !f.name.startsWith(".")).map((f) => f.name));
    if (this.kinds.get(rel) === "model") this.candidates.delete(rel);
  }

  /** One timer for the earliest candidate due; none when nothing is waiting (no CPU once settled). */
  private scheduleSettle(): void {
    if (this.stopped) return;
    if (this.settleTimer) clearTimeout(this.settleTimer);
    let due = Infinity;
    for (const c of this.candidates.values()) if (c.judged !== c.snapshot) due = Math.min(due, c.since + this.settleMs);
    if (due === Infinity) {
      this.settleTimer = null;
      return;
    }
    this.settleTimer = setTimeout(() => {
      this.settleTimer = null;
      for (const [rel, c] of this.candidates) if (c.judged !== c.snapshot) this.dirty.add(rel);
      this.markDirty(this.dirty.values().next().value ?? "");
    }, Math.max(0, due - Date.now()) + 5);
  }

  private async adopt(rel: string, names: string[]): Promise<void> {
    const abs = this.abs(rel);
    const weights = names.filter((n) => isModelFileName(n));
    const missing = missingShards(weights);
    if (missing.length > 0) {
      this.emit({ type: "incomplete", dir: abs, missing });
      return;
    }
    if (!this.options.allowPickle) {
      for (const wname of weights) {
        const ident = await identify(join(abs, wname)).catch(() => null);
        if (ident?.securityTier === "pickle") {
          this.emit({ type: "refused", dir: abs, reason: `${wname} is a pickle (loading it can run code); not adopted without --allow-pickle` });
          return;
        }
      }
    }
    const parts = rel.split("/");
    const name = parts[parts.length - 1].replace(/_/g, " ");
    try {
      const r = await importInPlace(this.lib, {
        modelDir: abs,
        officialName: name,
        modelType: parts.length === 3 ? parts[0] : null,
        family: parts.length >= 2 && parts[parts.length - 2] !== "unknown" ? parts[parts.length - 2] : null,
      }, { signal: this.stopping.signal });
      this.setKind(rel, "model");
      this.emit({ type: "adopted", id: r.modelId });
    } catch (e) {
      if (this.stopped) return; // stopped half-way: nothing was written, the next watch adopts it
      if (e instanceof ModelLibraryError && e.code === "E_INCOMPLETE") this.emit({ type: "incomplete", dir: abs, missing: [e.message] });
      else this.emit({ type: "error", path: abs, message: (e as Error).message });
    }
  }

  /** The stat-based reconcile: catches in-place edits in fallback mode, and anything a burst may have dropped. */
  private async rescan(): Promise<void> {
    const r = await this.lib.reconcile("full", { signal: this.stopping.signal });
    for (const p of r.problems) this.emit({ type: "error", path: p.id, message: p.error });
    if (r.added + r.updated + r.removed === 0) return;
    // Models the rescan found become known here too (watched in all-folders mode, forgotten when removed), and a
    // folder holding them that no event announced is looked at (and watched).
    const ids = new Set(this.lib.allIds());
    for (const id of ids) {
      if (this.kinds.get(id) === "model") continue;
      this.setKind(id, "model");
      const parent = id.includes("/") ? id.slice(0, id.lastIndexOf("/")) : "";
      if (!this.kinds.has(parent)) this.markDirty(parent);
    }
    for (const [rel, kind] of this.kinds) {
      if (kind === "model" && !ids.has(rel)) {
        this.kinds.delete(rel);
        this.closeWatch(rel);
        this.indexedStat.delete(rel);
      }
    }
    this.emit({ type: "rescan", added: r.added, updated: r.updated, removed: r.removed });
  }

  async flush(): Promise<void> {
    // Events already delivered sit in the debounce window: run it now, then wait for the queue to drain.
    await new Promise((r) => setTimeout(r, 20));
    if (this.debounceTimer) {
      await new Promise((r) => setTimeout(r, this.debounceMs + 10));
    }
    let last: Promise<void>;
    do {
      last = this.chain;
      await last;
    } while (last !== this.chain || this.debounceTimer);
  }

  async close(): Promise<void> {
    if (this.stopped) return this.closed;
    this.stopped = true;
    this.stopping.abort();
    for (const t of [this.debounceTimer, this.settleTimer]) if (t) clearTimeout(t);
    if (this.rescanTimer) clearTimeout(this.rescanTimer);
    for (const rel of [...this.watchers.keys()]) this.closeWatch(rel);
    await this.chain.catch(() => undefined);
    this.resolveClosed();
    return this.closed;
  }
}

function sortByDepth(rels: Set<string>): string[] {
  return [...rels].sort((a, b) => a.split("/").length - b.split("/").length);
}

/**
 * A candidate folder's files, hidden ones too: a copy tool (rsync...) writes each file under a hidden temporary
 * name and renames it when complete, so a growing hidden file is a copy still going on (no event says so: hidden
 * names are ignored, the settle timer looks again).
 */
async function listFiles(abs: string): Promise<{ name: string; size: number; mtimeMs: number }[]> {
  const entries = await readdir(abs, { withFileTypes: true }).catch(() => []);
  const out: { name: string; size: number; mtimeMs: number }[] = [];
  for (const e of entries) {
    if (!e.isFile()) continue;
    const st = await stat(join(abs, e.name)).catch(() => null);
    if (st) out.push({ name: e.name, size: st.size, mtimeMs: st.mtimeMs });
  }
  return out.sort((a, b) => (a.name < b.name ? -1 : 1));
}

/** Shards of a numbered set not present among `weights` (the same rule as import and adopt). */
function missingShards(weights: string[]): string[] {
  const sets = new Map<string, string[]>();
  for (const n of weights) {
    const info = shardInfoOf(n);
    if (!info || info.total === null) continue;
    sets.set(info.setKey, [...(sets.get(info.setKey) ?? []), n]);
  }
  return [...sets.values()].flatMap((names) => missingShardNames(names));
}
