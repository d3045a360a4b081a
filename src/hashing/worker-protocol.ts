// Messages between the main thread and a hash worker (hash-worker.ts). Every message names its job,
// so one kept-alive worker can serve several hashFile/hashFiles calls at once.

/** BLAKE3 + fast hash of chunks that the main thread reads into a shared ring of `slotSize`-byte slots. */
export interface SideStart {
  type: "side-start";
  job: number;
  ring: SharedArrayBuffer;
  slotSize: number;
  size: number;
}
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
