// Index rows written in a thread of their own: a merge of 10,000 models spends ~0.2-0.3 s of CPU in SQLite
// writing their rows (FTS5, 10 indexes), about as long as the renames themselves, and the two can run at once
// on two cores. Batches are written in the order given (ModelIndex.upsertMany on the thread's own connection),
// into one transaction committed every 10,000 rows and at drain() (index-writer-worker.ts says why). A batch the
// thread could not write (it failed to start, a busy or damaged index, a bad record) is handed back by drain()
// for the caller to write on its own connection, where the usual error handling applies (a damaged index
// rebuilt, a bad record reported): the thread only ever saves time.
import { Worker } from "node:worker_threads";
import type { IndexRecord } from "./index-types.js";

export interface WriterRequest {
  seq: number;
  records: IndexRecord[];
  close?: boolean;
  /** Commit what the thread holds now (and answer those batches), and go on. */
  flush?: boolean;
}

export interface WriterReply {
  seq: number;
  error?: string;
}

// Compiled: index-writer-worker.js beside this file. From source (tests, bench under tsx) Node 20 does not
// apply `--import tsx` to a worker's entry, so a one-line bootstrap registers tsx first (as the hash workers).
function startWorker(dbPath: string): Worker {
  if (!import.meta.url.endsWith(".ts")) return new Worker(new URL("./index-writer-worker.js", import.meta.url), { workerData: { dbPath }, execArgv: [] });
  const api = JSON.stringify(import.meta.resolve("tsx/esm/api"));
  const entry = JSON.stringify(new URL("./index-writer-worker.ts", import.meta.url).href);
  return new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${entry}); })`, { eval: true, workerData: { dbPath }, execArgv: [] });
}

export class IndexWriter {
  private readonly worker: Worker;
  private seq = 0;
  /** Batches sent and not yet answered, by seq. */
  private readonly pending = new Map<number, IndexRecord[]>();
  /** Batches the thread could not write, in the order sent. */
  private readonly failed: IndexRecord[][] = [];
  private dead = false;
  private closed = false;
  private wake: (() => void) | null = null;

  constructor(dbPath: string) {
    this.worker = startWorker(dbPath);
    this.worker.on("message", (reply: WriterReply) => {
      if (reply.seq === 0) return; // failed to open: each batch's own answer says so
      const records = this.pending.get(reply.seq);
      this.pending.delete(reply.seq);
      if (records && reply.error !== undefined) this.failed.push(records);
      this.check();
    });
    this.worker.on("error", () => this.die());
    this.worker.on("exit", () => this.die());
  }

  /** Queues one batch (written after those before it); returns at once. */
  write(records: IndexRecord[]): void {
    if (records.length === 0) return;
    if (this.dead || this.closed) {
      this.failed.push(records);
      return;
    }
    const seq = ++this.seq;
    this.pending.set(seq, records);
    this.worker.postMessage({ seq, records } satisfies WriterRequest);
  }

  /**
   * Waits until every batch sent so far is committed (visible to other processes) or given up; the thread goes
   * on. Returns the batches it could not write, in the order sent: the caller writes those itself.
   */
  async flush(): Promise<IndexRecord[][]> {
    if (!this.dead && !this.closed && this.pending.size > 0) {
      this.worker.postMessage({ seq: 0, records: [], flush: true } satisfies WriterRequest);
      await new Promise<void>((resolve) => (this.wake = resolve));
    }
    return this.failed.splice(0);
  }

  /**
   * Waits until every batch sent is committed or given up, and ends the thread. Returns the batches it could not
   * write, in the order they were sent: the caller writes those itself.
   */
  async drain(): Promise<IndexRecord[][]> {
    // The close makes the thread commit what it holds (and answer those batches) before it ends.
    if (!this.dead && !this.closed) this.worker.postMessage({ seq: 0, records: [], close: true } satisfies WriterRequest);
    this.closed = true;
    if (this.pending.size > 0 && !this.dead) await new Promise<void>((resolve) => (this.wake = resolve));
    return this.failed.splice(0);
  }

  private check(): void {
    if (this.pending.size > 0 || !this.wake) return;
    const wake = this.wake;
    this.wake = null;
    wake();
  }

  /** The thread ended (or never started): whatever it had not answered is the caller's to write. */
  private die(): void {
    if (this.dead) return;
    this.dead = true;
    // In seq order, which is the order sent.
    for (const seq of [...this.pending.keys()].sort((a, b) => a - b)) this.failed.push(this.pending.get(seq)!);
    this.pending.clear();
    if (this.wake) {
      const wake = this.wake;
      this.wake = null;
      wake();
    }
  }
}
