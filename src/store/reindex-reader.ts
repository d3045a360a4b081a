// The reading half of a full reindex, run in a worker thread: walk the library, read and parse every
// metadata.json, map it to the values of its index rows (prepareRows), and post those in batches to the
// thread that inserts them, which then only runs statements.
// Reading (~45 µs CPU per model) and inserting (~60 µs) then overlap, so a reindex takes about the
// longer of the two instead of their sum. Sync fs calls in the worker: one open/fstat/read/close per file
// costs what readFileSync alone does, where the promise API took several thread-pool round trips per file.
import { join } from "node:path";
import { Worker, isMainThread, parentPort, workerData } from "node:worker_threads";
import { prepareRows, type PreparedRows } from "../index/index-rows.js";
import { METADATA_FILE } from "./layout.js";
import { walkContainers } from "./walk-containers.js";
import { corruptMetadata, readMetadataText, recordFromParsed } from "./record.js";

const BATCH = 256;
// Batches posted and not yet inserted, at most: bounds the memory a fast reader can fill.
const MAX_IN_FLIGHT = 8;
// Tells this module, loaded as a worker's entry, that it is the reader (and not merely imported).
const READER_KIND = "mlib-reindex-reader";

export type ReaderMessage =
  | { type: "batch"; records: PreparedRows[]; problems: { id: string; error: string }[] }
  | { type: "done"; dirs: Record<string, number> }
  | { type: "error"; message: string };

export type Item = { record: PreparedRows } | { problem: { id: string; error: string } };

/**
 * Every model folder under root, read and given to onItem: a folder holding a metadata.json is a model, any
 * other folder (up to MAX_DEPTH) a container to look into, names starting with "." skipped. `dirs` receives
 * the mtime of every container (reconcile's quick mode compares them next time).
 */
export function readLibrary(root: string, dirs: Record<string, number>, onItem: (item: Item) => void): void {
  walkContainers(
    root,
    "",
    (rel, st) => void (dirs[rel] = st.mtimeMs),
    (dir, id) => {
      let item: Item | null;
      try {
        item = readModel(id, dir);
      } catch (err) {
        item = { problem: { id, error: (err as Error).message } };
      }
      if (item) onItem(item);
      return item !== null;
    },
  );
}

/** The model in dir, or null when dir has no metadata.json (a container). */
function readModel(id: string, dir: string): Item | null {
  const file = join(dir, METADATA_FILE);
  // Over the size limit, or not a regular file: thrown, and reported as the model's problem by readLibrary.
  const read = readMetadataText(file);
  if (!read) return null;
  const { st, text } = read;
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    return { problem: { id, error: corruptMetadata(file, id).message } };
  }
  // Valid JSON that is no object (`[]`, `null`): damaged, as record.ts says it.
  if (parsed === null || typeof parsed !== "object" || Array.isArray(parsed)) return { problem: { id, error: corruptMetadata(file, id, "valid JSON but not an object").message } };
  try {
    return { record: prepareRows(file, recordFromParsed(id, dir, parsed, st)) };
  } catch (e) {
    return { problem: { id, error: (e as Error).message } };
  }
}

/**
 * Starts the reader for root in a worker. onMessage gets each message; it must call the returned ack()
 * once it has handled a batch (the reader waits when MAX_IN_FLIGHT batches are unhandled).
 */
export function startReader(root: string): { worker: Worker; ack: () => void } {
  const acks = new Int32Array(new SharedArrayBuffer(4));
  const data = { kind: READER_KIND, root, acks };
  let worker: Worker;
  if (!import.meta.url.endsWith(".ts")) {
    worker = new Worker(new URL(import.meta.url), { workerData: data, execArgv: [] });
  } else {
    // From source (tests, bench under tsx): Node 20 does not apply `--import tsx` hooks to a worker's entry,
    // so a one-line bootstrap registers tsx inside the worker first (as hashing/worker-host.ts does).
    const api = JSON.stringify(import.meta.resolve("tsx/esm/api"));
    const entry = JSON.stringify(import.meta.url);
    worker = new Worker(`import(${api}).then((tsx) => { tsx.register(); return import(${entry}); })`, {
      eval: true,
      workerData: data,
      execArgv: [],
    });
  }
  return {
    worker,
    ack: () => {
      Atomics.add(acks, 0, 1);
      Atomics.notify(acks, 0);
    },
  };
}

function runWorker(root: string, acks: Int32Array): void {
  const port = parentPort!;
  const dirs: Record<string, number> = {};
  let posted = 0;
  let records: PreparedRows[] = [];
  let problems: { id: string; error: string }[] = [];
  const post = (): void => {
    // Wait (blocking this thread only) until the inserting thread has caught up.
    for (let done = Atomics.load(acks, 0); posted - done >= MAX_IN_FLIGHT; done = Atomics.load(acks, 0)) Atomics.wait(acks, 0, done);
    port.postMessage({ type: "batch", records, problems } satisfies ReaderMessage);
    posted++;
    records = [];
    problems = [];
  };
  try {
    readLibrary(root, dirs, (item) => {
      if ("record" in item) records.push(item.record);
      else problems.push(item.problem);
      if (records.length + problems.length >= BATCH) post();
    });
    if (records.length + problems.length > 0) post();
    port.postMessage({ type: "done", dirs } satisfies ReaderMessage);
  } catch (e) {
    port.postMessage({ type: "error", message: (e as Error).message } satisfies ReaderMessage);
  }
}

if (!isMainThread && (workerData as { kind?: unknown } | null)?.kind === READER_KIND) {
  const { root, acks } = workerData as { root: string; acks: Int32Array };
  runWorker(root, acks);
}
