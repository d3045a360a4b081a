// The index writer's thread (see index-writer.ts): its own connection to the index, writing the batches it is
// sent in the order sent, into one open transaction that is committed every COMMIT_ROWS rows and when the
// caller drains. A batch is answered once its rows are committed, or as failed (then the caller writes it).
import { parentPort, workerData } from "node:worker_threads";
import { ModelLibraryError } from "../core/errors.js";
import { ModelIndex } from "./model-index.js";
import type { WriterReply, WriterRequest } from "./index-writer.js";

// Models per commit. A commit writes the transaction's pages to the WAL (and may checkpoint, with fsyncs): done
// while the merge renames, it slowed each rename 2-3x (measured: 10,000 renames ~190 ms alone, 400-800 ms beside
// commits every 250 rows); the open transaction only holds back other writers of this index meanwhile (~1 s of
// a merge at this size, well under their 30 s busy_timeout).
const COMMIT_ROWS = 10_000;

const port = parentPort!;
let index: ModelIndex | null = null;
try {
  index = ModelIndex.open((workerData as { dbPath: string }).dbPath);
} catch (e) {
  // Every batch is then answered with this error; the caller writes them itself.
  port.postMessage({ seq: 0, error: (e as Error).message ?? String(e) } satisfies WriterReply);
}
/** The batches written into the open transaction, answered when it commits. */
let open: number[] = [];
let rows = 0;

function answer(seqs: number[], error?: string): void {
  for (const seq of seqs) port.postMessage(error === undefined ? { seq } : { seq, error });
}

function commit(): void {
  const seqs = open;
  open = [];
  rows = 0;
  try {
    index?.commitOpen();
    answer(seqs);
  } catch (e) {
    index?.rollbackOpen();
    answer(seqs, (e as Error).message ?? String(e));
  }
}

port.on("message", (req: WriterRequest) => {
  if (req.close) {
    commit();
    index?.close();
    port.close();
    return;
  }
  if (req.flush) {
    commit();
    return;
  }
  try {
    if (!index) throw new Error("the index could not be opened in the writer thread");
    index.beginOpen();
    index.upsertMany(req.records);
    open.push(req.seq);
    rows += req.records.length;
    if (rows >= COMMIT_ROWS) commit();
  } catch (e) {
    const error = (e as Error).message ?? String(e);
    if (e instanceof ModelLibraryError && e.code === "E_USAGE") {
      // A bad record: upsertMany checks every record before it writes anything, so only this batch fails.
      answer([req.seq], error);
      return;
    }
    // SQLite itself failed (disk full, busy, damaged): nothing of the open transaction is kept.
    try {
      index?.rollbackOpen();
    } catch {
      // (already rolled back by SQLite)
    }
    answer([...open, req.seq], error);
    open = [];
    rows = 0;
  }
});
