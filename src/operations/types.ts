// The one call shape of every user-level operation: `op(library, params, { signal, onProgress })` → a typed
// result. The CLI, the HTTP server and the web page are thin adapters over these functions: they parse, call,
// and print or serve. An operation checks `signal` at each safe point and then throws E_CANCELLED (see
// core/errors.ts `throwIfAborted`), having removed what it had half-made.

/** One progress report, the same for every operation (the server sends these as server-sent events). */
export interface ProgressEvent {
  /** The operation: "import", "verify", "redetect", "reindex", "adopt", "download", "map", "merge"... */
  op: string;
  /** Where it is: "plan", "hash", "copy", "commit", "index", "verify", "done"... (operation-specific). */
  phase: string;
  /** What it is working on: a source path, a model id, a file name. */
  item?: string;
  /** Work done and total in `unit` (bytes unless said otherwise); total absent when unknown. */
  done?: number;
  total?: number;
  unit?: "bytes" | "items";
  /** When `item` is one part of the total (a file of a download): its own work done and total, in `unit`. */
  itemDone?: number;
  itemTotal?: number;
}

export type ProgressListener = (event: ProgressEvent) => void;

export interface OperationOptions {
  /** Fires to cancel: the operation stops at its next safe point, cleans up, and throws E_CANCELLED. */
  signal?: AbortSignal;
  onProgress?: ProgressListener;
}
