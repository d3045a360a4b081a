// mergeLibrary: the library at `source` merged into this one, in phases (the original's "phased" merge, its
// quirks fixed): GATHER (the source only read) → PLAN (plan-merge.ts; a dry run stops here) → VALIDATE
// (writable, free space for what must be copied) → journal → MOVE (a rename per model folder on one
// filesystem: no data bytes move; across filesystems copy + verify + delete) → INDEX → CLEANUP (a verified
// duplicate's source copy removed; emptied source folders removed). Nothing that was not moved or verified
// identical leaves the source. Killed at any moment, the same call finishes the journal's plan.
import { constants, mkdirSync, readdirSync, renameSync, statSync } from "node:fs";
import { access, mkdir, readFile, realpath, rename, rm, rmdir, stat, statfs } from "node:fs/promises";
import { availableParallelism } from "node:os";
import { dirname, join, resolve, sep } from "node:path";
import { ModelLibraryError, ioError, isCancelled, throwIfAborted } from "../core/errors.js";
import { acquireLock, releaseLock, withLock } from "../core/lock.js";
import { syncDir, writeJsonAtomic } from "../core/atomic-json.js";
import { hashFile } from "../hashing/index.js";
import type { IndexRecord } from "../index/index-types.js";
import { IndexWriter } from "../index/index-writer.js";
import type { OperationOptions, ProgressEvent } from "../operations/types.js";
import { verifyFile } from "../operations/verify-models.js";
import { planVerify } from "../operations/verify-files.js";
import type { ModelLibrary } from "../store/model-library.js";
import { COMMIT_LOCK, METADATA_FILE, OVERRIDES_FILE } from "../store/layout.js";
import { recordFromParsed } from "../store/record.js";
import { copyVerified } from "./copy-verified.js";
import { gatherSource, type SourceModel } from "./gather-source.js";
import { MERGE_LOCK, MERGE_STAGING, logSteps, readJournal, removeJournal, stateDir, writeJournal, type JournalData } from "./merge-journal.js";
import type { MergeItemResult, MergeParams, MergePlanItem, MergeResult } from "./merge-types.js";
import { contentKey, existingDuplicate, largestHash, planMerge } from "./plan-merge.js";

// Models per journal fsync, per hold of the commit lock and per index transaction on this thread (the disk, not
// the log, decides what a re-run still does, so a bigger batch costs nothing in safety; at 256 the 40 fsyncs of
// 10,000 models were a tenth of the merge, at 1,000 the 10 fsyncs still ~0.09 s of a loaded machine).
const BATCH = 2500;
// Source folders being deleted are first renamed in here (one atomic step), so a kill never leaves a half-deleted
// model in the source; the folder is emptied on every run.
const SOURCE_TRASH = ".model-library-merge-trash";
// Space kept free beyond what a cross-filesystem copy needs.
const SPACE_MARGIN = 64 * 1024 * 1024;

export async function mergeLibrary(lib: ModelLibrary, params: MergeParams, options: OperationOptions = {}): Promise<MergeResult> {
  const { signal } = options;
  const onProgress = options.onProgress;
  const progress = (e: Omit<ProgressEvent, "op">): void => onProgress?.({ op: "merge", ...e });
  const source = resolve(params.source);
  await checkSource(source, lib.root);
  const existing = await readJournal(lib.root);
  if (existing && existing.source !== source) {
    // That merge may be running right now (its lock held), or stopped (then only its own source finishes it).
    const probe = await acquireLock(join(stateDir(lib.root), MERGE_LOCK), { timeoutMs: 0 }).catch((e: unknown) => {
      if (e instanceof ModelLibraryError && e.code === "E_LOCKED") return null;
      throw e;
    });
    if (!probe) throw new ModelLibraryError("E_LOCKED", `a merge from ${existing.source} into ${lib.root} is running: wait for it to finish, then run this one again`, { path: lib.root });
    await releaseLock(join(stateDir(lib.root), MERGE_LOCK), probe);
    throw new ModelLibraryError("E_EXISTS", `an unfinished merge from ${existing.source} is recorded in ${stateDir(lib.root)}: run \`mlib merge ${existing.source}\` to finish it first`, { path: existing.source });
  }
  const destDev = (await stat(lib.root)).dev;
  if (params.dryRun) {
    const plan = existing ? existing.plan : await gatherAndPlan(lib, source, destDev, params, options);
    return result(source, true, existing !== null, plan, [], 0);
  }
  await mkdir(stateDir(lib.root), { recursive: true });
  let holder;
  try {
    holder = await acquireLock(join(stateDir(lib.root), MERGE_LOCK), { timeoutMs: 0 });
  } catch (e) {
    if (e instanceof ModelLibraryError && e.code === "E_LOCKED") throw new ModelLibraryError("E_LOCKED", `another merge into ${lib.root} is running`, { path: lib.root });
    throw e;
  }
  let writer: IndexWriter | null = null;
  try {
    // Read again under the lock: a merge that held it may have just finished.
    const journal = (await readJournal(lib.root)) ?? undefined;
    let gathered: Map<string, SourceModel> | null = null;
    let data: JournalData;
    if (journal) {
      data = journal;
    } else {
      // The writer thread starts as soon as the merge is known to be big: its start-up overlaps the reading.
      const models = await gatherSource(source, signal, { n: WRITER_THREAD_MIN, then: () => (writer ??= startWriter(lib, WRITER_THREAD_MIN)) });
      gathered = new Map(models.map((m) => [m.rel, m]));
      const plan = await planMerge(lib, models, { source, allowPickle: params.allowPickle === true, destDev, signal, onItem: onProgress && ((item, done, total) => progress({ phase: "plan", item, done, total, unit: "items" })) });
      data = { version: 1, source, startedAt: new Date().toISOString(), allowPickle: params.allowPickle === true, plan };
    }
    writer ??= startWriter(lib, data.plan.length);
    await validate(lib.root, source, data.plan);
    throwIfAborted(signal, "merge");
    if (!journal) await writeJournal(lib.root, data); // the plan is durable before anything moves
    progress({ phase: "journal", done: 0, total: data.plan.length, unit: "items" });
    const staging = join(stateDir(lib.root), MERGE_STAGING);
    const commitLock = join(lib.root, COMMIT_LOCK);
    // The rows of the models moved but not yet indexed, written (by the writer thread, or here) in pieces.
    const records: IndexRecord[] = [];
    // Every hold of the commit lock ends with the rows of what it moved committed in the index: another process
    // that takes the lock next (an import's duplicate check, an adoption) sees them. Written later, an import of
    // a model just moved in did not find it and stored it again, and then waited on the writer's open transaction.
    const commitRows = async (): Promise<void> => {
      if (!writer) return void lib.index.upsertMany(records.splice(0));
      writer.write(records.splice(0));
      for (const failed of await writer.flush()) lib.index.upsertMany(failed);
    };
    const ownHold: Commit = (fn, row) =>
      withLock(commitLock, async () => {
        const value = await fn();
        const r = row?.(value);
        if (r) records.push(r);
        await commitRows();
        return value;
      });
    await rm(staging, { recursive: true, force: true }); // a copy a killed run left half-made
    const trash = join(source, SOURCE_TRASH);
    await rm(trash, { recursive: true, force: true });
    const results: MergeItemResult[] = [];
    let bytesCopied = 0;
    const madeDirs = new Set<string>();
    const plan = data.plan;
    // (With the library models' content as read for duplicates, once each.)
    const dirs = { staging, trash, libraryCopies: { byId: new Map(), sourceReal: await realpath(source) } satisfies LibraryCopies };
    for (let start = 0; start < plan.length; start += BATCH) {
      throwIfAborted(signal, "merge");
      const batch = plan.slice(start, start + BATCH);
      logSteps(lib.root, batch.map((item, k) => ({ i: start + k, step: item.action === "duplicate" ? "verify-and-remove-source" : item.action === "error" ? "leave" : item.crossDevice ? "copy-verify-delete" : "rename" })));
      const took = (r: Applied, i: number): void => {
        bytesCopied += r.copied;
        if (r.record) records.push(r.record);
        // The writer thread gets the rows in smaller pieces, so it starts early and ends soon after the last move.
        if (writer && records.length >= WRITER_PIECE) writer.write(records.splice(0));
        results.push(r.result);
        if (onProgress) progress({ phase: "move", item: plan[i].source, done: i + 1, total: plan.length, unit: "items" });
      };
      // One model; a promise only when it had to wait for something (the common rename is done with no await).
      const step = (k: number, commit: Commit): Promise<void> | undefined => {
        const item = batch[k];
        const i = start + k;
        throwIfAborted(signal, "merge");
        const g = gathered?.get(item.source) ?? null;
        const r = moveAsGathered(lib, item, madeDirs, g);
        if (r) return void took(r, i);
        // (The byte count callback only where bytes are copied: no closure per renamed model.)
        const onBytes = item.crossDevice ? (n: number) => progress({ phase: "copy", item: item.source, done: n, total: item.bytes, unit: "bytes" }) : noBytes;
        return applyItem(lib, source, item, i, dirs, madeDirs, g, signal, onBytes, commit).then((a) => took(a, i));
      };
      try {
        // Runs of renames under one hold of the commit lock. A model whose bytes are read (copied across
        // filesystems, a duplicate re-hashed) is done outside it, the lock taken only for its writes into the
        // library: held through a copy of many GB, it kept every import, edit and adoption waiting (failing after 10 s).
        for (let k = 0; k < batch.length; ) {
          if (readsBytes(batch[k])) {
            await step(k++, ownHold);
            continue;
          }
          await withLock(commitLock, async () => {
            try {
              const late = await storedSincePlan(lib, batch, k);
              while (k < batch.length && !readsBytes(batch[k])) {
                const dup = late.get(k);
                if (dup) {
                  took(leftIn(batch[k], storedMeanwhileReason(dup)), start + k++);
                  continue;
                }
                const waited = step(k++, inHold);
                if (waited) await waited;
              }
            } finally {
              await commitRows();
            }
          });
        }
      } catch (e) {
        if (e instanceof ModelLibraryError && e.code === "E_IO") {
          // A full disk, a failing drive: the user learns the merge can be finished, not only what failed.
          throw new ModelLibraryError(
            "E_IO",
            `${e.message}; merge from ${source} stopped after ${results.length} of ${plan.length} models: \`mlib merge ${source}\` finishes it once that is fixed (the plan is kept in ${stateDir(lib.root)})`,
            { path: e.path, cause: e },
          );
        }
        if (!isCancelled(e)) throw e;
        throw new ModelLibraryError("E_CANCELLED", `merge from ${source} stopped after ${results.length} of ${plan.length} models; \`mlib merge ${source}\` finishes it (the plan is kept in ${stateDir(lib.root)})`);
      } finally {
        // What moved is indexed even when the batch stops half-way (cancelled, or an I/O error): the index agrees
        // with the folders at every stop (the writer thread is drained before anything is thrown or returned).
        // One transaction, the batch's rows at once (upsertMany), in the writer thread while the next batch moves.
        if (writer) writer.write(records.splice(0));
        else lib.index.upsertMany(records.splice(0));
      }
      progress({ phase: "index", done: Math.min(start + BATCH, plan.length), total: plan.length, unit: "items" });
    }
    await drainWriter(lib, writer);
    writer = null;
    await rm(trash, { recursive: true, force: true });
    await removeEmptiedFolders(source, results);
    const done = result(source, false, journal !== undefined, plan, results, bytesCopied);
    if (params.beforeFinish) {
      // The journal stays until the caller's last step (re-pointing links into the source) has run: killed or
      // failed there, the same merge re-runs it (a resumed plan reproduces the results from the disk).
      logSteps(lib.root, [{ i: -1, step: "before-finish" }]);
      throwIfAborted(signal, "merge");
      progress({ phase: "finish", done: plan.length, total: plan.length, unit: "items" });
      await params.beforeFinish(done);
    }
    await removeJournal(lib.root);
    progress({ phase: "done", done: plan.length, total: plan.length, unit: "items" });
    return done;
  } finally {
    try {
      await drainWriter(lib, writer); // (after a throw: the rows of what moved, before the error goes up)
    } finally {
      await releaseLock(join(stateDir(lib.root), MERGE_LOCK), holder);
    }
  }
}

/** Runs a step's writes into the library under the commit lock (taken here, or already held by the caller). */
/** `row`: the index row of what `fn` committed, written before the lock is let go (a hold taken here). */
type Commit = <T>(fn: () => Promise<T>, row?: (value: T) => IndexRecord | null) => Promise<T>;
const inHold: Commit = (fn) => fn();

/**
 * The models of the hold starting at `from` whose content another process stored in the library since the plan
 * (an import between the plan and the move), by batch position: moved all the same, the library held it twice.
 * One index query for the run's largest files; a model's whole content is compared only on a hit. (A resumed
 * plan, whose journal keeps no file list for a rename, is not checked.)
 */
async function storedSincePlan(lib: ModelLibrary, batch: MergePlanItem[], from: number): Promise<Map<number, string>> {
  const candidates: { k: number; largest: string; key: string }[] = [];
  for (let k = from; k < batch.length && !readsBytes(batch[k]); k++) {
    const item = batch[k];
    if ((item.action !== "move" && item.action !== "conflict") || item.files.length === 0) continue;
    const largest = largestHash(item.files);
    if (largest) candidates.push({ k, largest, key: contentKey(item.files) });
  }
  const late = new Map<number, string>();
  if (candidates.length === 0) return late;
  const known = lib.knownHashes(candidates.map((c) => c.largest));
  for (const c of candidates) {
    if (!known.has(c.largest.toLowerCase())) continue;
    const dup = await existingDuplicate(lib, c.largest, c.key);
    if (dup) late.set(c.k, dup);
  }
  return late;
}

/** One model's check of storedSincePlan (a copy, just before its rename into place). */
async function storedMeanwhile(lib: ModelLibrary, item: MergePlanItem): Promise<string | null> {
  const largest = item.files.length > 0 ? largestHash(item.files) : null;
  return largest ? existingDuplicate(lib, largest, contentKey(item.files)) : null;
}

function storedMeanwhileReason(dup: string): string {
  return `the same content was stored in the library as ${dup} by another process during the merge; the source is kept (a later merge removes it once verified)`;
}

/** Why the library model a duplicate stands for is no longer whole (deleted, a file gone or resized); null if it is. */
async function libraryCopyMissing(lib: ModelLibrary, id: string): Promise<string | null> {
  const meta = await lib.getMetadata(id).catch(() => null);
  const dir = lib.modelDir(id);
  // Its files found as verify finds them (an original library's bare names of files kept in sub-folders).
  const plan = meta ? await planVerify(dir, meta).catch(() => null) : null;
  const whole =
    plan !== null &&
    plan.files.length > 0 &&
    plan.files.every((f) => {
      const st = f.path === null ? undefined : statSync(join(dir, ...f.path.split("/")), { throwIfNoEntry: false });
      return st?.isFile() === true && (f.size === null || st.size === f.size);
    });
  return whole ? null : `${id}, the library's copy of this model, was removed or changed meanwhile (by another process); the source copy is kept`;
}

/** A model whose bytes the merge reads (a copy across filesystems, a duplicate re-hashed): seconds to hours. */
function readsBytes(item: MergePlanItem): boolean {
  return item.action === "duplicate" || (item.crossDevice && (item.action === "move" || item.action === "conflict"));
}

// Merges of more models than this write their index rows in a thread of their own (index-writer.ts); a smaller
// one is not worth the thread's start-up.
const WRITER_THREAD_MIN = 2000;
const WRITER_PIECE = 250;

function startWriter(lib: ModelLibrary, models: number): IndexWriter | null {
  // One core: the thread would only take turns with this one, at the cost of its start-up and second connection.
  if (models < WRITER_THREAD_MIN || availableParallelism() < 2) return null;
  try {
    return new IndexWriter(lib.index.dbPath);
  } catch {
    return null; // the rows are written on this thread
  }
}

/** Waits for the writer thread; what it could not write is written here (a damaged index handled as anywhere). */
async function drainWriter(lib: ModelLibrary, writer: IndexWriter | null): Promise<void> {
  if (!writer) return;
  for (const records of await writer.drain()) lib.index.upsertMany(records);
}

async function gatherAndPlan(lib: ModelLibrary, source: string, destDev: number, params: MergeParams, options: OperationOptions): Promise<MergePlanItem[]> {
  const models = await gatherSource(source, options.signal);
  return planMerge(lib, models, {
    source,
    allowPickle: params.allowPickle === true,
    destDev,
    signal: options.signal,
    onItem: (item, done, total) => options.onProgress?.({ op: "merge", phase: "plan", item, done, total, unit: "items" }),
  });
}

async function checkSource(source: string, root: string): Promise<void> {
  const st = await stat(source).catch(() => null);
  if (!st?.isDirectory()) throw new ModelLibraryError("E_NOT_FOUND", `${source}: no such folder to merge from`, { path: source });
  // One model's folder, not a library: the gather looks only below SRC, so it would find nothing and say so quietly.
  if (statSync(join(source, METADATA_FILE), { throwIfNoEntry: false })?.isFile()) {
    throw new ModelLibraryError("E_USAGE", `${source}: a model folder (it holds a ${METADATA_FILE}), not a library; \`mlib import ${source}\` takes one model in`, { path: source });
  }
  // Compared by what the folders are, not by how they are spelled: a symlink (or a bind mount) to the library or
  // into it is the library itself, whose models would all be planned as duplicates of themselves and removed.
  const rootSt = await stat(root);
  if ((await hasAncestor(source, rootSt)) || (await hasAncestor(root, st))) {
    throw new ModelLibraryError("E_USAGE", `${source}: cannot merge a library into itself or one folder inside the other (${resolve(root)})`, { path: source });
  }
}

/** Whether `dir` (its real path) is the folder `target` or inside it: the same device and inode up its parents. */
async function hasAncestor(dir: string, target: { dev: number; ino: number }): Promise<boolean> {
  let p = await realpath(dir);
  for (;;) {
    const st = await stat(p).catch(() => null);
    if (st && st.dev === target.dev && st.ino === target.ino) return true;
    const parent = dirname(p);
    if (parent === p) return false;
    p = parent;
  }
}

/** VALIDATE: both sides writable, and room for what crosses filesystems. */
async function validate(root: string, source: string, plan: MergePlanItem[]): Promise<void> {
  for (const [dir, what] of [[root, "the library"], [source, "the source (folders are moved out of it)"]] as const) {
    try {
      await access(dir, constants.W_OK);
    } catch {
      throw new ModelLibraryError("E_IO", `${dir}: ${what} is not writable`, { path: dir });
    }
  }
  const toCopy = plan.filter((p) => p.crossDevice && (p.action === "move" || p.action === "conflict")).reduce((a, p) => a + p.bytes, 0);
  if (toCopy === 0) return;
  const fs = await statfs(root);
  const free = fs.bavail * fs.bsize;
  if (free < toCopy + SPACE_MARGIN) {
    throw new ModelLibraryError("E_IO", `${root}: not enough free space to copy ${toCopy} bytes from another filesystem (${free} bytes free)`, { path: root });
  }
}

interface Applied {
  result: MergeItemResult;
  record: IndexRecord | null;
  copied: number;
}

/** One plan item, idempotent: what is left to do is read from the disk, so a re-run after a kill picks up. */
async function applyItem(
  lib: ModelLibrary,
  source: string,
  item: MergePlanItem,
  i: number,
  dirs: { staging: string; trash: string; libraryCopies: LibraryCopies },
  madeDirs: Set<string>,
  gathered: SourceModel | null,
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  commit: Commit,
): Promise<Applied> {
  const srcDir = join(source, ...item.source.split("/"));
  if (item.action === "error" || !item.destId) return leftIn(item, item.reason ?? "error");
  if (item.action === "duplicate") {
    if (await exists(srcDir)) {
      const why = await verifyDuplicate(lib, srcDir, item, dirs.libraryCopies);
      if (why) return leftIn(item, why);
      // The library's copy is looked at again, and the source's removed, under the commit lock: verified long
      // before (its content is read once a merge), it may have been deleted since (`mlib rm` in another process),
      // and the source's copy, then the last one, went too.
      const gone = await commit(async () => {
        const missing = await libraryCopyMissing(lib, item.destId!);
        if (missing) return missing;
        await removeSource(srcDir, dirs.trash, i);
        return null;
      });
      if (gone) return leftIn(item, gone);
    }
    return { result: { source: item.source, destId: item.destId, outcome: "duplicate-removed", reason: null }, record: null, copied: 0 };
  }
  const destDir = lib.modelDir(item.destId);
  makeParent(destDir, madeDirs);
  let copied = 0;
  let renamed = false;
  let settled: IndexRecord | null = null;
  if (!item.crossDevice) {
    // The common case first, with no stat: the rename either happens, or its error says what to look at.
    // (A directory renamed onto an existing empty directory replaces it: nothing is lost.)
    try {
      renameSync(srcDir, destDir); // synchronous: ~3x cheaper than the promise version for 10k small renames
      renamed = true;
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code !== "ENOENT" && code !== "ENOTEMPTY" && code !== "EEXIST" && code !== "EXDEV") throw ioError(srcDir, `move to ${destDir}`, e);
    }
  }
  if (!renamed) {
    const srcThere = await exists(srcDir);
    const destThere = await exists(destDir);
    if (srcThere && !destThere) {
      const exdev = await commit(async () => {
        try {
          renameSync(srcDir, destDir);
          return false;
        } catch (e) {
          if ((e as NodeJS.ErrnoException).code !== "EXDEV") throw ioError(srcDir, `move to ${destDir}`, e);
          return true;
        }
      });
      if (exdev) {
        try {
          // The copy's rename into place and its metadata.json settled and indexed in one hold of the commit lock:
          // in two, an import in another process between them did not find the model and stored it a second time.
          const place = (fn: () => Promise<void>): Promise<void> =>
            commit(
              async () => {
                const dup = await storedMeanwhile(lib, item);
                if (dup) throw new ModelLibraryError("E_EXISTS", storedMeanwhileReason(dup));
                await fn();
                settled = await settleMetadata(destDir, item.destId!, null, item.action === "conflict");
              },
              () => settled,
            );
          copied = await copyVerified(srcDir, destDir, join(dirs.staging, String(i)), item.files, signal, onBytes, place);
        } catch (ce) {
          // This model's own content cannot be copied as it is (a link in it, bytes that do not read back the same):
          // it stays in the source, reported, and the merge goes on. Thrown, it stopped every run of this journal
          // at the same model, and the journal blocked any other merge.
          if (!(ce instanceof ModelLibraryError) || (ce.code !== "E_UNSUPPORTED" && ce.code !== "E_HASH_MISMATCH" && ce.code !== "E_EXISTS")) throw ce;
          await rm(join(dirs.staging, String(i)), { recursive: true, force: true });
          return leftIn(item, ce.message);
        }
        await removeSource(srcDir, dirs.trash, i);
        gathered = null; // a copied metadata.json has a new mtime
      }
    } else if (srcThere && destThere) {
      // A copy that was renamed into place before the kill removed the source (it was verified before that rename).
      if (!item.crossDevice || !(await sameSizes(destDir, item))) return leftIn(item, `${destDir} appeared in the library meanwhile; the source is kept`);
      await removeSource(srcDir, dirs.trash, i);
      gathered = null;
    } else if (!destThere) {
      return leftIn(item, `${srcDir} is gone from the source and not in the library (moved away by someone else?)`);
    } else {
      gathered = null; // done by the killed run: index it from what is on disk
    }
  }
  const destId = item.destId;
  const record = settled ?? (await commit(() => settleMetadata(destDir, destId, gathered, item.action === "conflict"), (r) => r));
  return { result: { source: item.source, destId: item.destId, outcome: item.action === "conflict" ? "renamed" : "moved", reason: item.reason }, record, copied };
}

/**
 * The common step with no await: a move on one filesystem whose metadata.json the gather read and that needs no
 * rewrite, one rename, the row from what was read. Null for anything else, and when the rename fails: applyItem
 * then looks at the disk and decides (a re-run after a kill, a folder that went away, another filesystem).
 */
function moveAsGathered(lib: ModelLibrary, item: MergePlanItem, madeDirs: Set<string>, gathered: SourceModel | null): Applied | null {
  if (item.action !== "move" || item.crossDevice || !gathered || !item.destId || needsRewrite(gathered.parsed, item.destId, false)) return null;
  const destDir = lib.modelDir(item.destId);
  makeParent(destDir, madeDirs);
  try {
    renameSync(gathered.dir, destDir);
  } catch {
    return null;
  }
  const record = recordFromParsed(item.destId, destDir, gathered.parsed, { mtimeMs: gathered.metaMtimeMs, size: gathered.metaSize });
  return { result: { source: item.source, destId: item.destId, outcome: "moved", reason: item.reason }, record, copied: 0 };
}

/** The parents of the destination folders, made once each. */
function makeParent(destDir: string, madeDirs: Set<string>): void {
  const parent = dirname(destDir);
  if (madeDirs.has(parent)) return;
  mkdirSync(parent, { recursive: true });
  madeDirs.add(parent);
}

/**
 * Whether metadata.json's model_id must be rewritten to `id`: a conflict kept under a new name, or a source laid
 * out otherwise; a null model_id (the original leaves it so) stays as it is: no write, no fsync, for the common move.
 */
function needsRewrite(parsed: unknown, id: string, renamed: boolean): boolean {
  const meta = parsed as Record<string, unknown> | null;
  return !!meta && typeof meta === "object" && meta.model_id !== id && (renamed || typeof meta.model_id === "string");
}

function leftIn(item: MergePlanItem, reason: string): Applied {
  return { result: { source: item.source, destId: item.destId, outcome: "left", reason }, record: null, copied: 0 };
}

const noBytes = (): void => undefined;

/** Deletes a source model folder: renamed into the trash first (atomic), then removed. */
async function removeSource(srcDir: string, trash: string, i: number): Promise<void> {
  await mkdir(trash, { recursive: true });
  const target = join(trash, String(i));
  await rm(target, { recursive: true, force: true });
  await rename(srcDir, target);
  await syncDir(dirname(srcDir));
  await rm(target, { recursive: true, force: true });
}

/** metadata.json's model_id made the folder's id (a renamed conflict, or a source laid out otherwise); the index row. */
async function settleMetadata(destDir: string, id: string, gathered: SourceModel | null, renamed: boolean): Promise<IndexRecord> {
  const file = join(destDir, METADATA_FILE);
  let parsed = gathered?.parsed;
  let st = gathered ? { mtimeMs: gathered.metaMtimeMs, size: gathered.metaSize } : null;
  if (!gathered) {
    parsed = JSON.parse(await readFile(file, "utf8"));
    st = await stat(file);
  }
  const meta = parsed as Record<string, unknown>;
  if (needsRewrite(meta, id, renamed)) {
    meta.model_id = id;
    await writeJsonAtomic(file, meta, { backup: true });
    st = await stat(file);
  }
  return recordFromParsed(id, destDir, parsed, st!);
}

/** A duplicate's source copy leaves only when its bytes re-hash to what the library model's files hold. */
async function verifyDuplicate(lib: ModelLibrary, srcDir: string, item: MergePlanItem, libraryCopies: LibraryCopies): Promise<string | null> {
  const id = item.destId!;
  let copy = libraryCopies.byId.get(id);
  if (!copy) libraryCopies.byId.set(id, (copy = libraryContent(lib, id, libraryCopies.sourceReal)));
  const theirs = await copy;
  if (typeof theirs === "string") return theirs;
  for (const f of item.files) {
    const file = join(srcDir, ...f.name.split("/"));
    // Only a regular file is opened: opening a named pipe waits for a writer, for ever (the merge hung there).
    if (!statSync(file, { throwIfNoEntry: false })?.isFile()) return `${file} is not a regular file; the source copy is kept`;
    const h = await hashFile(file).catch(() => null);
    if (!h || !theirs.has(`${h.sha256}:${h.size}`)) return `${join(srcDir, f.name)} is not identical to a file of ${id}; the source copy is kept`;
  }
  // The folder goes whole: a file its metadata.json does not list (the user's notes, a preview image, a second
  // weight dropped in by hand) has no copy in the library, and would be deleted with it.
  let extra: string[];
  try {
    extra = unlistedFiles(srcDir, new Set(item.files.map((f) => f.name)));
  } catch (e) {
    return `${srcDir}: its files cannot all be listed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}); the source copy is kept`;
  }
  if (extra.length > 0) {
    return `${srcDir} also holds ${extra.slice(0, 3).map((e) => join(srcDir, e)).join(", ")}${extra.length > 3 ? ` and ${extra.length - 3} more` : ""}, not part of ${id}; the source copy is kept (move those out, then merge again)`;
  }
  return null;
}

/** A model folder's files (hidden ones too; links are not data) other than `listed` and its own metadata files. */
function unlistedFiles(dir: string, listed: Set<string>): string[] {
  const out: string[] = [];
  const walk = (abs: string, rel: string): void => {
    for (const e of readdirSync(abs, { withFileTypes: true })) {
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(join(abs, e.name), childRel);
      else if (!e.isSymbolicLink() && !listed.has(childRel) && !(rel === "" && ownFile(e.name))) out.push(childRel);
    }
  };
  walk(dir, "");
  return out.sort();
}

/** metadata.json, its backups, overrides.json: what the library writes in a model folder, not the user's data. */
function ownFile(name: string): boolean {
  return name === METADATA_FILE || name === OVERRIDES_FILE || name.startsWith(`${METADATA_FILE}.`) || name.startsWith(`${OVERRIDES_FILE}.`);
}

/** The library models' content as read for duplicates (once each), and the source's real path. */
interface LibraryCopies {
  byId: Map<string, Promise<Set<string> | string>>;
  sourceReal: string;
}

/**
 * The `sha256:size` of each file of the library model as its bytes are now, or why it cannot stand for the source
 * copy. Read, not taken from metadata.json: recorded hashes say what the bytes were (a file that rotted since, a
 * source model moved in earlier with a stale metadata.json), and the source copy may be the only good one left.
 * Once per model and merge.
 */
async function libraryContent(lib: ModelLibrary, id: string, sourceReal: string): Promise<Set<string> | string> {
  const meta = await lib.getMetadata(id).catch(() => null);
  if (!meta) return `${id} is no longer in the library; the source copy is kept`;
  const dir = lib.modelDir(id);
  // Which file each listed name is, and against what it is checked: as `mlib verify` checks it (a bare name of the
  // original's in-place listing found in its sub-folder, BLAKE3 compared too).
  const { files, error } = await planVerify(dir, meta);
  if (error) return `${id}: ${error}; the source copy is kept`;
  const out = new Set<string>();
  for (const f of files) {
    const file = join(dir, ...(f.path ?? f.name).split("/"));
    // A library file that is a link into the source (deduplicated by hand: `jdupes -l`, `rdfind -makesymlinks`)
    // holds nothing of its own: the source's copy is the one the link reads.
    const real = await realpath(file).catch(() => file);
    if (real === sourceReal || real.startsWith(sourceReal + sep)) return `${file} is a link into the source (${real}); the source copy is kept`;
    const r = await verifyFile(dir, f);
    if ((r.status !== "ok" && r.status !== "unhashed") || r.actual.sha256 === null) {
      return `${file} no longer matches the hash recorded for it (${r.status}; check it with \`mlib verify ${id}\`); the source copy is kept`;
    }
    out.add(`${r.actual.sha256}:${r.actual.size}`);
  }
  return out;
}

async function sameSizes(dir: string, item: MergePlanItem): Promise<boolean> {
  for (const f of item.files) {
    const st = await stat(join(dir, ...f.name.split("/"))).catch(() => null);
    if (!st || st.size !== f.size) return false;
  }
  return true;
}

/** Source folders (type, family) left empty by the merge are removed; anything with content stays. */
async function removeEmptiedFolders(source: string, results: MergeItemResult[]): Promise<void> {
  // Each model's parent once (a few hundred families for 10,000 models), then their parents up to the root.
  const parents = new Set<string>();
  for (const r of results) {
    if (r.outcome !== "left") parents.add(r.source.slice(0, Math.max(0, r.source.lastIndexOf("/"))));
  }
  for (const p of [...parents]) {
    for (let cut = p.lastIndexOf("/"); cut > 0; cut = p.lastIndexOf("/", cut - 1)) parents.add(p.slice(0, cut));
  }
  parents.delete("");
  // Deepest first: a folder is empty only once its sub-folders are gone.
  const depth = (rel: string) => rel.split("/").length;
  for (const rel of [...parents].sort((a, b) => depth(b) - depth(a))) {
    await rmdir(join(source, ...rel.split("/"))).catch(() => undefined);
  }
}

function result(source: string, dryRun: boolean, resumed: boolean, plan: MergePlanItem[], results: MergeItemResult[], bytesCopied: number): MergeResult {
  const count = (o: string) => results.filter((r) => r.outcome === o).length;
  return {
    source,
    dryRun,
    resumed,
    sameFilesystem: plan.every((p) => !p.crossDevice),
    plan,
    results,
    counts: { moved: count("moved"), renamed: count("renamed"), duplicates: count("duplicate-removed"), left: dryRun ? plan.filter((p) => p.action === "error").length : count("left") },
    bytesCopied,
  };
}

async function exists(p: string): Promise<boolean> {
  return statSync(p, { throwIfNoEntry: false }) !== undefined;
}
