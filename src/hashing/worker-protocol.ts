// Messages between the main thread and a hash worker (hash-worker.ts). Every message names its job,
// so one kept-alive worker can serve several hashFile/hashFiles calls at once.

/** BLAKE3 + fast hash of chunks that the main thread reads into a shared ring of `slotSize`-byte slots. */
export interface SideStart {
  type: "side-start";
  job: number;
  ring: SharedArrayBuffer;
  slotSize: number;
  size: number;
  /** the worker was not ready when the pass began: it reads the start of the file itself (see LateJoin) */
  late?: LateJoin;
}

/**
 * A worker that starts after the main thread began reading hashes the bytes it missed by reading the file
 * itself (the same file: dev and ino are checked), from the page cache the main thread just filled, then
 * joins the ring. `control` is a BigInt64Array of LATE_* words.
 */
export interface LateJoin {
  path: string;
  dev: number;
  ino: number;
  control: SharedArrayBuffer;
}
/** bytes the main thread has finished reading: the worker reads no further on its own */
export const LATE_FRONTIER = 0;
/** set to 1 by the worker when it has nearly caught up and wants to join */
export const LATE_REQUEST = 1;
/** -1 until the main thread answers: the offset from which it hands the worker every chunk */
export const LATE_JOIN_AT = 2;
/** set to 1 by the main thread when it gives up the pass */
export const LATE_ABORT = 3;
export const LATE_WORDS = 4;
export interface SideChunk {
  type: "side-chunk";
  job: number;
  slot: number;
  offset: number;
  length: number;
}
export interface SideEnd {
  type: "side-end";
  job: number;
  /** false: the caller gave up; drop the state and answer nothing */
  wantResult: boolean;
}
/** A whole file hashed inside the worker; `cancel[0] != 0` stops it between chunks. */
export interface FileJob {
  type: "file";
  job: number;
  path: string;
  chunkSize: number;
  cancel: Int32Array;
}
export type ToWorker = SideStart | SideChunk | SideEnd | FileJob;

export interface WireError {
  code?: string;
  message: string;
  path?: string;
}
export type FromWorker =
  /** sent once, job 0, when the worker has loaded and listens */
  | { type: "ready"; job: 0 }
  | { type: "slot-done"; job: number; slot: number }
  | { type: "side-result"; job: number; blake3: string; fastHash: string }
  | { type: "progress"; job: number; bytes: number }
  | {
      type: "file-result";
      job: number;
      hashes: { size: number; sha256: string; blake3: string; fastHash: string; autoV2: string } | null;
    }
  | { type: "error"; job: number; error: WireError };
