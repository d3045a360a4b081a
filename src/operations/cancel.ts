// Telling a cancellation from a failure inside an operation's per-item `catch`: an operation that records an
// item's error and goes on must not record a cancellation as one more failed item, but stop.
import { ModelLibraryError, isCancelled } from "../core/errors.js";

/** Throws E_CANCELLED when `e` is one, or when `signal` has fired (then `e` is how the abort surfaced: an AbortError...). */
export function rethrowIfCancelled(e: unknown, signal: AbortSignal | undefined, what: string): void {
  if (isCancelled(e)) throw e;
  if (signal?.aborted) throw new ModelLibraryError("E_CANCELLED", `${what} cancelled`, { cause: e });
}

/**
 * A batch's cancellation `e` again, now naming what the batch committed before it (kept in the library): the
 * CLI prints those under "cancelled", so a user does not read "cancelled" as "nothing happened". Any other
 * error, or nothing committed: `e` as it is.
 */
export function cancelledAfter(e: unknown, completed: string[]): unknown {
  if (!isCancelled(e) || completed.length === 0) return e;
  const before = (e as ModelLibraryError).completed;
  return new ModelLibraryError("E_CANCELLED", (e as Error).message, { cause: e, completed: [...before, ...completed] });
}
