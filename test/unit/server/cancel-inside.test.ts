// A cancel reaches inside an operation: the server passes the operation's AbortSignal down, so an import
// stops in the middle of copying and hashing its one (large) file — not only between items — removes its
// staging folder, and adds nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { writeGgufModel } from "../../helpers/library-fixtures.js";
import { closeHashWorkers } from "../../../src/hashing/worker-host.js";
import { serveLibrary, api, raw, collectEvents, type Served } from "./server-fixture.js";

let s: Served;
before(async () => {
  s = await serveLibrary();
});
after(async () => {
  await s.close();
  await closeHashWorkers(); // a large file is hashed in a worker thread, which would keep this test process alive
});

test("cancel during an import of one 256 MiB file: it ends cancelled part-way through the file; nothing is added", async () => {
  const file = writeGgufModel(join(s.sources, "big", "big-llama-q4_k_m.gguf"), "Big Llama", 5);
  truncateSync(file, 256 * 1024 * 1024); // a tensor-data tail of zeros (sparse): a valid header, a large file
  let cancelled = false;
  const events = collectEvents(s.server.port, (e) => {
    if (!cancelled && e.op === "import" && (e.phase === "copy" || e.phase === "hash") && typeof e.done === "number" && e.done > 0) {
      cancelled = true;
      void api(s, "POST", `/api/operations/${String(e.id)}/cancel`);
    }
    return e.op === "import" && e.phase === "end";
  }, 60_000);
  await events.ready;
  const r = await api(s, "POST", "/api/import", { paths: [file], mode: "copy" });
  assert.equal(r.status, 202, r.body);
  const got = await events.done;
  const end = got[got.length - 1] as { state: string };
  assert.equal(end.state, "cancelled", JSON.stringify(got.slice(-3)));
  const progress = got.filter((e) => e.op === "import" && typeof e.done === "number" && typeof e.total === "number");
  const last = progress[progress.length - 1] as { done: number; total: number };
  assert.ok(last.done < last.total, `stopped part-way: ${last.done} of ${last.total}`);
  const all = (await raw(s.server.port, "GET", "/api/models?q=big")).json() as { totalCount: number };
  assert.equal(all.totalCount, 0);
  const staging = join(s.root, ".staging");
  assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], "the staging folder is gone");
  assert.ok(existsSync(file), "the source stays");
});
