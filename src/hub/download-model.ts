// `downloadModel`: one Hub model (a quant, named files, or a snapshot) into the library. The files are fetched
// into the library's staging area (`<root>/.model-library/downloads/<id>/`), never into a model folder, so
// nothing adopts or indexes them before they are verified; then they move into `<type>/<family>/<name>/` and
// the in-place import writes metadata.json with the hashes computed while downloading (no second read) and the
// provenance (repo_id, the revision's commit, the files, match_source "download"). The state lives in
// downloads.json: the same command (or `mlib downloads resume`) continues an interrupted download, an abort
// (Ctrl-C, `mlib downloads pause`) leaves it paused, `mlib downloads cancel` removes its partial files.
import { randomUUID } from "node:crypto";
import { link, mkdir, readdir, rename, rm, rmdir, stat, statfs } from "node:fs/promises";
import { hostname } from "node:os";
import { dirname, join } from "node:path";
import { readJson } from "../core/atomic-json.js";
import { ModelLibraryError, cancelledError, ioError, isCancelled } from "../core/errors.js";
import { withLock } from "../core/lock.js";
import { missingShardNames } from "../formats/sharding.js";
import { isSafeRelativePath } from "../formats/naming.js";
import { identify } from "../identify/identify.js";
import type { ModelLibrary } from "../store/model-library.js";
import { COMMIT_LOCK, METADATA_FILE } from "../store/layout.js";
import { importInPlace } from "../operations/import-in-place.js";
import type { OperationOptions } from "../operations/types.js";
import { chooseFiles } from "./choose-files.js";
import { modelTypeOfKind, type RepoFile } from "./convert-model.js";
import { downloadFile, fetchHead } from "./download-file.js";
import { planPickles, refuseStagedPickles, skippedPicklesNote } from "./download-pickles.js";
import { HubClient } from "./hub-client.js";
import {
  LEASE_MS,
  downloadsFile,
  downloadsStagingRoot,
  getDownload,
  listDownloads,
  removeDownload,
  runnerAlive,
  setRunningHere,
  saveDownload,
  stagingDirOf,
  updateDownloads,
  type DownloadEntry,
} from "./download-state.js";
import type { RetryPolicy } from "./retry.js";
import { forgetDeadCompletions, recordLandedShards, recordShards, type LandedShard } from "./landed-shards.js";

export interface DownloadModelParams {
  repoId: string;
  /** A quant (all its shards), or `files`, or neither (the one option, or the snapshot's weights). */
  quant?: string | null;
  files?: string[] | null;
  revision?: string | null;
  connections?: number;
  /** Resume this download (its request is taken from downloads.json). */
  downloadId?: string | null;
  /** Fetch only the missing shards of this stored model (its repo_id must be known). */
  completeModelId?: string | null;
  /**
   * Download pickle weights too (they can run code when loaded). Without it a pickle beside safe weights is not
   * fetched, and a pickle that is the only weights of its folder refuses the download before it starts.
   */
  allowPickle?: boolean;
  /** Where the model lands; default from the repo (kind → type, identification → family, repo name). */
  modelType?: string | null;
  family?: string | null;
  name?: string | null;
  /** Tuning for tests. */
  client?: HubClient;
  retry?: RetryPolicy;
  stallMs?: number;
  partSize?: number;
  /** How often the running download looks at downloads.json for pause/cancel asks (default 1 s). */
  controlPollMs?: number;
  /** The runner's lease in downloads.json (default LEASE_MS); the download stops when it goes half of it unrenewed. */
  leaseMs?: number;
}

export interface DownloadedFile {
  path: string;
  size: number;
  sha256: string;
  blake3: string;
  /** "downloaded", "resumed" (partly from an earlier run), or "linked" (the content was already in the library). */
  how: "downloaded" | "resumed" | "linked";
  linkedFrom?: string;
}

export interface DownloadModelResult {
  downloadId: string;
  repoId: string;
  commitSha: string | null;
  modelId: string | null;
  status: "completed" | "already-present";
  files: DownloadedFile[];
  totalBytes: number;
  fetchedBytes: number;
  seconds: number;
  /** What the caller should know (pickle files left out). */
  warnings: string[];
}

const FREE_SPACE_MARGIN = 64 * 1024 * 1024;

export async function downloadModel(lib: ModelLibrary, params: DownloadModelParams, options: OperationOptions = {}): Promise<DownloadModelResult> {
  const started = performance.now();
  const client = params.client ?? new HubClient();
  const root = lib.root;
  const emit = options.onProgress;
  let params2 = params;
  let resumeEntry: DownloadEntry | null = null;
  if (params.downloadId) {
    resumeEntry = await getDownload(root, params.downloadId);
    if (!resumeEntry) throw new ModelLibraryError("E_NOT_FOUND", `no download "${params.downloadId}" in ${root} (see \`mlib downloads list\`)`);
    const r = resumeEntry.download_request;
    params2 = {
      ...params,
      repoId: r.repo_id,
      quant: r.quant,
      files: r.filenames ?? (r.filename ? [r.filename] : null),
      revision: r.revision ?? null,
      completeModelId: r.complete_model_id ?? null,
    };
  }
  let { repoId } = params2;
  let missingOnly: Set<string> | null = null;
  let presentSha256 = new Set<string>();
  let completeDir: string | null = null;
  if (params2.completeModelId) {
    const plan = await planCompletion(lib, params2.completeModelId);
    if (plan.missing.length === 0) {
      // A killed run had landed every shard: recorded now, nothing to fetch; its download entry is over.
      await forgetDeadCompletions(root, params2.completeModelId);
      const files = plan.landed.map((f) => ({ ...f, how: "resumed" as const }));
      const seconds = (performance.now() - started) / 1000;
      return { downloadId: resumeEntry?.download_id ?? "", repoId: plan.repoId, commitSha: null, modelId: params2.completeModelId, status: "completed", files, totalBytes: files.reduce((a, f) => a + f.size, 0), fetchedBytes: 0, seconds, warnings: [] };
    }
    repoId = plan.repoId;
    missingOnly = new Set(plan.missing);
    presentSha256 = plan.present;
    completeDir = lib.modelDir(params2.completeModelId);
  }
  const revision = params2.revision ?? "main";
  emit?.({ op: "download", phase: "plan", item: repoId });
  const info = await client.info(repoId, revision, { signal: options.signal });
  let choice;
  if (missingOnly) {
    const baseName = (path: string): string => path.slice(path.lastIndexOf("/") + 1);
    const folderOf = (path: string): string => path.slice(0, Math.max(0, path.lastIndexOf("/")));
    let wanted = info.files.filter((f) => missingOnly!.has(f.path) || missingOnly!.has(baseName(f.path)));
    // The same shard names in several folders (text_encoder/ and text_encoder_2/): the folder holding our shards.
    const ours = new Set(info.files.filter((f) => f.sha256 && presentSha256.has(f.sha256.toLowerCase())).map((f) => folderOf(f.path)));
    const inOurs = wanted.filter((f) => ours.has(folderOf(f.path)));
    if (ours.size > 0 && new Set(inOurs.map((f) => baseName(f.path))).size === missingOnly.size) wanted = inOurs;
    const twice = [...new Set(wanted.map((f) => baseName(f.path)).filter((n, i, all) => all.indexOf(n) !== i))];
    if (twice.length > 0) {
      const where = wanted.filter((f) => twice.includes(baseName(f.path))).map((f) => f.path);
      throw new ModelLibraryError("E_USAGE", `${repoId} has ${twice.join(", ")} in several folders (${where.join(", ")}): cannot tell which completes ${params2.completeModelId} (no file of the repo has the bytes of its shards)`);
    }
    if (wanted.length < missingOnly.size) {
      const have = new Set(wanted.map((f) => f.path.slice(f.path.lastIndexOf("/") + 1)));
      const absent = [...missingOnly].filter((m) => !have.has(m));
      throw new ModelLibraryError("E_NOT_FOUND", `${repoId}: the repo does not have ${absent.join(", ")}; cannot complete ${params2.completeModelId}`);
    }
    choice = chooseFiles({ files: info.files, paths: wanted.map((f) => f.path), repoId });
  } else {
    choice = chooseFiles({ files: info.files, quant: params2.quant, paths: params2.files, libraryName: info.libraryName, repoId });
  }
  // The pickle policy, decided before any weight is fetched (a small Range read of each .bin/.pt/.ckpt's first bytes).
  const allowPickle = Boolean(params.allowPickle);
  const pickles = await planPickles(repoId, choice.files, allowPickle, (f, bytes) =>
    fetchHead({ config: client.config, url: resolveUrl(client.config.endpoint, repoId, info.commitSha ?? revision, f.path), bytes, retry: params.retry, stallMs: params.stallMs, signal: options.signal }),
  );
  const chosen = pickles.files;
  const warnings = pickles.skipped.length > 0 ? [skippedPicklesNote(repoId, pickles.skipped)] : [];

  // The same request (repo, revision, selection) continues the download already recorded for it. Found and claimed
  // (this process recorded as its runner) in one step under downloads.json's lock: two processes running the same
  // command at once cannot both take it.
  const primary = chosen.filter((f) => f.lfs).reduce<RepoFile | null>((a, b) => (!a || b.size > a.size ? b : a), null) ?? chosen[0];
  const entry = await updateDownloads(root, (list) => {
    const want = requestKey({ repo_id: repoId, revision, complete_model_id: params2.completeModelId ?? null, filenames: params2.files ?? null, filename: params2.files?.[0] ?? null, quant: params2.quant ?? null, family: null, official_name: "", model_type: null });
    let e = resumeEntry
      ? list.find((d) => d.download_id === resumeEntry!.download_id)
      : list.find((d) => d.status !== "completed" && d.status !== "cancelled" && requestKey(d.download_request) === want);
    if (!e && resumeEntry) throw new ModelLibraryError("E_NOT_FOUND", `no download "${resumeEntry.download_id}" in ${root} (removed meanwhile)`);
    if (e?.runner && runnerAlive(e) && e.runner.pid !== process.pid) {
      throw new ModelLibraryError("E_LOCKED", `download ${e.download_id} of ${repoId} is already running (pid ${e.runner.pid} on ${e.runner.hostname})`);
    }
    if (!e) {
      e = newEntry(root, repoId, revision, params2, info.model.name);
      list.push(e);
    }
    Object.assign(e, {
      filename: primary.path,
      filenames: chosen.map((f) => f.path),
      total_bytes: chosen.reduce((a, f) => a + f.size, 0),
      known_sha256: primary.sha256,
      commit_sha: info.commitSha,
      staging_dir: stagingDirOf(root, e),
      status: "downloading",
      error: null,
      control: null,
      runner: { pid: process.pid, hostname: hostname(), lease_renewed_at: new Date().toISOString() },
      updated_at: new Date().toISOString(),
    } satisfies Partial<DownloadEntry>);
    e.download_request.model_type ??= modelTypeOfKind(info.model.kind);
    return structuredClone(e);
  });
  const staging = entry.staging_dir!;
  setRunningHere(entry.download_id, true);

  // Pause/cancel asks from other processes arrive through downloads.json; the lease is renewed meanwhile.
  const inner = new AbortController();
  const onAbort = (): void => inner.abort(options.signal?.reason ?? "pause");
  options.signal?.addEventListener("abort", onAbort, { once: true });
  if (options.signal?.aborted) onAbort(); // fired during the awaits above: the listener came too late to hear it
  let control: "pause" | "cancel" | null = null;
  let downloaded = 0;
  // A poll still waiting for the lock when the download ends must not write after its final state: it set this
  // process back as the runner of a paused download, which then read as "already running" for as long as this
  // process lives (a server, an API user). So one poll at a time, none once stopped, and the last one awaited.
  let stopped = false;
  let polling: Promise<void> | null = null;
  const stopPolling = async (): Promise<void> => {
    stopped = true;
    clearInterval(poll);
    await polling;
  };
  // The runner's lease is renewed by the poll. One that cannot be written (a full disk, a lock held too long) would
  // expire while the download runs, and another process would then take the download over, both writing the
  // same .part: the download stops first, at half the lease.
  const leaseMs = params.leaseMs ?? LEASE_MS;
  let renewedAt = Date.now();
  let leaseLost: ModelLibraryError | null = null;
  const poll = setInterval(() => {
    if (polling) return;
    let renewing = 0;
    polling = updateDownloads(root, (list) => {
      if (stopped) return;
      const me = list.find((d) => d.download_id === entry.download_id);
      if (!me) {
        control = "cancel"; // removed by someone: treat as cancelled
        return;
      }
      if (me.control) control = me.control;
      me.downloaded_bytes = downloaded;
      me.status = control === "pause" ? "pausing" : control === "cancel" ? "cancelling" : me.status;
      renewing = Date.now();
      me.runner = { pid: process.pid, hostname: hostname(), lease_renewed_at: new Date(renewing).toISOString() };
    })
      .then(() => {
        if (renewing) renewedAt = renewing;
        if (control && !inner.signal.aborted) inner.abort(control);
      })
      .catch((e: unknown) => {
        if (stopped || inner.signal.aborted || Date.now() - renewedAt <= leaseMs / 2) return; // tried again next time
        leaseLost = new ModelLibraryError(
          "E_IO",
          `${downloadsFile(root)}: the lease of download ${entry.download_id} cannot be renewed (${(e as Error).message}); it stopped, so that no other process takes it over while it runs: run the same command again once that is fixed`,
          { path: downloadsFile(root), cause: e },
        );
        inner.abort(leaseLost);
      })
      .finally(() => {
        polling = null;
      });
  }, params.controlPollMs ?? 1000);

  const results: DownloadedFile[] = [];
  let fetchedBytes = 0;
  let lastEmit = 0;
  try {
    // Content the library holds already is linked, not fetched: it needs no room.
    await checkFreeSpace(staging, chosen.filter((f) => !(f.sha256 && lib.findByHash(f.sha256))), root);
    const total = chosen.reduce((a, f) => a + f.size, 0);
    for (const f of chosen) {
      if (inner.signal.aborted) throw cancelledError("download");
      const dest = join(staging, ...f.path.split("/"));
      const partial = `${dest}.part`;
      // Content already in the library is linked, not fetched again.
      const linked = f.sha256 ? await linkFromLibrary(lib, f, dest) : null;
      if (linked) {
        results.push(linked);
        downloaded += f.size;
        emit?.({ op: "download", phase: "download", item: f.path, done: downloaded, total, unit: "bytes", itemDone: f.size, itemTotal: f.size });
        continue;
      }
      const staged = await stagedAndVerified(dest, f);
      if (staged) {
        results.push({ path: f.path, size: f.size, ...staged, how: "resumed" });
        downloaded += f.size;
        continue;
      }
      const base = downloaded;
      const r = await downloadFile({
        config: client.config,
        url: resolveUrl(client.config.endpoint, repoId, info.commitSha ?? revision, f.path),
        partialPath: partial,
        expectedSize: f.size,
        expectedSha256: f.sha256,
        expectedGitSha1: f.lfs ? null : (f.gitSha1 ?? null),
        connections: params2.connections,
        partSize: params.partSize,
        retry: params.retry,
        stallMs: params.stallMs,
        signal: inner.signal,
        onStart: ({ resumedBytes }) => {
          downloaded = base + resumedBytes;
          emit?.({ op: "download", phase: "download", item: f.path, done: downloaded, total, unit: "bytes", itemDone: resumedBytes, itemTotal: f.size });
        },
        onBytes: (d) => {
          downloaded += d;
          // One event per 64 KiB socket chunk would be ~16k a GiB: at most one per 50 ms (a terminal redraws no faster).
          const now = performance.now();
          if (now - lastEmit < 50) return;
          lastEmit = now;
          emit?.({ op: "download", phase: "download", item: f.path, done: downloaded, total, unit: "bytes", itemDone: downloaded - base, itemTotal: f.size });
        },
      });
      fetchedBytes += r.fetchedBytes;
      await rename(partial, dest).catch((e) => {
        throw ioError(dest, "move into place", e);
      });
      // The record (now saying "verified") stays until the model has landed: a crash before that resumes from it.
      results.push({ path: f.path, size: r.size, sha256: r.sha256, blake3: r.blake3, how: r.resumedBytes > 0 ? "resumed" : "downloaded" });
      downloaded = base + f.size;
      emit?.({ op: "download", phase: "download", item: f.path, done: downloaded, total, unit: "bytes", itemDone: f.size, itemTotal: f.size });
    }
    await stopPolling();
    // Still in staging: a pickle under a safe name is removed here and fails the download, so nothing lands.
    await refuseStagedPickles(repoId, staging, results.map((f) => f.path), allowPickle);
    emit?.({ op: "download", phase: "commit", item: repoId });
    const modelId = completeDir
      ? await landCompletion(lib, completeDir, params2.completeModelId!, staging, results)
      : await landModel(lib, { entry, staging, results, kind: info.model.kind, repoId, commitSha: info.commitSha, params: params2, tags: info.model.tags, cardData: info.cardData, endpoint: client.config.endpoint, quant: choice.quant });
    await rm(staging, { recursive: true, force: true });
    await removeDownload(root, entry.download_id);
    emit?.({ op: "download", phase: "done", item: modelId });
    return {
      downloadId: entry.download_id,
      repoId,
      commitSha: info.commitSha,
      modelId,
      status: "completed",
      files: results,
      totalBytes: results.reduce((a, f) => a + f.size, 0),
      fetchedBytes,
      seconds: (performance.now() - started) / 1000,
      warnings,
    };
  } catch (e) {
    await stopPolling();
    if (leaseLost) {
      await saveDownload(root, { ...entry, status: "paused", control: null, runner: null, downloaded_bytes: downloaded }).catch(() => undefined);
      throw leaseLost as ModelLibraryError;
    }
    const why = (control as "pause" | "cancel" | null) ?? (options.signal?.aborted ? "pause" : null);
    if (isCancelled(e) || why) {
      if (why === "cancel") {
        await rm(staging, { recursive: true, force: true });
        await removeDownload(root, entry.download_id);
        throw new ModelLibraryError("E_CANCELLED", `download ${entry.download_id} of ${repoId} cancelled; its partial files were removed`);
      }
      await saveDownload(root, { ...entry, status: "paused", control: null, runner: null, downloaded_bytes: downloaded });
      throw new ModelLibraryError("E_CANCELLED", `download ${entry.download_id} of ${repoId} paused at ${downloaded} of ${entry.total_bytes} bytes; run the same command (or \`mlib downloads resume ${entry.download_id}\`) to continue`);
    }
    await saveDownload(root, { ...entry, status: "error", error: (e as Error).message, control: null, runner: null, downloaded_bytes: downloaded }).catch(() => undefined);
    throw e;
  } finally {
    setRunningHere(entry.download_id, false);
    clearInterval(poll);
    options.signal?.removeEventListener("abort", onAbort);
    if (!params.client) client.close();
  }
}

export function resolveUrl(endpoint: string, repoId: string, revision: string, path: string): string {
  return `${endpoint}/${repoId}/resolve/${encodeURIComponent(revision)}/${path.split("/").map(encodeURIComponent).join("/")}`;
}

function newEntry(root: string, repoId: string, revision: string, p: DownloadModelParams, name: string): DownloadEntry {
  const id = randomUUID();
  return {
    download_id: id,
    repo_id: repoId,
    filename: "",
    filenames: [],
    dest_dir: join(downloadsStagingRoot(root), id),
    total_bytes: null,
    status: "queued",
    download_request: {
      repo_id: repoId,
      family: p.family ?? null,
      official_name: p.name ?? name,
      model_type: p.modelType ?? null,
      quant: p.quant ?? null,
      filename: p.files?.[0] ?? null,
      filenames: p.files ?? null,
      revision,
      complete_model_id: p.completeModelId ?? null,
    },
    created_at: new Date().toISOString(),
    known_sha256: null,
    revision,
  };
}

/** What makes two requests the same download: repo, revision, completed model, and the files or the quant asked for. */
function requestKey(r: DownloadEntry["download_request"]): string {
  return JSON.stringify([r.repo_id, r.revision ?? "main", r.complete_model_id ?? null, r.filenames ?? (r.filename ? [r.filename] : null), r.filenames || r.filename ? null : (r.quant ?? null)]);
}

/** Refuses to start when the staging filesystem cannot hold what is left to fetch. */
async function checkFreeSpace(staging: string, files: RepoFile[], root: string): Promise<void> {
  await mkdir(staging, { recursive: true }).catch((e) => {
    throw ioError(staging, "create", e);
  });
  let need = 0;
  for (const f of files) {
    const dest = join(staging, ...f.path.split("/"));
    if (await stat(dest).catch(() => null)) continue;
    // A partial file is allocated at full size already (sparse): what is left is what its record lacks.
    const rec = await stat(`${dest}.part`).catch(() => null);
    need += rec ? Math.max(0, f.size - Math.min(rec.blocks * 512, f.size)) : f.size;
  }
  const fs = await statfs(staging).catch(() => null);
  if (!fs) return;
  const free = fs.bavail * fs.bsize;
  if (need + FREE_SPACE_MARGIN > free) {
    throw new ModelLibraryError(
      "E_IO",
      `not enough free space for this download in ${root}: it needs ${need} bytes (+${FREE_SPACE_MARGIN} margin), the filesystem has ${free} bytes free`,
      { path: staging },
    );
  }
}

/** The hashes of a file a previous run downloaded, verified and moved to its staged name, if it is that file. */
async function stagedAndVerified(dest: string, f: RepoFile): Promise<{ sha256: string; blake3: string } | null> {
  const st = await stat(dest).catch(() => null);
  if (!st || st.size !== f.size || !f.sha256) return null;
  const r = await readJson<{ verified?: { sha256: string; blake3: string } | null }>(`${dest}.part.json`).catch(() => null);
  return r?.verified && r.verified.sha256 === f.sha256 ? r.verified : null;
}

/** Hard-links a file whose content the library already holds (same SHA-256) into the staging folder. */
async function linkFromLibrary(lib: ModelLibrary, f: RepoFile, dest: string): Promise<DownloadedFile | null> {
  const rec = lib.findByHash(f.sha256!);
  if (!rec) return null;
  const meta = await lib.getMetadata(rec.id).catch(() => null);
  const file = meta?.files?.find((x) => x.sha256 === f.sha256);
  // Only a name inside the model folder: an edited or hostile one ("../../x") would have a file from outside the
  // library hard-linked into the new model, unread; that file is downloaded instead.
  if (!file || !file.blake3 || !isSafeRelativePath(file.name)) return null;
  const src = join(lib.modelDir(rec.id), ...file.name.split("/"));
  const st = await stat(src).catch(() => null);
  if (!st || st.size !== f.size) return null;
  await mkdir(dirname(dest), { recursive: true });
  await rm(dest, { force: true });
  try {
    await link(src, dest);
  } catch {
    return null; // another filesystem, or links not allowed: download it
  }
  return { path: f.path, size: f.size, sha256: f.sha256!, blake3: file.blake3, how: "linked", linkedFrom: `${rec.id}/${file.name}` };
}

interface LandParams {
  entry: DownloadEntry;
  staging: string;
  results: DownloadedFile[];
  kind: string;
  repoId: string;
  commitSha: string | null;
  params: DownloadModelParams;
  tags: string[];
  cardData: Record<string, unknown> | null;
  endpoint: string;
  quant: string | null;
}

/** Moves the verified files into `<type>/<family>/<name>/` and imports them in place with their hashes. */
async function landModel(lib: ModelLibrary, p: LandParams): Promise<string> {
  const weights = p.results.filter((f) => /\.(gguf|safetensors|bin|pt|pth|ckpt|onnx)$/i.test(f.path));
  const primary = (weights.length ? weights : p.results).reduce((a, b) => (b.size > a.size ? b : a));
  const ident = await identify(join(p.staging, ...primary.path.split("/"))).catch(() => null);
  const modelType = p.params.modelType ?? (ident && ident.modelType !== "unknown" ? ident.modelType : modelTypeOfKind(p.kind));
  const family = p.params.family ?? ident?.family ?? "unknown";
  const repoName = p.repoId.slice(p.repoId.indexOf("/") + 1);
  const quant = p.quant;
  const name = p.params.name ?? (quant && !repoName.toLowerCase().includes(quant.toLowerCase()) ? `${repoName}-${quant}` : repoName);
  const baseId = lib.buildModelId(modelType, family, name);
  const { id, landed } = await claimFolder(lib, p, baseId);
  const modelId = landed ? id : await moveIntoPlace(lib, p, id, modelType, family, repoName, primary);
  const baseModel = p.cardData?.base_model;
  await lib.updateMetadata(modelId, (m) => {
    m.match_source = "download";
    m.match_method = "repo_id";
    m.match_confidence = 1;
    m.pending_online_lookup = false;
    m.download_url = `${p.endpoint}/${p.repoId}`;
    m.source_revision = p.commitSha;
    m.tags = [...new Set([...(m.tags ?? []), ...p.tags.filter((t) => !t.includes(":") && t.length < 40)])];
    if (typeof baseModel === "string") m.base_model = [baseModel];
    else if (Array.isArray(baseModel)) m.base_model = baseModel.filter((b): b is string => typeof b === "string");
  });
  return modelId;
}

/** Moves the staged files into the model's folder (keeping those a crash had moved already) and writes its metadata.json. */
async function moveIntoPlace(lib: ModelLibrary, p: LandParams, id: string, modelType: string, family: string, repoName: string, primary: DownloadedFile): Promise<string> {
  const dir = lib.modelDir(id);
  await mkdir(dir, { recursive: true });
  for (const f of p.results) {
    const to = join(dir, ...f.path.split("/"));
    const from = join(p.staging, ...f.path.split("/"));
    if (!(await stat(from).catch(() => null)) && (await stat(to).catch(() => null))?.size === f.size) continue; // moved before the crash
    await mkdir(dirname(to), { recursive: true });
    await rename(from, to).catch((e) => {
      throw ioError(to, "move into place", e);
    });
  }
  const knownHashes = Object.fromEntries(p.results.map((f) => [f.path, { sha256: f.sha256, blake3: f.blake3 }]));
  const r = await importInPlace(lib, {
    modelDir: dir,
    officialName: p.params.name ?? repoName,
    family: family === "unknown" ? null : family,
    modelType,
    repoId: p.repoId,
    knownSha256: primary.sha256,
    knownHashes,
    expectedFiles: p.results.map((f) => f.path),
    allowIncomplete: true,
    allowPickle: p.params.allowPickle, // refused pickles never reach here (refuseStagedPickles): this is the consent
  });
  return r.modelId;
}

/**
 * The folder the model lands in: `baseId`, else `baseId_2`, `_3`... when another model has it. Chosen and made under
 * the commit lock, as an import chooses and renames its folder under it: two downloads (or a download and an import)
 * deriving one id never take one folder, even at the same instant. The lock is let go before the files move in
 * (importInPlace takes it again: it is not re-entrant). The folder made is recorded in this download's entry with
 * its identity (device, inode): only that lets a run after a crash take it back while it has no metadata.json;
 * a folder holding files of the same names (and sizes) may be another download's, still moving in.
 */
async function claimFolder(lib: ModelLibrary, p: LandParams, baseId: string): Promise<{ id: string; landed: boolean }> {
  return withLock(join(lib.root, COMMIT_LOCK), async () => {
    let claims: DownloadEntry["landing"][] | null = null;
    for (let n = 1; ; n++) {
      const id = n === 1 ? baseId : `${baseId}_${n}`;
      const dir = lib.modelDir(id);
      const st = await stat(dir).catch(() => null);
      if (!st) {
        await mkdir(dirname(dir), { recursive: true });
        const made = await mkdir(dir).then(
          () => true,
          (e: NodeJS.ErrnoException) => {
            if (e.code === "EEXIST") return false; // made by someone not taking the lock: not ours
            throw ioError(dir, "create", e);
          },
        );
        if (made) return { id, landed: await recordClaim(lib, p, id, dir) };
        continue;
      }
      const meta = await lib.getMetadata(id).catch(() => null);
      // Landed already (by an earlier run, or by this one killed before it recorded the download's fields): nothing
      // is moved, and those fields are recorded.
      if (meta && meta.repo_id === p.repoId && sameFiles(meta.files ?? [], p.results)) return { id, landed: true };
      if (meta) continue;
      // This download's own folder, made by a run that crashed before its metadata.json was written.
      const mine = p.entry.landing;
      if (mine && mine.model_id === id && mine.dev === st.dev && mine.ino === st.ino) return { id, landed: false };
      // An empty folder nobody claims: left by a run killed between making it and recording it (claims are made
      // and recorded under this lock, so an unrecorded one is no live download's).
      if ((await readdir(dir).catch(() => ["?"])).length === 0) {
        claims ??= (await listDownloads(lib.root)).filter((d) => d.download_id !== p.entry.download_id).map((d) => d.landing);
        if (!claims.some((c) => c?.model_id === id)) return { id, landed: await recordClaim(lib, p, id, dir) };
      }
    }
  });
}

/** Records the folder this download made (its id and identity) in its entry of downloads.json. */
async function recordClaim(lib: ModelLibrary, p: LandParams, id: string, dir: string): Promise<false> {
  const st = await stat(dir);
  const landing = { model_id: id, dev: st.dev, ino: st.ino };
  p.entry.landing = landing; // the entry saved on an error keeps it too
  await updateDownloads(lib.root, (list) => {
    const me = list.find((d) => d.download_id === p.entry.download_id);
    if (me) me.landing = landing;
  });
  return false;
}

function sameFiles(have: { name: string; sha256: string | null }[], got: DownloadedFile[]): boolean {
  return got.every((g) => have.some((h) => h.name === g.path && h.sha256 === g.sha256));
}

/** The shards of a split file that a stored model's folder lacks (what `download --complete` fetches). */
export async function missingShards(lib: ModelLibrary, id: string): Promise<string[]> {
  const names = (await readdir(lib.modelDir(id)).catch(() => [] as string[])).filter((n) => n !== METADATA_FILE);
  return missingShardNames(names);
}

/** The stored model's missing shards: where they go and which repo has them. */
async function planCompletion(lib: ModelLibrary, id: string): Promise<{ repoId: string; missing: string[]; present: Set<string>; landed: LandedShard[] }> {
  const meta = await lib.getMetadata(id);
  if (!meta.repo_id) {
    throw new ModelLibraryError("E_NOT_FOUND", `${id}: its Hub repo is not known; run \`mlib lookup ${id}\` first (a hash match fills repo_id)`);
  }
  // Shards a killed completion moved into place without recording them: recorded first (landed-shards.ts).
  const landed = await recordLandedShards(lib, id, meta);
  const missing = await missingShards(lib, id);
  if (missing.length === 0 && landed.length === 0) throw new ModelLibraryError("E_USAGE", `${id}: no shard is missing`);
  const present = new Set([...(meta.files ?? []), ...landed].map((f) => f.sha256?.toLowerCase()).filter((h): h is string => Boolean(h)));
  return { repoId: meta.repo_id, missing, present, landed };
}

/** Moves the fetched shards into the stored model's folder and records them in its metadata. */
async function landCompletion(lib: ModelLibrary, dir: string, id: string, staging: string, results: DownloadedFile[]): Promise<string> {
  for (const f of results) {
    const base = f.path.slice(f.path.lastIndexOf("/") + 1);
    const to = join(dir, base);
    if (await stat(to).catch(() => null)) throw new ModelLibraryError("E_EXISTS", `${to} appeared meanwhile; not replacing it`);
    await rename(join(staging, ...f.path.split("/")), to).catch((e) => {
      throw ioError(to, "move into place", e);
    });
  }
  await recordShards(lib, id, results.map((f) => ({ name: f.path.slice(f.path.lastIndexOf("/") + 1), originalName: f.path, size: f.size, sha256: f.sha256, blake3: f.blake3 })));
  await rmdir(staging).catch(() => undefined);
  return id;
}
