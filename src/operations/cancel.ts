// Telling a cancellation from a failure inside an operation's per-item `catch`: an operation that records an
// item's error and goes on must not record a cancellation as one more failed item, but stop.
import { ModelLibraryError, isCancelled } from "../core/errors.js";

/** Throws E_CANCELLED when `e` is one, or when `signal` has fired (then `e` is how the abort surfaced: an AbortError...). */
export function rethrowIfCancelled(e: unknown, signal: AbortSignal | undefined, what: string): void {
  if (isCancelled(e)) throw e;
  if (signal?.aborted) throw new ModelLibraryError("E_CANCELLED", `${what} cancelled`, { cause: e });
}
