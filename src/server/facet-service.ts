// Facet counts for the API: remembered per data version (facet-cache.ts), counted in a worker thread with its
// own index connection (facet-worker.ts), one at a time, a request already in flight shared by whoever asks
// the same. Requests wait here, not in the worker, so one whose client has gone (the page aborts the facets
// of a keystroke when the next one comes) is dropped before it is counted. Without a worker (it failed to
// start) they are counted on the server's thread.
import { Worker } from "node:worker_threads";
import type { Facets, SearchFilters } from "../index/index-types.js";
import { ModelLibraryError, type ErrorCode } from "../core/errors.js";
import { FacetCache } from "./facet-cache.js";
import type { FacetReply, FacetRequest } from "./facet-protocol.js";

// Compiled: facet-worker.js beside this file. From source (tests, bench under tsx) Node 20 does not apply
// `--import tsx` to a worker's entry, so a one-line bootstrap registers tsx first (as hashing/worker-host.ts).
function startWorker(dbPath: string): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./facet-worker.js", import.meta.url), { workerData: { dbPath }, execArgv: [] });
  const api = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(new URL("./facet-worker.ts", import.meta.url).href);
  return new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${entry}); })`, { eval: true, workerData: { dbPath }, execArgv: [] });
}

interface Job {
  seq: number;
  query: string;
  filters: SearchFilters;
  /** True when every client that asked for this has gone. */
  abandoned: () => boolean;
  resolve: (f: Facets) => void;
  reject: (e: Error) => void;
}

export class FacetService {
  private readonly cache: FacetCache;
  private worker: Worker | null = null;
  private seq = 0;
  private readonly queue: Job[] = [];
  private running: Job | null = null;
  private readonly inFlight = new Map<string, { promise: Promise<Facets>; signals: AbortSignal[] }>();

  constructor(
    dbPath: string,
    private readonly countHere: (query: string, filters: SearchFilters) => Facets,
  ) {
    this.cache = new FacetCache(dbPath);
    try {
      const worker = startWorker(dbPath);
      worker.on("message", (reply: FacetReply) => this.onReply(reply));
      worker.on("error", (e) => this.onDead(e));
      worker.on("exit", () => this.onDead(new Error("the facet worker exited")));
      this.worker = worker;
    } catch {
      this.worker = null;
    }
  }

  /** The facets of this query and filters: from the cache, else counted (in the worker when it runs). */
  async get(query: string, filters: SearchFilters, signal?: AbortSignal): Promise<Facets> {
    const hit = this.cache.lookup(query, filters);
    if (hit.facets) return hit.facets;
    const shared = this.inFlight.get(hit.key);
    if (shared) {
      shared.signals.push(signal ?? new AbortController().signal);
      return shared.promise;
    }
    const entry = { promise: null as unknown as Promise<Facets>, signals: [signal ?? new AbortController().signal] };
    entry.promise = this.count(query, filters, () => entry.signals.every((s) => s.aborted)).then((facets) => {
      this.cache.store(hit, facets);
      return facets;
    });
    this.inFlight.set(hit.key, entry);
    try {
      return await entry.promise;
    } finally {
      this.inFlight.delete(hit.key);
    }
  }

  private count(query: string, filters: SearchFilters, abandoned: () => boolean): Promise<Facets> {
    if (!this.worker) return Promise.resolve(this.countHere(query, filters));
    return new Promise<Facets>((resolve, reject) => {
      this.queue.push({ seq: ++this.seq, query, filters, abandoned, resolve, reject });
      this.next();
    });
  }

  /** Hands the worker the next job whose client is still there. */
  private next(): void {
    while (!this.running && this.worker && this.queue.length > 0) {
      const job = this.queue.shift()!;
      if (job.abandoned()) {
        job.reject(new ModelLibraryError("E_CANCELLED", "facets no longer wanted"));
        continue;
      }
      this.running = job;
      this.worker.postMessage({ seq: job.seq, query: job.query, filters: job.filters } satisfies FacetRequest);
    }
  }

  private onReply(reply: FacetReply): void {
    const job = this.running;
    if (!job || job.seq !== reply.seq) return;
    this.running = null;
    if (reply.facets) job.resolve(reply.facets);
    else job.reject(new ModelLibraryError((reply.error?.code ?? "E_INVALID") as ErrorCode, reply.error?.message ?? "facets failed"));
    this.next();
  }

  /** The worker died: what waited for it is counted here instead, and so is everything after. */
  private onDead(_e: Error): void {
    if (!this.worker) return;
    this.worker = null;
    for (const job of [...(this.running ? [this.running] : []), ...this.queue.splice(0)]) {
      try {
        job.resolve(this.countHere(job.query, job.filters));
      } catch (e) {
        job.reject(e as Error);
      }
    }
    this.running = null;
  }

  async close(): Promise<void> {
    const w = this.worker;
    this.worker = null;
    for (const job of [...(this.running ? [this.running] : []), ...this.queue.splice(0)]) job.reject(new Error("the server is stopping"));
    this.running = null;
    if (w) await w.terminate();
    this.cache.close();
  }
}
