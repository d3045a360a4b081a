// Worker-thread entry for hashing (started by worker-host.ts). Two kinds of job:
// - "side": BLAKE3 and the fast hash of chunks the main thread reads (the main thread does SHA-256),
//   each slot handed back as soon as it is hashed so the main thread can reuse it;
// - "file": a whole file hashed here (pool.ts runs one per core).
import { closeSync, fstatSync, openSync, readSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { ModelLibraryError, isModelLibraryError } from "../core/errors.js";
import { createBlake3, type Blake3 } from "./blake3.js";
import { FastHasher } from "./fast-hash.js";
import { hashWholeFileSync } from "./pool-job.js";
import { changedWhileHashing } from "./changed-error.js";
import { LATE_ABORT, LATE_FRONTIER, LATE_JOIN_AT, LATE_REQUEST, type FromWorker, type LateJoin, type ToWorker, type WireError } from "./worker-protocol.js";

const port = parentPort;
if (!port) throw new Error("hash-worker.ts must run in a worker thread");

interface SideJob {
  ring: Uint8Array;
  slotSize: number;
  blake3: Promise<Blake3>;
  fast: FastHasher;
  // chunks are handled in order even though the wasm hasher is created asynchronously
  queue: Promise<void>;
  failed: boolean;
}
const sides = new Map<number, SideJob>();
let fileBuf: Uint8Array | null = null;

function send(msg: FromWorker): void {
  port!.postMessage(msg);
}

function wire(e: unknown): WireError {
  if (isModelLibraryError(e)) return { code: e.code, message: e.message, path: e.path };
  return { message: e instanceof Error ? e.message : String(e) };
}

function onSideChunk(job: number, s: SideJob, slot: number, offset: number, length: number): void {
  s.queue = s.queue.then(async () => {
    if (s.failed) return;
    try {
      const bytes = s.ring.subarray(slot * s.slotSize, slot * s.slotSize + length);
      (await s.blake3).update(bytes);
      s.fast.update(bytes, offset);
      send({ type: "slot-done", job, slot });
    } catch (e) {
      s.failed = true;
      send({ type: "error", job, error: wire(e) });
    }
  });
}

/**
 * A late start (see LateJoin in worker-protocol.ts): hashes the file's bytes from 0 up to where the main
 * thread starts handing over chunks, reading them here, never past what the main thread has read.
 * Blocks this thread until then; the chunks posted meanwhile wait in the message queue, in order.
 */
function readMissedBytes(late: LateJoin, size: number, chunk: number, blake3: Blake3, fast: FastHasher): void {
  const control = new BigInt64Array(late.control);
  const fd = openSync(late.path, "r");
  try {
    const st = fstatSync(fd);
    if (st.dev !== late.dev || st.ino !== late.ino) {
      throw new ModelLibraryError("E_IO", `${late.path}: replaced while hashing; hash it again`, { path: late.path });
    }
    const buf = new Uint8Array(chunk);
    let pos = 0;
    let requested = false;
    for (;;) {
      if (Atomics.load(control, LATE_ABORT) !== 0n) return;
      const joinAt = Number(Atomics.load(control, LATE_JOIN_AT));
      if (joinAt >= 0 && pos >= joinAt) return;
      const limit = joinAt >= 0 ? joinAt : Number(Atomics.load(control, LATE_FRONTIER));
      // Ask to join a little before catching up, so the answer comes while there is still work here.
      if (!requested && limit - pos <= 2 * chunk) {
        Atomics.store(control, LATE_REQUEST, 1n);
        requested = true;
      }
      if (pos >= limit) {
        Atomics.wait(control, LATE_JOIN_AT, -1n, 20);
        continue;
      }
      const n = readSync(fd, buf, 0, Math.min(buf.length, limit - pos), pos);
      if (n === 0) throw changedWhileHashing(late.path, size, pos, pos);
      const bytes = buf.subarray(0, n);
      blake3.update(bytes);
      fast.update(bytes, pos);
      pos += n;
    }
  } finally {
    closeSync(fd);
  }
}

async function onFile(msg: Extract<ToWorker, { type: "file" }>): Promise<void> {
  // one buffer per worker, reused by every file job it runs (jobs run one at a time per worker)
  if (!fileBuf || fileBuf.length !== msg.chunkSize) fileBuf = new Uint8Array(msg.chunkSize);
  try {
    const hashes = await hashWholeFileSync(
      msg.path,
      fileBuf,
      () => Atomics.load(msg.cancel, 0) !== 0,
      (bytes) => send({ type: "progress", job: msg.job, bytes }),
    );
    send({ type: "file-result", job: msg.job, hashes });
  } catch (e) {
    send({ type: "error", job: msg.job, error: wire(e) });
  }
}

port.on("message", (msg: ToWorker) => {
  switch (msg.type) {
    case "side-start": {
      const s: SideJob = {
        ring: new Uint8Array(msg.ring),
        slotSize: msg.slotSize,
        blake3: createBlake3(),
        fast: new FastHasher(msg.size),
        queue: Promise.resolve(),
        failed: false,
      };
      sides.set(msg.job, s);
      const { late, job, size } = msg;
      if (late) {
        s.queue = s.queue.then(async () => {
          try {
            readMissedBytes(late, size, s.slotSize, await s.blake3, s.fast);
          } catch (e) {
            s.failed = true;
            send({ type: "error", job, error: wire(e) });
          }
        });
      }
      break;
    }
    case "side-chunk": {
      const s = sides.get(msg.job);
      if (s) onSideChunk(msg.job, s, msg.slot, msg.offset, msg.length);
      break;
    }
    case "side-end": {
      const s = sides.get(msg.job);
      if (!s) break;
      sides.delete(msg.job);
      if (!msg.wantResult) break;
      void s.queue.then(async () => {
        if (s.failed) return;
        send({ type: "side-result", job: msg.job, blake3: (await s.blake3).digestHex(), fastHash: s.fast.digestHex() });
      });
      break;
    }
    case "file":
      void onFile(msg);
      break;
  }
});
send({ type: "ready", job: 0 });
