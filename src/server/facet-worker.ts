// The facet counter's thread: its own connection to the index, so counting every match of a broad query
// (100-300 ms at 100k models, more on a busy machine) never holds up the server's thread, where the list
// requests of the next keystrokes are answered. Same code as ModelLibrary.facets (ModelIndex.facets).
import { parentPort, workerData } from "node:worker_threads";
import { ModelIndex } from "../index/model-index.js";
import type { FacetReply, FacetRequest } from "./facet-protocol.js";

const index = ModelIndex.open((workerData as { dbPath: string }).dbPath);
// The per-value model lists facets are counted against (~0.1 s at 100k models, once per data version), read
// before the first request and again after each answer, so a request after a change rarely pays for them.
index.prepareFacets();
const port = parentPort!;
port.on("message", (req: FacetRequest) => {
  let reply: FacetReply;
  try {
    reply = { seq: req.seq, facets: index.facets(req.query, req.filters) };
  } catch (e) {
    const err = e as { code?: string; message?: string };
    reply = { seq: req.seq, error: { code: err.code ?? "E_INTERNAL", message: err.message ?? String(e) } };
  }
  port.postMessage(reply);
  setImmediate(() => {
    try {
      index.prepareFacets();
    } catch {
      // the next request reports what is wrong
    }
  });
});
port.postMessage({ seq: 0, ready: true } satisfies FacetReply);
