// Long operations started over HTTP (import, verify, redetect...): each gets an id, an AbortController for
// its cancel route, and its progress goes to every open event stream as { id, op, phase, item, done, total }.
// The last event of an operation has phase "end" and its state (done, failed, cancelled).
// Progress is thinned to a few events a second per operation (hashing reports every chunk); a change of
// phase and the end always go out.
import { randomBytes } from "node:crypto";
import { errorBody } from "./http-json.js";
import type { ProgressEvent } from "../operations/types.js";
import { isCancelled } from "../core/errors.js";

export type OperationState = "running" | "done" | "failed" | "cancelled";

export interface OperationEvent extends ProgressEvent {
  /** The operation's id (the one POST returned). */
  id: string;
  state?: OperationState;
  /** completed: what a batch cancelled part-way had committed before (kept). */
  error?: { code: string; message: string; completed?: string[] };
  summary?: unknown;
}

export interface OperationInfo {
  id: string;
  op: string;
  state: OperationState;
  startedAt: string;
  endedAt: string | null;
  last: OperationEvent | null;
  /** The operation's own short account of its result (counts, the first failures). */
  summary: unknown;
  result: unknown;
  error: { code: string; message: string; completed?: string[] } | null;
}

interface Running extends OperationInfo {
  controller: AbortController;
  /** What the operation works on (e.g. "verify" of every model), for refusing the same work twice at once. */
  key: string | null;
}

/** How often one operation's progress may be sent (ms). */
const PROGRESS_INTERVAL_MS = 100;
/** Finished operations kept for GET /api/operations/:id. */
const KEEP_FINISHED = 50;

export class OperationRunner {
  private readonly ops = new Map<string, Running>();
  private readonly listeners = new Set<(e: OperationEvent) => void>();

  /** Calls `listener` with every event until the returned function is called. */
  subscribe(listener: (e: OperationEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** How many listeners there are (each open /api/events stream is one). */
  get subscribers(): number {
    return this.listeners.size;
  }

  /** The id of a running operation started with this key, or null. */
  runningWith(key: string): string | null {
    for (const info of this.ops.values()) if (info.state === "running" && info.key === key) return info.id;
    return null;
  }

  /** Starts `run` now and returns its id at once; `summarize` turns the result into the end event's summary. */
  start<T>(
    op: string,
    run: (options: { signal: AbortSignal; onProgress: (e: ProgressEvent) => void }) => Promise<T>,
    summarize: (result: T) => unknown = () => undefined,
    key: string | null = null,
  ): string {
    const id = randomBytes(8).toString("hex");
    const controller = new AbortController();
    const info: Running = { id, op, state: "running", startedAt: new Date().toISOString(), endedAt: null, last: null, summary: null, result: null, error: null, controller, key };
    this.ops.set(id, info);
    let lastSent = 0;
    let lastPhase = "";
    const onProgress = (e: ProgressEvent) => {
      const event: OperationEvent = { ...e, op, id, state: "running" };
      info.last = event;
      const now = performance.now();
      if (e.phase === lastPhase && now - lastSent < PROGRESS_INTERVAL_MS) return;
      lastPhase = e.phase;
      lastSent = now;
      this.emit(event);
    };
    this.emit({ id, op, phase: "start", state: "running" });
    // Started on the next turn, so the POST answers with the id before the first progress event.
    setImmediate(() => {
      run({ signal: controller.signal, onProgress }).then(
        (result) => this.finish(info, "done", result, null, summarize(result)),
        (e: unknown) => this.finish(info, isCancelled(e) || controller.signal.aborted ? "cancelled" : "failed", null, errorBody(e).body, undefined),
      );
    });
    return id;
  }

  /** Asks a running operation to stop; false when there is no such running operation. */
  cancel(id: string): boolean {
    const info = this.ops.get(id);
    if (!info || info.state !== "running") return false;
    info.controller.abort();
    return true;
  }

  get(id: string): OperationInfo | null {
    const info = this.ops.get(id);
    return info ? publicInfo(info) : null;
  }

  /** The recent operations without their full results (a verify of 100k models is a big one). */
  list(): Omit<OperationInfo, "result">[] {
    return [...this.ops.values()].map((o) => {
      const { result: _result, ...rest } = publicInfo(o);
      return rest;
    });
  }

  /** Resolves once operation `id` has ended (at once if it has, or is unknown). */
  whenEnded(id: string): Promise<void> {
    if (this.ops.get(id)?.state !== "running") return Promise.resolve();
    return new Promise((resolve) => {
      const stop = this.subscribe((e) => {
        if (e.id !== id || e.phase !== "end") return;
        stop();
        resolve();
      });
    });
  }

  /** Aborts every running operation and waits (up to `ms`) for them to end. */
  async stopAll(ms = 5000): Promise<void> {
    for (const info of this.ops.values()) if (info.state === "running") info.controller.abort();
    const deadline = performance.now() + ms;
    while ([...this.ops.values()].some((o) => o.state === "running") && performance.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  private finish(info: Running, state: OperationState, result: unknown, error: { code: string; message: string; completed?: string[] } | null, summary: unknown): void {
    info.state = state;
    info.endedAt = new Date().toISOString();
    info.result = result;
    info.summary = summary ?? null;
    info.error = error;
    const event: OperationEvent = { id: info.id, op: info.op, phase: "end", state, ...(error ? { error } : {}), ...(summary !== undefined ? { summary } : {}) };
    info.last = event;
    this.emit(event);
    const finished = [...this.ops.values()].filter((o) => o.state !== "running");
    for (const old of finished.slice(0, Math.max(0, finished.length - KEEP_FINISHED))) this.ops.delete(old.id);
  }

  private emit(event: OperationEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

function publicInfo(info: Running): OperationInfo {
  const { controller: _controller, ...rest } = info;
  return rest;
}
