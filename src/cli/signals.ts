// Ctrl-C and `kill`: SIGINT and SIGTERM fire one AbortController whose signal every command passes to its
// operation. The operation stops at its next safe point, removes what it half-made and throws E_CANCELLED;
// main.ts then prints "mlib: cancelled" and exits 130 (SIGINT) or 143 (SIGTERM). Progress bars are stopped and
// the cursor and line wrap restored the moment the signal arrives, so the terminal is sane even while the
// operation finishes its current step. A second Ctrl-C exits at once (the next command cleans any staging).
// A signal the command finishes despite (it came while the result was being committed) cancels nothing: main.ts
// then keeps the command's status and says the signal came too late.
// Long-running commands (watch, serve) use untilInterrupted(): for them a signal is the normal way to stop, exit 0.
import { isCancelled } from "../core/errors.js";

type StopSignal = "SIGINT" | "SIGTERM";

const controller = new AbortController();
let received: StopSignal | null = null;
let longRunning = false;
const onInterruptHandlers = new Set<() => void>();

/** The signal to pass to operations: fires on SIGINT or SIGTERM. */
export function cliSignal(): AbortSignal {
  return controller.signal;
}

/** The signal that stopped the run, or null. */
export function receivedSignal(): StopSignal | null {
  return received;
}

/** Installs the SIGINT/SIGTERM handlers (main.ts, once). */
export function installSignalHandlers(): void {
  process.on("SIGINT", () => interrupt("SIGINT"));
  process.on("SIGTERM", () => interrupt("SIGTERM"));
}

/** What a signal does; also called by code that reads keys itself (a readline prompt sees Ctrl-C as a key). */
export function interrupt(sig: StopSignal): void {
  if (received) {
    // The second one: the user does not want to wait for the safe point.
    restoreTerminal();
    // Not "cancelled": the first signal may have come after the last cancellable point, so the step under way
    // (a commit) may have completed or not. Nothing is half-made either way: the next command sorts it out.
    if (!longRunning) {
      process.stderr.write(`mlib: stopped at once (a second ${sig}): what was being committed may or may not be in; the next command indexes it and removes unfinished staging\n`);
    }
    process.exit(exitStatus(received));
  }
  received = sig;
  restoreTerminal();
  controller.abort();
}

/** Registers what must run the moment a signal arrives (stopping a progress bar); returns its removal. */
export function onInterrupt(handler: () => void): () => void {
  onInterruptHandlers.add(handler);
  return () => onInterruptHandlers.delete(handler);
}

function restoreTerminal(): void {
  for (const handler of onInterruptHandlers) {
    try {
      handler();
    } catch {
      // restoring the terminal must not fail the exit
    }
  }
}

/** The exit status of a run stopped by `sig`: 130 / 143 (128 + the signal number), or 0 for a long-running command. */
export function exitStatus(sig: StopSignal): number {
  if (longRunning) return 0;
  return sig === "SIGTERM" ? 143 : 130;
}

/** True when a long-running command was stopped by its signal (the run ends with status 0 and no message). */
export function stoppedLongRunning(): boolean {
  return longRunning && received !== null;
}

/**
 * Runs a command that works until stopped (watch, serve): `fn` gets the signal and resolves when it has shut
 * down. SIGINT/SIGTERM are its normal end: the run exits 0, and a cancellation error from `fn` is not an error.
 */
export async function untilInterrupted(fn: (signal: AbortSignal) => Promise<void>): Promise<void> {
  longRunning = true;
  try {
    await fn(controller.signal);
  } catch (e) {
    if (!(controller.signal.aborted && (isCancelled(e) || (e as Error)?.name === "AbortError"))) throw e;
  }
}
