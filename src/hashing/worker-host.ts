// Starts and keeps the hash worker threads. Workers stay alive between calls (start-up costs tens of
// milliseconds, more under tsx) but are unref'd whenever they have no job, so they never keep the
// process from exiting; while a job runs the worker is ref'd, or a process awaiting only the worker
// would exit mid-hash.
import { Worker } from "node:worker_threads";
import { ModelLibraryError, type ErrorCode } from "../core/errors.js";
import type { FromWorker, ToWorker, WireError } from "./worker-protocol.js";

// Compiled: dist/hashing/hash-worker.js beside this file. From source (tests, bench under tsx):
// Node 20 does not apply `--import tsx` hooks to a worker's entry file, so a one-line bootstrap
// registers tsx inside the worker, then imports the .ts entry.
function startWorker(): Worker {
  if (!import.meta.url.endsWith(".ts")) {
    return new Worker(new URL("./hash-worker.js", import.meta.url), { execArgv: [] });
  }
  const api = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(new URL("./hash-worker.ts", import.meta.url).href);
  return new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${entry}); })`, { eval: true, execArgv: [] });
}

export type JobHandler = (msg: FromWorker) => void;

export class HashWorker {
  private readonly worker: Worker;
  private readonly handlers = new Map<number, JobHandler>();
  private failure: Error | null = null;
  /** loaded and listening: work handed to it now waits for no start-up */
  ready = false;

  constructor(private readonly onDead: (w: HashWorker) => void) {
    this.worker = startWorker();
    this.worker.on("message", (msg: FromWorker) => {
      if (msg.type === "ready") this.ready = true;
      else this.handlers.get(msg.job)?.(msg);
    });
    this.worker.on("error", (e) => this.die(e));
    this.worker.on("exit", (code) => this.die(new Error(`hash worker exited with code ${code}`)));
    // After the listeners: adding a "message" listener refs the worker's port again, and an idle worker that
    // stays ref'd keeps the program that hashed a file from exiting.
    this.worker.unref();
  }

  get jobs(): number {
    return this.handlers.size;
  }

  /** Registers a job; messages for it go to `handler` until `end()` is called. */
  begin(job: number, handler: JobHandler): void {
    if (this.failure) {
      const failure = this.failure;
      queueMicrotask(() => handler({ type: "error", job, error: { message: `hash worker failed: ${failure.message}` } }));
      return;
    }
    if (this.handlers.size === 0) this.worker.ref();
    this.handlers.set(job, handler);
  }

  post(msg: ToWorker): void {
    if (!this.failure) this.worker.postMessage(msg);
  }

  end(job: number): void {
    if (this.handlers.delete(job) && this.handlers.size === 0 && !this.failure) this.worker.unref();
  }

  terminate(): Promise<number> {
    this.failure ??= new Error("hash worker was closed");
    return this.worker.terminate();
  }

  private die(e: Error): void {
    if (this.failure && this.handlers.size === 0) return;
    this.failure ??= e;
    this.onDead(this);
    for (const [job, handler] of [...this.handlers]) {
      handler({ type: "error", job, error: { message: `hash worker failed: ${e.message}` } });
    }
    this.handlers.clear();
  }
}

const workers: HashWorker[] = [];
let nextJob = 1;

export function newJobId(): number {
  return nextJob++;
}

function spawn(): HashWorker {
  const w = new HashWorker((dead) => {
    const i = workers.indexOf(dead);
    if (i >= 0) workers.splice(i, 1);
  });
  workers.push(w);
  return w;
}

/** At least `n` live workers (started if needed); ready ones first, then the least busy. */
export function hashWorkers(n: number): HashWorker[] {
  while (workers.length < n) spawn();
  return [...workers].sort((a, b) => Number(b.ready) - Number(a.ready) || a.jobs - b.jobs).slice(0, n);
}

/** Starts `n` hash workers ahead of time (e.g. while an importer scans folders), so the first big hash does not wait for one. */
export function warmHashWorkers(n = 1): void {
  hashWorkers(n);
}

/** "ready": a worker is loaded, handing it work costs no start-up; "starting": one is on its way. */
export function hashWorkerState(): "ready" | "starting" | "none" {
  if (workers.some((w) => w.ready)) return "ready";
  return workers.length > 0 ? "starting" : "none";
}

/** Workers holding a job right now (tests: an aborted hash must leave none). */
export function busyHashWorkers(): number {
  return workers.filter((w) => w.jobs > 0).length;
}

/** Stops every hash worker (they are unref'd, so this is only needed for a prompt, clean shutdown). */
export async function closeHashWorkers(): Promise<void> {
  const all = workers.splice(0);
  await Promise.all(all.map((w) => w.terminate()));
}

/** Rebuilds an error that crossed the thread boundary, keeping its code and file. */
export function fromWire(e: WireError): ModelLibraryError {
  return new ModelLibraryError((e.code ?? "E_IO") as ErrorCode, e.message, { path: e.path });
}
