// One error type for the whole project: a stable `code` for callers and tests, the file it concerns,
// and a message that names that file and says what is wrong (the CLI prints just the message).

export type ErrorCode =
  | "E_USAGE" // bad arguments (CLI exit status 2)
  | "E_NOT_FOUND" // a path or model id that does not exist
  | "E_TRUNCATED" // the file ends before a structure it declares
  | "E_BAD_MAGIC" // the bytes are not the format the reader expects
  | "E_INVALID" // the structure is malformed (bad UTF-8, unknown value type, bad JSON...)
  | "E_TOO_LARGE" // a declared length or count is absurd (beyond the file, or beyond a sanity cap)
  | "E_UNSUPPORTED" // a valid file we deliberately do not handle (e.g. a future GGUF version)
  | "E_LFS_POINTER" // a Git LFS pointer: the model was never downloaded
  | "E_PICKLE" // pickle content refused without an explicit acknowledgement
  | "E_INCOMPLETE" // a shard set with missing shards
  | "E_DUPLICATE" // content already in the library
  | "E_EXISTS" // a target that already exists
  | "E_LINKED" // a model still linked into apps (rm without --cascade)
  | "E_HASH_MISMATCH" // content differs from the recorded hash
  | "E_CORRUPT" // a library file (metadata.json, index) that cannot be read
  | "E_LOCKED" // another process holds a lock past the wait time
  | "E_CANCELLED" // the caller aborted the operation (AbortSignal, Ctrl-C)
  | "E_NETWORK" // a remote server could not be reached or kept failing
  | "E_AUTH" // a remote server refused us (401/403: a token is missing or lacks access)
  | "E_IO"; // an operating-system error (full disk, permission...)

export class ModelLibraryError extends Error {
  readonly code: ErrorCode;
  readonly path: string | undefined;
  /**
   * E_CANCELLED of a batch: what was done, committed and kept before the cancel (one line each: "imported X as
   * Y"), so a user told "cancelled" also learns what did land. Empty otherwise.
   */
  readonly completed: string[];

  constructor(code: ErrorCode, message: string, options: { path?: string; cause?: unknown; completed?: string[] } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = "ModelLibraryError";
    this.code = code;
    this.path = options.path;
    this.completed = options.completed ?? [];
  }
}

/** Wraps an OS error (ENOSPC, EACCES...) so it names the file and keeps the errno code in the message. */
export function ioError(path: string, action: string, cause: unknown): ModelLibraryError {
  const err = cause as NodeJS.ErrnoException;
  // SQLite's codes are not errnos: its own sentence says what went wrong, never a bare code.
  const why = err?.code?.startsWith("SQLITE_")
    ? `${err.message}; ${err.code}`
    : err?.code
      ? `${err.code}: ${osReason(err.code)}`
      : String(err?.message ?? cause);
  return new ModelLibraryError("E_IO", `${path}: cannot ${action} (${why})`, { path, cause });
}

function osReason(code: string): string {
  switch (code) {
    case "ENOSPC":
      return "no space left on device";
    case "EACCES":
    case "EPERM":
      return "permission denied";
    case "ENOENT":
      return "no such file or directory";
    case "EROFS":
      return "read-only file system";
    case "EXDEV":
      return "cross-device link";
    case "EISDIR":
      return "is a directory";
    case "ENOTDIR":
      return "not a directory";
    default:
      return "operating-system error";
  }
}

export function isModelLibraryError(e: unknown): e is ModelLibraryError {
  return e instanceof ModelLibraryError;
}

/** The error every operation throws when its AbortSignal fires: the caller asked for it, nothing failed. */
export function cancelledError(what = "operation"): ModelLibraryError {
  return new ModelLibraryError("E_CANCELLED", `${what} cancelled`);
}

/** Throws E_CANCELLED when `signal` has fired: call it at each safe point of a long operation. */
export function throwIfAborted(signal: AbortSignal | undefined, what?: string): void {
  if (signal?.aborted) throw cancelledError(what);
}

export function isCancelled(e: unknown): boolean {
  return e instanceof ModelLibraryError && e.code === "E_CANCELLED";
}
