// Keeping the index in step with the metadata.json files without re-reading them all.
//
// The tree is "container" folders (the root, type and family folders: no metadata.json) holding model
// folders (with metadata.json). A folder's mtime changes when an entry is added, removed or renamed in it,
// so comparing each container's mtime with the one recorded last time tells where models appeared or left.
//   quick:   stat every container (a few hundred at 100k models); list only the changed ones. New and removed
//            models are found; a metadata.json rewritten in place by another program is not (our own writes
//            update the index at once). This is what opening does: ~ms at 100k models.
//   full:    list every container and stat every metadata.json, re-reading the ones whose mtime or size changed.
//   rebuild: clear the index and read every metadata.json (`mlib reindex`).
// The walk is synchronous: 100k stat calls through fs.promises left the main thread idle most of the time
// (one thread-pool round trip each, 5 s at 100k models) where statSync does the same in ~0.5 s.
// Between full passes, the models a command shows or touches are checked one by one (refreshModels).
import { readdirSync, type Dirent, type Stats } from "node:fs";
import { join } from "node:path";
import type { ModelIndex } from "../index/model-index.js";
import { statOrNull } from "../core/stat-or-null.js";
import { ModelLibraryError, cancelledError, throwIfAborted } from "../core/errors.js";
import { METADATA_FILE } from "./layout.js";
import { readRecordSync } from "./record.js";
import { readLibrary, startReader, type ReaderMessage } from "./reindex-reader.js";
import { MAX_DEPTH, walkContainers } from "./walk-containers.js";

export type ReconcileMode = "quick" | "full" | "rebuild";

export interface ReconcileReport {
  mode: ReconcileMode;
  added: number;
  updated: number;
  removed: number;
  unchanged: number;
  /** metadata.json files that could not be read: the model is left out (or kept as last indexed), the rest works. */
  problems: { id: string; error: string }[];
  elapsedMs: number;
}

const DIR_STATE_KEY = "container_mtimes";
const READ_BATCH = 64;

/** `signal` stops a rebuild (E_CANCELLED, the old index kept); the other modes are short and run to their end. */
export async function reconcileIndex(root: string, index: ModelIndex, mode: ReconcileMode, signal?: AbortSignal): Promise<ReconcileReport> {
  const report = await reconcileOnce(root, index, mode, signal);
  recordBroken(index, report);
  return report;
}

const BROKEN_KEY = "broken_models";

/**
 * Models whose metadata.json could not be read are left out of the index, but not forgotten: their ids (with the
 * reason) are kept in library_state so `list` can name them. A full pass or a rebuild sees every model and so
 * replaces the record; a quick pass only adds to it (the reader re-checks each id, see brokenModelIds).
 */
function recordBroken(index: ModelIndex, report: ReconcileReport): void {
  const complete = report.mode === "full" || report.mode === "rebuild";
  const before = complete ? {} : brokenRecord(index);
  const after = { ...before, ...Object.fromEntries(report.problems.map((p) => [p.id, p.error])) };
  if (complete || report.problems.length > 0) index.setState(BROKEN_KEY, JSON.stringify(after));
}

/** The ids (and reasons) of models last found with an unreadable metadata.json. */
export function brokenRecord(index: ModelIndex): Record<string, string> {
  try {
    const parsed: unknown = JSON.parse(index.getState(BROKEN_KEY) ?? "{}");
    return parsed && typeof parsed === "object" && !Array.isArray(parsed) ? (parsed as Record<string, string>) : {};
  } catch {
    return {};
  }
}

async function reconcileOnce(root: string, index: ModelIndex, mode: ReconcileMode, signal?: AbortSignal): Promise<ReconcileReport> {
  if (mode === "rebuild") return rebuildIndex(root, index, signal);
  const t0 = performance.now();
  if (mode === "quick") {
    const quick = quickReconcile(root, index, t0);
    if (quick) return quick;
  }
  // Quick mode only asks whether an id is indexed: the ids alone are ~10x cheaper to read than their stats.
  const known: Map<string, { metaMtimeMs: number; metaSize: number } | null> =
    mode === "quick" ? new Map(index.allIds().map((id) => [id, null])) : index.syncState();
  // (No container mtimes are recorded when quick mode gets here: quickReconcile used them otherwise.)
  const newDirs: Record<string, number> = {};
  const seen = new Set<string>();
  const toRead: { id: string; isNew: boolean }[] = [];
  const problems: ReconcileReport["problems"] = [];
  walkContainers(
    root,
    "",
    (rel, st) => void (newDirs[rel] = st.mtimeMs),
    (abs, id) => {
      const prev = known.get(id);
      if (prev !== undefined && mode === "quick") {
        seen.add(id);
        return true;
      }
      const metaStat = statOrNull(join(abs, METADATA_FILE));
      if (!holdsMetadata(metaStat)) return false;
      seen.add(id);
      if (!prev) toRead.push({ id, isNew: true }); // (a known id in quick mode never gets here)
      else if (prev.metaMtimeMs !== metaStat.mtimeMs || prev.metaSize !== metaStat.size) toRead.push({ id, isNew: false });
      return true;
    },
  );

  let added = 0;
  let updated = 0;
  for (let i = 0; i < toRead.length; i += READ_BATCH) {
    const batch = toRead.slice(i, i + READ_BATCH);
    const records = batch.map((item) => {
      try {
        return readRecordSync(item.id, join(root, ...item.id.split("/")));
      } catch (e) {
        return e as Error;
      }
    });
    index.transaction(() => {
      records.forEach((rec, j) => {
        if (rec instanceof Error) {
          problems.push({ id: batch[j].id, error: rec.message });
          return;
        }
        index.upsert(rec);
        if (batch[j].isNew) added++;
        else updated++;
      });
    });
  }
  let removed = 0;
  index.transaction(() => {
    for (const id of known.keys()) {
      if (!seen.has(id)) {
        index.delete(id);
        removed++;
      }
    }
    index.setState(DIR_STATE_KEY, JSON.stringify(newDirs));
  });
  return {
    mode,
    added,
    updated,
    removed,
    unchanged: seen.size - added - updated - problems.length,
    problems,
    elapsedMs: performance.now() - t0,
  };
}

/**
 * "rebuild": a worker thread reads every metadata.json (reindex-reader.ts) while this thread bulk-loads the
 * rows (ModelIndex.bulkReplace) in one transaction. Other processes keep reading the old index until the new
 * one commits; if anything fails, the old index stays as it was. Unreadable files are reported as problems.
 * A cancellation (signal) is seen between batches: the load is rolled back and the reader stopped.
 */
async function rebuildIndex(root: string, index: ModelIndex, signal?: AbortSignal): Promise<ReconcileReport> {
  throwIfAborted(signal, "reindex");
  const t0 = performance.now();
  const problems: ReconcileReport["problems"] = [];
  const loader = index.bulkReplace();
  const { worker, ack } = startReader(root);
  let onAbort: (() => void) | null = null;
  try {
    const dirs = await new Promise<Record<string, number>>((resolve, reject) => {
      // (runs between two messages, never inside a batch's inserts: this thread does both)
      onAbort = () => reject(cancelledError("reindex"));
      signal?.addEventListener("abort", onAbort, { once: true });
      worker.on("message", (m: ReaderMessage) => {
        try {
          throwIfAborted(signal, "reindex");
          if (m.type === "batch") {
            problems.push(...m.problems);
            for (const rec of m.records) {
              try {
                loader.addRows(rec);
              } catch (e) {
                if (!(e instanceof ModelLibraryError && e.code === "E_USAGE")) throw e;
                problems.push({ id: rec.id, error: e.message });
              }
            }
            ack();
          } else if (m.type === "done") resolve(m.dirs);
          else reject(new ModelLibraryError("E_IO", `${root}: reindex failed while reading: ${m.message}`, { path: root }));
        } catch (e) {
          reject(e as Error);
        }
      });
      worker.on("error", reject);
      worker.on("exit", (code) => reject(new Error(`${root}: the reindex reader stopped early (exit code ${code})`)));
    });
    index.setState(DIR_STATE_KEY, JSON.stringify(dirs));
    const added = loader.finish();
    return { mode: "rebuild", added, updated: 0, removed: 0, unchanged: 0, problems, elapsedMs: performance.now() - t0 };
  } catch (e) {
    loader.abort();
    throw e;
  } finally {
    if (onAbort) signal?.removeEventListener("abort", onAbort);
    await worker.terminate();
  }
}

/**
 * Quick mode when the container mtimes of the last pass are known: stat those containers (a few hundred at
 * 100k models), and look only into the ones that changed, with the ids the index holds below each (a range
 * read of the id index): ~ms when nothing changed, where building a set of every id took ~0.5 s at 100k.
 * Returns null the first time (no recorded containers): the caller lists everything.
 */
function quickReconcile(root: string, index: ModelIndex, t0: number): ReconcileReport | null {
  const oldDirs = parseDirState(index.getState(DIR_STATE_KEY));
  if (Object.keys(oldDirs).length === 0) return null;
  const absOf = (rel: string) => (rel ? join(root, ...rel.split("/")) : root);
  const newDirs: Record<string, number> = { ...oldDirs };
  const changed: string[] = [];
  const gone: string[] = [];
  for (const [rel, mtime] of Object.entries(oldDirs)) {
    const st = statOrNull(absOf(rel));
    if (!st || !st.isDirectory()) gone.push(rel);
    else if (st.mtimeMs !== mtime) {
      changed.push(rel);
      newDirs[rel] = st.mtimeMs;
    }
  }
  const report: ReconcileReport = { mode: "quick", added: 0, updated: 0, removed: 0, unchanged: 0, problems: [], elapsedMs: 0 };
  if (changed.length === 0 && gone.length === 0) {
    report.unchanged = index.count();
    report.elapsedMs = performance.now() - t0;
    return report;
  }
  const toRemove = new Set<string>();
  const toRead: string[] = [];
  for (const rel of gone) {
    for (const d of Object.keys(newDirs)) if (d === rel || d.startsWith(`${rel}/`)) delete newDirs[d];
    for (const id of index.idsUnder(rel)) toRemove.add(id);
  }
  // A folder never seen before: every model in it is new, every folder in it a container.
  const scanNew = (rel: string): void =>
    walkContainers(
      root,
      rel,
      (container, st) => void (newDirs[container] = st.mtimeMs),
      (abs, id) => {
        if (!holdsMetadata(statOrNull(join(abs, METADATA_FILE)))) return false;
        toRead.push(id);
        return true;
      },
    );
  for (const rel of changed) {
    if (!(rel in newDirs)) continue; // inside a container that is gone
    const depth = rel ? rel.split("/").length : 0;
    const prefix = rel ? `${rel}/` : "";
    const direct = new Set(index.idsUnder(rel).filter((id) => !id.slice(prefix.length).includes("/")));
    const present = new Set<string>();
    for (const e of readdirOrEmpty(absOf(rel))) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const child = `${prefix}${e.name}`;
      if (direct.has(child) || child in oldDirs) {
        present.add(child);
        continue;
      }
      if (holdsMetadata(statOrNull(join(absOf(child), METADATA_FILE)))) toRead.push(child);
      else if (depth < MAX_DEPTH) scanNew(child);
    }
    for (const id of direct) if (!present.has(id)) toRemove.add(id);
  }
  for (let i = 0; i < toRead.length; i += READ_BATCH) {
    const batch = toRead.slice(i, i + READ_BATCH);
    const records = batch.map((id) => {
      try {
        return readRecordSync(id, absOf(id));
      } catch (e) {
        return e as Error;
      }
    });
    index.transaction(() => {
      records.forEach((rec, j) => {
        if (rec instanceof Error) report.problems.push({ id: batch[j], error: rec.message });
        else {
          index.upsert(rec);
          report.added++;
        }
      });
    });
  }
  index.transaction(() => {
    for (const id of toRemove) if (index.delete(id)) report.removed++;
    index.setState(DIR_STATE_KEY, JSON.stringify(newDirs));
  });
  report.unchanged = index.count() - report.added;
  report.elapsedMs = performance.now() - t0;
  return report;
}

/**
 * Brings the given models' rows in step with their metadata.json, stat by stat: a file whose mtime or size
 * differs from the indexed one is read again, a model whose metadata.json is gone leaves the index, an id
 * not indexed yet whose folder holds one is added. Returns the ids whose row changed. Used on the models a
 * command shows or touches (show, list/search results, verify ID), so a hand edit is seen without a reindex
 * while opening stays quick.
 */
export function refreshModels(root: string, index: ModelIndex, ids: string[]): { changed: string[]; problems: ReconcileReport["problems"] } {
  const known = index.metaStats(ids);
  const changed: string[] = [];
  const problems: ReconcileReport["problems"] = [];
  for (const id of ids) {
    const dir = join(root, ...id.split("/"));
    const st = statOrNull(join(dir, METADATA_FILE));
    const prev = known.get(id);
    if (!st || !st.isFile()) {
      if (prev && index.delete(id)) changed.push(id);
      continue;
    }
    if (prev && prev.metaMtimeMs === st.mtimeMs && prev.metaSize === st.size) continue;
    try {
      index.upsert(readRecordSync(id, dir));
      changed.push(id);
    } catch (e) {
      // Unreadable now: the row stays as last indexed (the model is still shown), the problem is reported.
      problems.push({ id, error: (e as Error).message });
    }
  }
  return { changed, problems };
}

/**
 * A full rebuild on this thread (no worker): for the recovery of a damaged index, which may happen in the
 * middle of a synchronous call (a search).
 */
export function rebuildIndexSync(root: string, index: ModelIndex): ReconcileReport {
  const t0 = performance.now();
  const problems: ReconcileReport["problems"] = [];
  const dirs: Record<string, number> = {};
  const loader = index.bulkReplace();
  try {
    readLibrary(root, dirs, (item) => {
      if ("problem" in item) {
        problems.push(item.problem);
        return;
      }
      try {
        loader.addRows(item.record);
      } catch (e) {
        if (!(e instanceof ModelLibraryError && e.code === "E_USAGE")) throw e;
        problems.push({ id: item.record.id, error: e.message });
      }
    });
    index.setState(DIR_STATE_KEY, JSON.stringify(dirs)); // in the load's transaction
    const added = loader.finish();
    return { mode: "rebuild", added, updated: 0, removed: 0, unchanged: 0, problems, elapsedMs: performance.now() - t0 };
  } catch (e) {
    loader.abort();
    throw e;
  }
}


function readdirOrEmpty(dir: string): Dirent[] {
  try {
    return readdirSync(dir, { withFileTypes: true });
  } catch {
    return [];
  }
}

function parseDirState(text: string | null): Record<string, number> {
  if (!text) return {};
  try {
    const v = JSON.parse(text) as unknown;
    return v && typeof v === "object" ? (v as Record<string, number>) : {};
  } catch {
    return {};
  }
}

/**
 * Whether a folder is a model by its metadata.json's stat: anything there but a folder. One that is not a regular
 * file (a FIFO, a device) is a model whose metadata.json cannot be read: reported as broken (record.ts refuses to
 * read it), as a full reindex does, rather than taken for a container.
 */
function holdsMetadata(st: Stats | null): st is Stats {
  return st !== null && !st.isDirectory();
}
