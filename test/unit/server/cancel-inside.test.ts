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

test("cancel of an import after its first model was committed: the end event names that model as kept", async () => {
  const small = writeGgufModel(join(s.sources, "two", "small-zanzibar-q4_0.gguf"), "Small Zanzibar", 6);
  const big = writeGgufModel(join(s.sources, "two", "later-llama-q4_k_m.gguf"), "Later Llama", 7);
  truncateSync(big, 256 * 1024 * 1024);
  let cancelled = false;
  const events = collectEvents(s.server.port, (e) => {
    const onBig = typeof e.item === "string" && e.item.includes("later-llama");
    if (!cancelled && e.op === "import" && onBig && (e.phase === "copy" || e.phase === "hash") && typeof e.done === "number" && e.done > 0) {
      cancelled = true;
      void api(s, "POST", `/api/operations/${String(e.id)}/cancel`);
    }
    return e.op === "import" && e.phase === "end";
  }, 60_000);
  await events.ready;
  const r = await api(s, "POST", "/api/import", { paths: [small, big], mode: "copy" });
  assert.equal(r.status, 202, r.body);
  const got = await events.done;
  const end = got[got.length - 1] as { state: string; error?: { code: string; completed?: string[] } };
  assert.equal(end.state, "cancelled", JSON.stringify(got.slice(-3)));
  assert.equal(end.error?.code, "E_CANCELLED");
  assert.equal(end.error?.completed?.length, 1, JSON.stringify(end.error));
  assert.match(end.error!.completed![0], /small-zanzibar/);
  const kept = (await raw(s.server.port, "GET", "/api/models?q=zanzibar")).json() as { totalCount: number };
  assert.equal(kept.totalCount, 1, "the model committed before the cancel is in the library");
});
