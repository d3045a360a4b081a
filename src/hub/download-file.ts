// Downloads one Hub file into a partial file: large files as fixed-size parts fetched by several connections
// (Range requests straight to the CDN the Hub redirected us to, never with our token), small files whole.
// Each 206 is checked against its Content-Range; a server that ignores Range (200) is met by one sequential
// stream from byte 0, so nothing lands at the wrong offset. SHA-256 and BLAKE3 follow the written prefix
// (prefix-hasher.ts) and are compared with the Hub's sha256 at the end: a mismatch deletes the partial file.
// Network errors, stalls, 429 and 5xx are retried per part with backoff (honouring Retry-After), resuming the
// part where it stopped; a part record (part-record.ts) makes a killed download resume at the parts in flight.
// The anchor is Ollama's server/download.go (parts, a resumable record, the digest checked before trusting).
import { writeSync } from "node:fs";
import { open, rm, stat, type FileHandle } from "node:fs/promises";
import { dirname } from "node:path";
import { mkdir } from "node:fs/promises";
import { ModelLibraryError, cancelledError, ioError } from "../core/errors.js";
import type { HubConfig } from "./config.js";
import { gitBlobSha1 } from "./git-blob-sha1.js";
import { hubHttpError } from "./hub-errors.js";
import { networkError } from "./hub-fetch.js";
import { discard, hubGet, type RawResponse } from "./http-get.js";
import { rawRangeGet } from "./raw-range-get.js";
import { partLayout } from "./part-layout.js";
import { loadPartRecord, recordPathOf, syncPartRecord, writePartRecord, type PartRecord } from "./part-record.js";
import { PrefixHasher, WorkerPrefixHasher, type PrefixHashing } from "./prefix-hasher.js";
import { DEFAULT_RETRY, backoffMs, isRetryableStatus, serverWaitMs, sleep, type RetryPolicy } from "./retry.js";

export interface DownloadFileParams {
  config: HubConfig;
  /** The file's `resolve` URL on the Hub (stable; the CDN URL it redirects to expires). */
  url: string;
  /** Where the bytes are written; the part record sits beside it (`<partialPath>.json`). */
  partialPath: string;
  /** Size and SHA-256 from the tree (LFS entry); else taken from X-Linked-Size / X-Linked-Etag. */
  expectedSize?: number | null;
  expectedSha256?: string | null;
  /** The git blob sha1 of a plain git (non-LFS) file, from the tree (its `oid`): checked with the size. */
  expectedGitSha1?: string | null;
  /** Parallel connections for a large file (default 8). */
  connections?: number;
  /** Part size (default: the file split into ~4 parts per connection, 8-256 MiB); the first part of each
   * connection is shorter (part-layout.ts). */
  partSize?: number;
  /** Files up to this size go in one request (default 16 MiB). */
  wholeBelow?: number;
  retry?: RetryPolicy;
  /** Hash in a worker thread (default: for files of 64 MiB and more). */
  hashInWorker?: boolean;
  /** A connection that delivers no byte for this long is dropped and retried (default 30 s). */
  stallMs?: number;
  signal?: AbortSignal;
  /** Called once the size is known, with the bytes already on disk from an earlier run. */
  onStart?: (info: { size: number; resumedBytes: number }) => void;
  /** New bytes written (for progress; bytes fetched again after a retry are not counted twice). */
  onBytes?: (delta: number) => void;
}

export interface DownloadFileResult {
  size: number;
  sha256: string;
  blake3: string;
  /** The commit the Hub resolved the revision to (X-Repo-Commit), when it said. */
  commitSha: string | null;
  /** Bytes already on disk from an earlier run. */
  resumedBytes: number;
  /** Bytes fetched over the network in this run (parts re-fetched after an interruption included). */
  fetchedBytes: number;
  /** Parts fetched in this run that an earlier run had started but not recorded complete. */
  partsFetched: number;
  /** True when the server ignored Range and the file came as one stream. */
  rangeless: boolean;
}

const MiB = 1024 * 1024;
const SYNC_EVERY = 128 * MiB;
const WORKER_HASH_FROM = 64 * MiB;
/** The largest single write(2); see WriteBuffers. */
const WRITE_PIECE = 64 * 1024;

class RangeIgnored extends Error {}
class RetryableError extends Error {
  constructor(message: string, readonly waitMs: number | null = null) {
    super(message);
  }
}

export async function downloadFile(p: DownloadFileParams): Promise<DownloadFileResult> {
  const retry = p.retry ?? DEFAULT_RETRY;
  const stallMs = p.stallMs ?? 30_000;
  const signal = p.signal;
  if (signal?.aborted) throw cancelledError("download");
  await mkdir(dirname(p.partialPath), { recursive: true }).catch((e) => {
    throw ioError(dirname(p.partialPath), "create", e);
  });

  // A file verified by an earlier run that stopped before moving it into place: nothing to fetch.
  if (p.expectedSize !== undefined && p.expectedSize !== null) {
    const done = await loadPartRecord(p.partialPath, { url: p.url, size: p.expectedSize, sha256: p.expectedSha256 ?? null });
    const st = await stat(p.partialPath).catch(() => null);
    if (done?.verified && st?.size === p.expectedSize) {
      await checkGitBlob(p, p.expectedSize);
      return { size: p.expectedSize, ...done.verified, commitSha: null, resumedBytes: p.expectedSize, fetchedBytes: 0, partsFetched: 0, rangeless: false };
    }
  }

  // Probe with a one-byte range: follows the redirect to the CDN (the URL the parts then use), and reads the
  // size, the sha256 and the commit from the Hub's own redirect answer.
  const probe = await withRetries(retry, signal, p.url, async () => {
    const r = await answerWithin(stallMs, signal, async (s) => {
      const answer = await hubGet(p.config, p.url, { headers: { range: "bytes=0-0", "accept-encoding": "identity" }, signal: s });
      // The probe's own byte is read under the same watch: headers followed by nothing would hang the drain below.
      if ((answer.status === 206 || answer.status === 416) && Number(answer.headers.get("content-length") ?? "0") <= 64 * 1024) {
        await drain(answer);
        if (!answer.body.complete) throw new RetryableError(`${p.url}: the answer to the first byte was cut short`);
      }
      return answer;
    });
    if (r.status === 416 && (p.expectedSize ?? 0) === 0) return r;
    if (r.status !== 206 && r.status !== 200) failFor(r, p.url, p.config);
    return r;
  });
  const linked = probe.redirectHeaders ?? probe.headers;
  const commitSha = linked.get("x-repo-commit") ?? probe.headers.get("x-repo-commit");
  const announcedSha = normalizeEtag(linked.get("x-linked-etag"));
  const expectedSha = (p.expectedSha256 ?? announcedSha)?.toLowerCase() ?? null;
  let size = numberOr(linked.get("x-linked-size"), null);
  if (probe.status === 206) size ??= numberOr(/\/(\d+)$/.exec(probe.headers.get("content-range") ?? "")?.[1], null);
  if (probe.status === 200) size ??= numberOr(probe.headers.get("content-length"), null);
  if (probe.status === 416) size = 0;
  size ??= p.expectedSize ?? null;
  if (size === null) {
    discard(probe);
    throw new ModelLibraryError("E_NETWORK", `${p.url}: the server did not say how large the file is`);
  }
  if (p.expectedSize !== undefined && p.expectedSize !== null && size !== p.expectedSize) {
    discard(probe);
    throw new ModelLibraryError("E_HASH_MISMATCH", `${p.url}: the server offers ${size} bytes where the repo tree lists ${p.expectedSize} (the repo changed? run the command again)`);
  }
  const cdnUrl = probe.url;
  const rangelessProbe = probe.status === 200 && size > 1 ? probe : null;
  if (!rangelessProbe) await drain(probe);

  const connections = Math.max(1, Math.min(64, p.connections ?? 8));
  const wholeBelow = p.wholeBelow ?? 16 * MiB;
  let record = await loadPartRecord(p.partialPath, { url: p.url, size, sha256: expectedSha });
  const existing = await stat(p.partialPath).catch(() => null);
  if (existing?.size !== size || rangelessProbe) record = null;
  // A resumed download keeps the part size it was started with: the default one follows the number of
  // connections, and another --connections (or `downloads resume` without it) must not throw the parts away.
  const partSize =
    (p.partSize === undefined && record && record.completed.length > 0 ? record.partSize : undefined) ??
    (size <= wholeBelow || connections === 1
      ? Math.max(size, 1)
      : (p.partSize ?? Math.min(256 * MiB, Math.max(8 * MiB, Math.ceil(size / (connections * 4) / MiB) * MiB))));
  if (record && record.partSize !== partSize) record = null;
  // One growing lead part per connection when the file comes in parts (part-layout.ts); a resumed download
  // keeps the parts it was started with, whatever the number of connections now.
  const lead = record?.lead ?? (partSize < size ? connections : 0);
  let fh: FileHandle;
  try {
    fh = await open(p.partialPath, record ? "r+" : "w+");
    if (!record) await fh.truncate(size);
  } catch (e) {
    throw ioError(p.partialPath, "write", e);
  }
  const rec: PartRecord = record ?? {
    version: 1,
    url: p.url,
    size,
    sha256: expectedSha,
    partSize,
    lead,
    completed: [],
    synced: [],
    bootId: null,
    verified: null,
    updatedAt: "",
  };
  const parts = partLayout(size, partSize, lead);
  const partCount = parts.length;
  const partLength = (i: number): number => parts[i].length;
  const partDone = new Array<number>(partCount).fill(0);
  for (const i of rec.completed) partDone[i] = partLength(i);
  const resumedBytes = partDone.reduce((a, b) => a + b, 0);

  const prefixEnd = (): number => {
    let end = 0;
    for (let i = 0; i < partCount; i++) {
      end = parts[i].start + partDone[i];
      if (partDone[i] < partLength(i)) break;
    }
    return end;
  };
  // Small files are hashed on this thread (a worker's start-up would cost more than their hashing).
  const hasher: PrefixHashing = (p.hashInWorker ?? size >= WORKER_HASH_FROM) ? WorkerPrefixHasher.create(p.partialPath, prefixEnd) : await PrefixHasher.create(fh, prefixEnd);
  void hasher.catchUp().catch(() => undefined); // the resumed prefix, read back while the rest downloads

  p.onStart?.({ size, resumedBytes });
  let fetchedBytes = 0;
  let highWater = 0; // rangeless mode: bytes written so far, which a restart from byte 0 does not count again

  // The record is rewritten as each part completes, before its connection starts the next one, so a kill
  // finds at most one unrecorded part per connection (synchronous and not fsynced: part-record.ts).
  const saveRecord = (): void => writePartRecord(p.partialPath, rec);
  // Data is synced to disk in the background as it accumulates (so the sync at the end has little left);
  // parts complete before a sync began are then listed as `synced`, and the record saved with them is made
  // durable: they survive a reboot, not just a kill. Nothing waits for this.
  let unsynced = 0;
  let syncing: Promise<void> | null = null;
  const syncInBackground = (bytes: number): void => {
    unsynced += bytes;
    if (syncing || unsynced < SYNC_EVERY) return;
    unsynced = 0;
    const covered = [...rec.completed];
    syncing = fh
      .datasync()
      .then(async () => {
        rec.synced = [...new Set([...rec.synced, ...covered])];
        saveRecord();
        await syncPartRecord(p.partialPath);
      })
      .catch(() => undefined)
      .finally(() => {
        syncing = null;
      });
  };

  let abortAll = new AbortController();
  const onOuterAbort = (): void => abortAll.abort(signal?.reason);
  signal?.addEventListener("abort", onOuterAbort, { once: true });
  // Aborted during the awaits above (the record, the file, the hasher): the listener came too late to hear it.
  if (signal?.aborted) onOuterAbort();
  let currentUrl = cdnUrl;
  const hubOrigin = new URL(p.config.endpoint).origin;
  let partsFetched = 0;
  let rangeless = false;

  try {
    const todo = [...Array(partCount).keys()].filter((i) => partDone[i] < partLength(i));
    if (rangelessProbe) {
      rangeless = true;
      await streamWhole(rangelessProbe);
    } else if (todo.length > 0 && size > 0) {
      try {
        let next = 0;
        const worker = async (): Promise<void> => {
          const buffers = new WriteBuffers(fh.fd, p.partialPath, hasher);
          while (next < todo.length && !abortAll.signal.aborted) {
            const i = todo[next++];
            await fetchPart(i, buffers);
            rec.completed.push(i);
            partsFetched++;
            saveRecord();
            syncInBackground(partLength(i));
          }
        };
        await settleAll(Array.from({ length: Math.min(connections, todo.length) }, worker), abortAll);
      } catch (e) {
        if (!(e instanceof RangeIgnored)) throw e;
        // The server sent the whole file for a range: start over as one stream from byte 0.
        rangeless = true;
        partDone.fill(0);
        rec.completed = [];
        rec.synced = [];
        saveRecord();
        abortAll = new AbortController();
        if (signal?.aborted) throw cancelledError("download");
        await streamWhole(null);
      }
    }
    if (signal?.aborted) throw cancelledError("download");
    // The last bytes are hashed while the file is flushed to disk (the hasher reads the page cache).
    const digesting = hasher.digest();
    digesting.catch(() => undefined); // awaited below; a failed sync leaves it behind
    await syncing;
    await fh.sync();
    const digests = await digesting;
    if (hasher.hashed !== size) throw new ModelLibraryError("E_IO", `${p.partialPath}: hashed ${hasher.hashed} of ${size} bytes`);
    if (expectedSha && digests.sha256 !== expectedSha) {
      await fh.close().catch(() => undefined);
      await rm(p.partialPath, { force: true });
      await rm(recordPathOf(p.partialPath), { force: true });
      throw new ModelLibraryError(
        "E_HASH_MISMATCH",
        `${p.url}: downloaded bytes have sha256 ${digests.sha256}, the Hub announced ${expectedSha}; the partial file was deleted, nothing was stored`,
      );
    }
    await checkGitBlob(p, size);
    rec.completed = [...Array(partCount).keys()];
    rec.synced = [...rec.completed];
    rec.verified = digests;
    saveRecord();
    await syncPartRecord(p.partialPath);
    return { size, ...digests, commitSha, resumedBytes, fetchedBytes, partsFetched, rangeless };
  } catch (e) {
    if (signal?.aborted || isAbortError(e)) {
      if (!rangeless) {
        try {
          saveRecord();
        } catch {
          // the record as last written stands
        }
      }
      throw cancelledError("download");
    }
    throw e;
  } finally {
    signal?.removeEventListener("abort", onOuterAbort);
    hasher.close();
    await fh.close().catch(() => undefined);
  }

  /** One part, resumed where it stopped after each failed attempt. */
  async function fetchPart(i: number, buffers: WriteBuffers): Promise<void> {
    const { start, length: len } = parts[i];
    let refreshed = 0;
    await withRetries(retry, abortAll.signal, currentUrl, async () => {
      const from = start + partDone[i];
      if (from >= start + len) return;
      const attempt = new AbortController();
      const stopAttempt = (): void => attempt.abort(abortAll.signal.reason);
      abortAll.signal.addEventListener("abort", stopAttempt, { once: true });
      const watchdog = new Watchdog(attempt, stallMs);
      try {
        const headers = { range: `bytes=${from}-${start + len - 1}`, "accept-encoding": "identity" };
        const viaHttp = (): Promise<RawResponse> => hubGet(p.config, currentUrl, { headers, signal: attempt.signal });
        // On the CDN's origin (never the Hub's: no token goes there), the lean socket path (raw-range-get.ts).
        const r = await stallAware(attempt, async () =>
          !p.config.offline && new URL(currentUrl).origin !== hubOrigin
            ? ((await rawRangeGet(currentUrl, { "user-agent": "model-library", ...headers }, attempt.signal)) ?? (await viaHttp()))
            : viaHttp(),
        );
        if (r.status === 200) {
          if (from === 0 && len === size) return await pipeBody(r, 0, len, attempt, watchdog, buffers, (n) => partWritten(i, n));
          discard(r);
          throw new RangeIgnored();
        }
        if ((r.status === 401 || r.status === 403 || r.status === 404) && r.url !== p.url && refreshed < 2) {
          // The CDN's signed URL expired (they last an hour): ask the Hub for a fresh one.
          refreshed++;
          discard(r);
          const again = await hubGet(p.config, p.url, { headers: { range: "bytes=0-0", "accept-encoding": "identity" }, signal: attempt.signal });
          if (again.status !== 206) failFor(again, p.url, p.config);
          await drain(again);
          currentUrl = again.url;
          throw new RetryableError(`${p.url}: the CDN refused the download link (HTTP ${r.status}); fetched a new one`, 0);
        }
        if (r.status !== 206) failFor(r, p.url, p.config);
        const cr = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(r.headers.get("content-range") ?? "");
        if (!cr || Number(cr[1]) !== from || Number(cr[2]) !== start + len - 1 || (cr[3] !== "*" && Number(cr[3]) !== size)) {
          discard(r);
          throw new RetryableError(`${currentUrl}: asked for bytes ${from}-${start + len - 1}/${size}, the server sent Content-Range "${r.headers.get("content-range")}"`);
        }
        await pipeBody(r, from, start + len - from, attempt, watchdog, buffers, (n) => partWritten(i, n));
      } finally {
        watchdog.stop();
        abortAll.signal.removeEventListener("abort", stopAttempt);
      }
    });
  }

  /** The whole file as one stream (the server ignores Range): each attempt starts again at byte 0. */
  async function streamWhole(first: RawResponse | null): Promise<void> {
    let response: RawResponse | null = first;
    const buffers = new WriteBuffers(fh.fd, p.partialPath, hasher);
    await withRetries(retry, abortAll.signal, currentUrl, async () => {
      const attempt = new AbortController();
      const stopAttempt = (): void => attempt.abort(abortAll.signal.reason);
      abortAll.signal.addEventListener("abort", stopAttempt, { once: true });
      const watchdog = new Watchdog(attempt, stallMs);
      try {
        let res = response;
        response = null;
        if (!res) {
          const r = await stallAware(attempt, () => hubGet(p.config, currentUrl, { headers: { "accept-encoding": "identity" }, signal: attempt.signal }));
          if (r.status !== 200) failFor(r, p.url, p.config);
          res = r;
        }
        partDone.fill(0);
        let pos = 0;
        await pipeBody(res, 0, size!, attempt, watchdog, buffers, (n) => {
          pos += n;
          if (pos > highWater) {
            p.onBytes?.(pos - highWater);
            highWater = pos;
          }
          let left = n;
          for (let i = 0; i < partCount && left > 0; i++) {
            const room = partLength(i) - partDone[i];
            const take = Math.min(room, left);
            partDone[i] += take;
            left -= take;
          }
        });
      } finally {
        watchdog.stop();
        abortAll.signal.removeEventListener("abort", stopAttempt);
      }
    });
  }

  function partWritten(i: number, n: number): void {
    partDone[i] += n;
    p.onBytes?.(n);
  }

  /** Streams `length` bytes of a body to the file at `pos`, dropping the connection when it stalls. */
  async function pipeBody(
    res: RawResponse,
    pos: number,
    length: number,
    attempt: AbortController,
    watchdog: Watchdog,
    buffers: WriteBuffers,
    onWritten: (n: number) => void,
  ): Promise<void> {
    let got = 0;
    buffers.begin(pos, onWritten);
    const body = res.body;
    // A stall or an abort ends the body even when its request was made under another signal (the probe's answer,
    // streamed whole when the server ignores Range).
    const endBody = (): void => void body.destroy();
    if (attempt.signal.aborted) endBody();
    attempt.signal.addEventListener("abort", endBody, { once: true });
    // 'data' events with synchronous writes: no promise per 64 KiB chunk (the async iterator made two).
    const failure = await new Promise<unknown>((resolve) => {
      const finish = (e: unknown): void => {
        body.off("data", onData);
        resolve(e);
      };
      const onData = (chunk: Buffer): void => {
        watchdog.touch();
        let bytes = chunk;
        if (got + bytes.length > length) bytes = bytes.subarray(0, length - got); // never past the range asked for
        got += bytes.length;
        fetchedBytes += bytes.length;
        try {
          buffers.write(bytes);
        } catch (e) {
          body.destroy();
          return finish(e);
        }
        if (got >= length) finish(null);
      };
      body.on("data", onData);
      body.once("end", () => finish(null));
      body.once("error", (e) => finish(e));
      body.once("close", () => finish(got >= length ? null : new Error("connection closed")));
    });
    attempt.signal.removeEventListener("abort", endBody);
    if (!body.complete) body.destroy();
    if (failure instanceof ModelLibraryError) throw failure; // a write failed (disk full...): final
    if (failure) {
      if (attempt.signal.reason instanceof StallError) throw new RetryableError(`${currentUrl}: no byte for ${stallMs} ms (stalled); retrying`);
      if (attempt.signal.aborted) throw cancelledError("download");
      throw new RetryableError(`${currentUrl}: connection lost after ${got} of ${length} bytes (${(failure as Error).message})`);
    }
    if (got < length) throw new RetryableError(`${currentUrl}: connection closed after ${got} of ${length} bytes`);
  }
}

/**
 * A plain git file against the blob sha1 the tree gives (its only check: it has no sha256). A mismatch is handled as
 * an LFS file's sha256 mismatch: the partial file and its record are deleted, E_HASH_MISMATCH names the file.
 */
async function checkGitBlob(p: DownloadFileParams, size: number): Promise<void> {
  const want = p.expectedGitSha1?.toLowerCase();
  if (!want) return;
  const got = await gitBlobSha1(p.partialPath, size).catch((e) => {
    throw ioError(p.partialPath, "read", e);
  });
  if (got === want) return;
  await rm(p.partialPath, { force: true });
  await rm(recordPathOf(p.partialPath), { force: true });
  throw new ModelLibraryError(
    "E_HASH_MISMATCH",
    `${p.url}: downloaded bytes have git blob sha1 ${got}, the repo tree lists ${want}; the partial file was deleted, nothing was stored`,
  );
}

class StallError extends Error {
  constructor(readonly ms: number) {
    super(`stalled for ${ms} ms`);
  }
}

/** Aborts an attempt (with a StallError) when neither headers nor a byte came for `ms`. */
class Watchdog {
  private last = Date.now();
  private readonly timer: NodeJS.Timeout;

  constructor(attempt: AbortController, ms: number) {
    this.timer = setInterval(() => {
      if (Date.now() - this.last > ms) attempt.abort(new StallError(ms));
    }, Math.max(20, Math.min(1000, ms / 4)));
  }

  touch(): void {
    this.last = Date.now();
  }

  stop(): void {
    clearInterval(this.timer);
  }
}

/**
 * A request whose answer (its headers) must come within `ms`, else it is dropped as a retryable stall: a Hub that
 * accepts the connection and never answers would otherwise hang the command for good.
 */
async function answerWithin<T>(ms: number, signal: AbortSignal | undefined, request: (signal: AbortSignal) => Promise<T>): Promise<T> {
  const attempt = new AbortController();
  const stop = (): void => attempt.abort(signal?.reason);
  signal?.addEventListener("abort", stop, { once: true });
  if (signal?.aborted) stop();
  const watchdog = new Watchdog(attempt, ms);
  try {
    return await stallAware(attempt, () => request(attempt.signal));
  } finally {
    watchdog.stop();
    signal?.removeEventListener("abort", stop);
  }
}

/** Runs a request; when the watchdog fired, its failure becomes a retryable "stalled". */
async function stallAware<T>(attempt: AbortController, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (e) {
    const reason: unknown = attempt.signal.reason;
    if (reason instanceof StallError) throw new RetryableError(`no answer for ${reason.ms} ms (stalled); retrying`);
    throw e;
  }
}

/**
 * Writes each received chunk at its offset, synchronously, as curl does, in writes of at most 64 KiB. Measured
 * here on 256 MiB: writing the socket's 64 KiB chunks straight away cost 135-236 ms of write time, copying them
 * into 2 MiB buffers written through the thread pool 0.9-1.4 s, and the total went from ~2 s to ~1.1 s. The
 * size of each write matters by itself: the page cache takes a folio as large as the write, and on this VM
 * (whose host takes freed memory back) large folios often come from memory the host must fault in again.
 * Writing 1 GiB of received data as the socket's reads (up to 1 MiB) cost the receiving thread 1.8-2.5 s of
 * system time in most runs; in 64 KiB writes 0.5-0.7 s (curl writes 16 KiB at a time).
 */
class WriteBuffers {
  private pos = 0;
  private onWritten: (n: number) => void = () => undefined;

  constructor(
    private readonly fd: number,
    private readonly path: string,
    private readonly hasher: PrefixHashing,
  ) {}

  begin(pos: number, onWritten: (n: number) => void): void {
    this.pos = pos;
    this.onWritten = onWritten;
  }

  write(bytes: Uint8Array): void {
    const at = this.pos;
    let off = 0;
    try {
      while (off < bytes.length) off += writeSync(this.fd, bytes, off, Math.min(WRITE_PIECE, bytes.length - off), at + off);
    } catch (e) {
      throw ioError(this.path, "write", e);
    }
    this.pos += bytes.length;
    this.onWritten(bytes.length);
    this.hasher.written(at, bytes);
  }
}

function numberOr(v: string | null | undefined, fallback: number | null): number | null {
  if (v === null || v === undefined || !/^\d+$/.test(v.trim())) return fallback;
  return Number(v.trim());
}

/** `"abc…"` / `W/"abc…"` → the 64-hex sha256, or null when the etag is not one (git sha1 of a small file). */
function normalizeEtag(etag: string | null): string | null {
  if (!etag) return null;
  const v = etag.replace(/^W\//, "").replace(/"/g, "").trim().toLowerCase();
  return /^[0-9a-f]{64}$/.test(v) ? v : null;
}

function isAbortError(e: unknown): boolean {
  return (e as Error)?.name === "AbortError" || (e instanceof ModelLibraryError && e.code === "E_CANCELLED");
}

/** Throws the final error for an HTTP answer, or a RetryableError for 429/5xx (with the server's wait). */
function failFor(r: RawResponse, url: string, config: HubConfig): never {
  discard(r);
  if (isRetryableStatus(r.status)) throw new RetryableError(`${url}: HTTP ${r.status}`, serverWaitMs(r.headers));
  throw hubHttpError(r, url, config);
}

/** Reads a small body to its end so the connection can be reused. */
async function drain(r: RawResponse): Promise<void> {
  r.body.resume();
  if (!r.body.complete) await new Promise<void>((resolve) => r.body.once("end", resolve).once("close", resolve).once("error", () => resolve()));
}

/** Runs `fn` until it succeeds, retrying RetryableErrors and network failures; final errors pass through. */
async function withRetries<T>(policy: RetryPolicy, signal: AbortSignal | undefined, url: string, fn: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt++) {
    if (signal?.aborted) throw cancelledError("download");
    try {
      return await fn();
    } catch (e) {
      if (signal?.aborted) throw cancelledError("download");
      if (e instanceof RangeIgnored || e instanceof ModelLibraryError) throw e;
      const retryable = e instanceof RetryableError || e instanceof TypeError || isAbortError(e) || (e as NodeJS.ErrnoException)?.code !== undefined;
      if (!retryable) throw e;
      if (attempt >= policy.attempts) {
        if (e instanceof RetryableError) throw new ModelLibraryError("E_NETWORK", `${e.message} (gave up after ${attempt} attempts)`);
        throw networkError(url, e);
      }
      const asked = e instanceof RetryableError ? e.waitMs : null;
      if (asked !== null && asked > policy.maxServerWaitMs) {
        throw new ModelLibraryError("E_NETWORK", `${(e as Error).message}: the server asks to wait ${Math.round(asked / 1000)} s; try again later`);
      }
      await sleep(asked ?? backoffMs(attempt, policy), signal).catch(() => undefined);
    }
  }
}

/** Like Promise.all, but the first failure aborts the others and is rethrown once they have all stopped. */
async function settleAll(tasks: Promise<void>[], abort: AbortController): Promise<void> {
  let first: unknown = null;
  await Promise.all(
    tasks.map((t) =>
      t.catch((e) => {
        if (first === null) {
          first = e;
          if (!abort.signal.aborted) abort.abort(e);
        }
      }),
    ),
  );
  if (first !== null) throw first;
}

/**
 * The first `bytes` bytes of a Hub file (one small Range request, retried like the parts): enough to tell a
 * pickle from safe weights before deciding to fetch the whole file. A server that ignores Range gives them
 * from its full answer, which is then dropped.
 */
export async function fetchHead(p: { config: HubConfig; url: string; bytes: number; retry?: RetryPolicy; stallMs?: number; signal?: AbortSignal }): Promise<Buffer> {
  // The whole answer (a few bytes) must come within the stall time.
  return withRetries(p.retry ?? DEFAULT_RETRY, p.signal, p.url, () =>
    answerWithin(p.stallMs ?? 30_000, p.signal, async (signal) => {
      const r = await hubGet(p.config, p.url, { headers: { range: `bytes=0-${p.bytes - 1}`, "accept-encoding": "identity" }, signal });
      if (r.status === 416) {
        await drain(r);
        return Buffer.alloc(0); // an empty file
      }
      if (r.status !== 206 && r.status !== 200) failFor(r, p.url, p.config);
      const chunks: Buffer[] = [];
      let have = 0;
      await new Promise<void>((resolve, reject) => {
        r.body.on("data", (c: Buffer) => {
          chunks.push(c);
          have += c.length;
          if (have >= p.bytes && r.status === 200) {
            r.body.destroy(); // Range ignored: the rest of the file is not wanted
            resolve();
          }
        });
        r.body.once("end", resolve);
        r.body.once("error", (e) => (have >= p.bytes ? resolve() : reject(new RetryableError(`${p.url}: ${e.message}`))));
        r.body.once("close", () => (have >= p.bytes || r.body.complete ? resolve() : reject(new RetryableError(`${p.url}: connection closed early`))));
      });
      return Buffer.concat(chunks).subarray(0, p.bytes);
    }),
  );
}
