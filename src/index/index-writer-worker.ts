// The index writer's thread (see index-writer.ts): its own connection to the index, writing each batch of
// records it is sent in one transaction (ModelIndex.upsertMany), in the order sent, and answering when the
// batch is committed or failed.
import { parentPort, workerData } from "node:worker_threads";
import { ModelIndex } from "./model-index.js";
import type { WriterReply, WriterRequest } from "./index-writer.js";

const port = parentPort!;
let index: ModelIndex | null = null;
try {
  index = ModelIndex.open((workerData as { dbPath: string }).dbPath);
} catch (e) {
  // Every batch is then answered with this error; the caller writes them itself.
  port.postMessage({ seq: 0, error: (e as Error).message ?? String(e) } satisfies WriterReply);
}
port.on("message", (req: WriterRequest) => {
  if (req.close) {
    index?.close();
    port.close();
    return;
  }
  let reply: WriterReply;
  try {
    if (!index) throw new Error("the index could not be opened in the writer thread");
    index.upsertMany(req.records);
    reply = { seq: req.seq };
  } catch (e) {
    reply = { seq: req.seq, error: (e as Error).message ?? String(e) };
  }
  port.postMessage(reply);
});
