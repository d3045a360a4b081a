// The second thread of bench/merge-ceiling.ts: reads and parses each metadata.json it is sent, answers the
// fields a plan needs at once, and writes the index rows in the time left between messages, into one open
// transaction committed when asked. Plain JS over the compiled src/ (workerData.built), so no loader is needed.
import { parentPort, workerData } from "node:worker_threads";
import { mkdirSync } from "node:fs";
import path from "node:path";

const { built, source, dest } = workerData;
const { readTextFile } = await import(path.join(built, "core", "read-text-file.js"));
const { ModelIndex } = await import(path.join(built, "index", "model-index.js"));
const { recordFromParsed } = await import(path.join(built, "store", "record.js"));

mkdirSync(dest, { recursive: true });
const index = ModelIndex.open(path.join(dest, "index.db"));
index.beginOpen();
const rows = [];
let writing = false;

// Rows go in pieces of 100, each on its own turn of the event loop, so a batch to read is never kept waiting.
function writeSome() {
  const piece = rows.splice(0, 100);
  if (piece.length > 0) {
    index.upsertMany(piece);
    parentPort.postMessage({ rowsDone: piece.length });
  }
  writing = rows.length > 0;
  if (writing) setImmediate(writeSome);
}

parentPort.on("message", (m) => {
  if (m.commit) {
    index.commitOpen();
    index.close();
    parentPort.postMessage({ committed: true });
    return;
  }
  const fields = [];
  for (const rel of m.rels) {
    const read = readTextFile(path.join(source, rel, "metadata.json"));
    const parsed = JSON.parse(read.text);
    fields.push({ rel, files: parsed.files.map((f) => ({ name: f.name, size: f.size, sha256: f.sha256 })), tier: parsed.security_tier, id: parsed.model_id });
    rows.push(recordFromParsed(rel, path.join(dest, rel), parsed, read.st));
  }
  parentPort.postMessage({ fields });
  if (!writing) {
    writing = true;
    setImmediate(writeSome);
  }
});
parentPort.postMessage({ ready: true });
