// The read pass behind hashFile, its work split over two threads: the main thread reads the file into a
// small ring of reused slots and runs SHA-256 on each; a worker thread runs BLAKE3 and the fast hash on the
// same slot (shared memory, no copy). A slot is read into again only once both are done with it. Reads run
// ahead of SHA-256 (up to READ_AHEAD in flight), so disk and both hashes overlap and the whole costs what
// SHA-256 alone costs. Small files hash inline (both hashes on this thread) through the same loop.
//
// A worker still starting when the pass begins (~60-80 ms here, most of a fresh process's lead over
// openssl) does not stall the ring: the main thread goes on alone, recycling each slot after SHA-256,
// and the worker, once up, reads the bytes it missed from the file itself (from the page cache this pass
// just filled; BLAKE3 runs ~4x faster than SHA-256, so it catches up), then joins the ring at an offset
// the main thread picks (see LateJoin). Those first ~100 MB are read twice from memory, never from disk.
//
// An abort stops the pass at the next chunk (2 MiB: well under 100 ms): the worker is told to drop the job
// (a late worker stops reading at its next chunk), the reads in flight are awaited, and E_CANCELLED is thrown.
import { createHash } from "node:crypto";
import type { FileHandle } from "node:fs/promises";
import { ModelLibraryError, cancelledError, ioError, isCancelled, throwIfAborted } from "../core/errors.js";
import { createBlake3 } from "./blake3.js";
import { changedWhileHashing } from "./changed-error.js";
import { FastHasher } from "./fast-hash.js";
import { autoV2Of, CHUNK_SIZE, type FileHashes } from "./types.js";
import { fromWire, hashWorkerState, hashWorkers, newJobId, warmHashWorkers } from "./worker-host.js";
import { LATE_ABORT, LATE_FRONTIER, LATE_JOIN_AT, LATE_REQUEST, LATE_WORDS } from "./worker-protocol.js";

const SLOTS = 4;
// Reads in flight ahead of the chunk being hashed (of the SLOTS): two keep SHA-256 fed through a slow read.
const READ_AHEAD = 2;
// BLAKE3 inline adds ~0.2 s/GiB to SHA-256's ~0.8 s/GiB, while a worker's start-up stalls the ring
// for 80-180 ms (measured, compiled JS on a busy 2-core machine; more under tsx). So: a ready worker
// from 16 MiB; waiting for one only from 512 MiB; in between, hash inline and start a worker in the
// background for the next file (it is unref'd: a process that exits first does not wait for it).
const WAIT_FOR_WORKER_MIN_BYTES = 512 * 1024 * 1024;
const WORKER_MIN_BYTES = 8 * CHUNK_SIZE;

function chooseWorker(size: number, blake3Thread: "auto" | "worker" | "inline"): boolean {
  if (blake3Thread !== "auto") return blake3Thread === "worker";
  if (size < WORKER_MIN_BYTES) return false;
  if (hashWorkerState() === "ready" || size >= WAIT_FOR_WORKER_MIN_BYTES) return true;
  warmHashWorkers(1);
  return false;
}

// One full-size ring of each kind kept between passes: a fresh 8 MiB ring costs ~35 ms of page faults on a
// VM (measured here), paid again by every file of an import or a hash of many files. Only a ring no thread
// reads any more comes back (a pass that failed may leave a worker reading its ring: that one is dropped).
const spareRings: { shared: SharedArrayBuffer | null; local: ArrayBuffer | null } = { shared: null, local: null };

function takeRing(shared: boolean, bytes: number): SharedArrayBuffer | ArrayBuffer {
  const spare = shared ? spareRings.shared : spareRings.local;
  if (spare && spare.byteLength === bytes) {
    if (shared) spareRings.shared = null;
    else spareRings.local = null;
    return spare;
  }
  return shared ? new SharedArrayBuffer(bytes) : new ArrayBuffer(bytes);
}

function giveBackRing(ring: SharedArrayBuffer | ArrayBuffer): void {
  if (ring.byteLength !== SLOTS * CHUNK_SIZE) return; // small files' rings are cheap to make
  if (ring instanceof SharedArrayBuffer) spareRings.shared = ring;
  else spareRings.local = ring;
}

export interface SplitPassOptions {
  onProgress?: (bytesDone: number) => void;
  signal?: AbortSignal;
  /** where BLAKE3 runs; "auto" (default): a worker thread for big files, this thread for small ones */
  blake3Thread?: "auto" | "worker" | "inline";
}

/** Where BLAKE3 and the fast hash run: in a worker, or inline on this thread for small files. */
interface SideHasher {
  /** every byte before `frontier` has been read, and the chunks from `frontier` on are not yet handed out */
  progress(frontier: number): void;
  /** whether the chunk at `offset` goes to the side hasher (a late worker read it itself) */
  takes(offset: number): boolean;
  submit(slot: number, offset: number, length: number): void;
  finish(): Promise<{ blake3: string; fastHash: string }>;
  abandon(): void;
}

async function inlineSide(ring: Uint8Array, slotSize: number, size: number, release: (slot: number) => void): Promise<SideHasher> {
  const blake3 = await createBlake3();
  const fast = new FastHasher(size);
  return {
    progress() {},
    takes: () => true,
    submit(slot, offset, length) {
      const bytes = ring.subarray(slot * slotSize, slot * slotSize + length);
      blake3.update(bytes);
      fast.update(bytes, offset);
      release(slot);
    },
    finish: async () => ({ blake3: blake3.digestHex(), fastHash: fast.digestHex() }),
    abandon() {},
  };
}

function workerSide(
  sab: SharedArrayBuffer,
  slotSize: number,
  file: { path: string; size: number; dev: number; ino: number },
  release: (slot: number) => void,
  fail: (e: Error) => void,
): SideHasher {
  const { size } = file;
  const [worker] = hashWorkers(1);
  const job = newJobId();
  // A ready worker takes every chunk; one still starting reads the bytes before joinAt itself.
  let joinAt = worker.ready ? 0 : -1;
  const control = new BigInt64Array(new SharedArrayBuffer(LATE_WORDS * 8));
  control[LATE_JOIN_AT] = BigInt(joinAt);
  const join = (offset: number) => {
    joinAt = offset;
    Atomics.store(control, LATE_JOIN_AT, BigInt(offset));
    Atomics.notify(control, LATE_JOIN_AT);
  };
  let settle: { resolve: (r: { blake3: string; fastHash: string }) => void; reject: (e: Error) => void } | null = null;
  let failure: Error | null = null;
  worker.begin(job, (msg) => {
    if (msg.type === "slot-done") release(msg.slot);
    else if (msg.type === "side-result") {
      worker.end(job);
      settle?.resolve({ blake3: msg.blake3, fastHash: msg.fastHash });
    } else if (msg.type === "error") {
      worker.end(job);
      failure = fromWire(msg.error);
      fail(failure);
      settle?.reject(failure);
    }
  });
  const late = joinAt < 0 ? { path: file.path, dev: file.dev, ino: file.ino, control: control.buffer as SharedArrayBuffer } : undefined;
  worker.post({ type: "side-start", job, ring: sab, slotSize, size, late });
  return {
    progress(frontier) {
      if (joinAt >= 0) return;
      Atomics.store(control, LATE_FRONTIER, BigInt(frontier));
      if (Atomics.load(control, LATE_REQUEST) !== 0n) join(frontier);
    },
    takes: (offset) => joinAt >= 0 && offset >= joinAt,
    submit(slot, offset, length) {
      worker.post({ type: "side-chunk", job, slot, offset, length });
    },
    finish() {
      if (joinAt < 0) join(size); // the file ended before the worker caught up: it reads the rest itself
      return new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        settle = { resolve, reject };
        worker.post({ type: "side-end", job, wantResult: true });
      });
    },
    abandon() {
      Atomics.store(control, LATE_ABORT, 1n);
      Atomics.notify(control, LATE_JOIN_AT);
      worker.post({ type: "side-end", job, wantResult: false });
      worker.end(job);
    },
  };
}

/** Reads until `buf` is full or the file ends; returns the bytes read. */
async function readFull(fh: FileHandle, buf: Uint8Array, position: number): Promise<number> {
  let done = 0;
  while (done < buf.length) {
    const { bytesRead } = await fh.read(buf, done, buf.length - done, position + done);
    if (bytesRead === 0) break;
    done += bytesRead;
  }
  return done;
}

/** One pass over the open file `fh` (named `path` in errors). The caller opens and closes it. */
export async function hashSplitPass(path: string, fh: FileHandle, options: SplitPassOptions = {}): Promise<FileHashes> {
  const { onProgress, signal, blake3Thread = "auto" } = options;
  throwIfAborted(signal, `hash of ${path}`);
  const before = await fh.stat().catch((e) => Promise.reject(ioError(path, "stat", e)));
  const size = before.size;

  const useWorker = chooseWorker(size, blake3Thread);
  // a small file gets a small ring: one byte more than the file, so a single read also sees the end
  const slotSize = Math.min(CHUNK_SIZE, size + 1);
  const slots = Math.min(SLOTS, Math.ceil(size / slotSize) + 1);
  const backing = takeRing(useWorker, slots * slotSize);
  const ring = new Uint8Array(backing);
  const slotView = (slot: number, length = slotSize) => ring.subarray(slot * slotSize, slot * slotSize + length);

  // reads still in flight: none may outlive the pass (the caller closes the file handle)
  const inflight = new Set<Promise<unknown>>();
  const track = <T>(p: Promise<T>) => {
    inflight.add(p);
    void p.then(
      () => inflight.delete(p),
      () => inflight.delete(p),
    );
    return p;
  };

  // Slot bookkeeping: `pending[s]` hashes still read slot s; at zero the slot goes back to `free`.
  const free: number[] = Array.from({ length: slots }, (_, i) => i);
  const pending = new Array<number>(slots).fill(0);
  const lengths = new Array<number>(slots).fill(0);
  let bytesDone = 0;
  let failure: Error | null = null;
  let wake: (() => void) | null = null;
  let onFailure: ((e: Error) => void) | null = null;
  const recycle = (slot: number) => {
    free.push(slot);
    bytesDone += lengths[slot];
    wake?.();
    // may run inside a worker-message handler, where a throw would be uncaught: it fails the hash instead
    try {
      onProgress?.(bytesDone);
    } catch (e) {
      fail(e instanceof Error ? e : new Error(String(e)));
    }
  };
  const fail = (e: Error) => {
    failure ??= e;
    wake?.();
    onFailure?.(failure);
  };
  const release = (slot: number) => {
    if (--pending[slot] === 0) recycle(slot);
  };
  const waitForSlot = async (): Promise<void> => {
    while (free.length === 0 && !failure) await new Promise<void>((r) => (wake = r));
    wake = null;
    if (failure) throw failure;
  };

  const side = useWorker
    ? workerSide(backing as SharedArrayBuffer, slotSize, { path, size, dev: before.dev, ino: before.ino }, release, fail)
    : await inlineSide(ring, slotSize, size, release);
  const onAbort = () => fail(cancelledError(`hash of ${path}`));
  signal?.addEventListener("abort", onAbort, { once: true });
  if (signal?.aborted) onAbort(); // fired while the file was opened and the side hasher set up

  const sha = createHash("sha256");
  let offset = 0; // bytes hashed, in file order
  // Reads issued ahead of the chunk being hashed, in file order: up to READ_AHEAD in flight, so a slow read
  // (or the page faults of a fresh ring's first fill) does not leave SHA-256 waiting.
  const ahead: { slot: number; at: number; read: Promise<number> }[] = [];
  let nextRead = 0;
  const issueReads = () => {
    while (ahead.length < READ_AHEAD && free.length > 0 && nextRead <= size) {
      const slot = free.shift()!;
      ahead.push({ slot, at: nextRead, read: track(readFull(fh, slotView(slot), nextRead)) });
      nextRead += slotSize;
    }
  };
  try {
    side.progress(0);
    while (true) {
      issueReads();
      if (ahead.length === 0) {
        await waitForSlot(); // every slot still in the side hasher's hands
        continue;
      }
      const { slot: cur, at, read } = ahead.shift()!;
      const n = await read.catch((e) => Promise.reject(ioError(path, "read", e)));
      if (failure) throw failure;
      if (n === 0) break; // the end, on a slot boundary
      offset = at + n;
      if (offset > size) throw changedWhileHashing(path, size, offset, offset); // grew: at least `offset` now
      lengths[cur] = n;
      const toSide = side.takes(at);
      pending[cur] = toSide ? 2 : 1;
      const bytes = slotView(cur, n);
      if (toSide) side.submit(cur, at, n);
      issueReads();
      sha.update(bytes);
      release(cur);
      side.progress(offset);
      if (n < slotSize) break; // readFull stops short only at the end of the file
    }
    // every consumer has to be done before the digests are final
    await Promise.allSettled([...inflight]);
    if (failure) throw failure;
    // an abort (or error) while the worker finishes does not wait for its answer
    const { blake3, fastHash } = await new Promise<{ blake3: string; fastHash: string }>((resolve, reject) => {
      onFailure = reject;
      if (failure) reject(failure);
      side.finish().then(resolve, reject);
    });
    const after = await fh.stat().catch((e) => Promise.reject(ioError(path, "stat", e)));
    if (offset !== size || after.size !== size || after.mtimeMs !== before.mtimeMs) {
      throw changedWhileHashing(path, size, offset, after.size);
    }
    const sha256 = sha.digest("hex");
    giveBackRing(backing); // every reader of the ring is done (the worker answered after its last chunk)
    return { size, sha256, blake3, fastHash, autoV2: autoV2Of(sha256) };
  } catch (e) {
    side.abandon();
    fail(e instanceof Error ? e : new Error(String(e)));
    // no read may still target the ring or the file handle once the caller closes it
    await Promise.allSettled([...inflight]);
    if (signal?.aborted) throw isCancelled(failure) ? failure : cancelledError(`hash of ${path}`);
    if (e instanceof ModelLibraryError) throw e;
    throw failure ?? e;
  } finally {
    signal?.removeEventListener("abort", onAbort);
  }
}
