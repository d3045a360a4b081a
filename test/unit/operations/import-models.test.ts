// importModels through the operations layer: the new call shape and its ProgressEvents, and cancellation —
// mid-copy, between units, mid-hash of a bigger file, in move mode, before the start — leaving no staging,
// no half model, the sources untouched and the index in step with the folders.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, readFileSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../../src/index.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { writeGgufModel, writeShardSet } from "../../helpers/library-fixtures.js";
import { abortWhen, abortedSignal, assertCancelled, assertIndexConsistent, stagingLeft, withTempLibrary } from "../../helpers/operations.js";

const sha256 = (p: string) => createHash("sha256").update(readFileSync(p)).digest("hex");

describe("importModels (operation)", () => {
  test.after(() => closeHashWorkers());

  test("params and ProgressEvents: a summary with counts; bytes only go up and end at the total", () =>
    withTempLibrary(async (lib, src) => {
      writeShardSet(src, "p", 2);
      writeGgufModel(join(src, "one.gguf"), "One", 1);
      const run = abortWhen(() => false);
      const summary = await importModels(lib, { paths: [src], tags: ["t"] }, { onProgress: run.onProgress });
      assert.deepEqual([summary.imported, summary.duplicates, summary.failed], [2, 0, 0]);
      assert.equal(summary.results.length, 2);
      assert.ok(run.events.every((e) => e.op === "import" && e.unit === "bytes"));
      const last = run.events[run.events.length - 1];
      assert.equal(last.phase, "done");
      assert.equal(last.done, last.total);
      for (let i = 1; i < run.events.length; i++) assert.ok(run.events[i].done! >= run.events[i - 1].done!);
      assert.ok(run.events.some((e) => e.phase === "copy"));
      await assertIndexConsistent(lib);
    }));

  test("aborted mid-copy of a shard set: E_CANCELLED, staging removed at once, no model, sources intact", () =>
    withTempLibrary(async (lib, src, root) => {
      const shards = writeShardSet(src, "s", 3);
      const before = shards.map(sha256);
      const run = abortWhen((e) => e.phase === "copy");
      await assertCancelled(importModels(lib, { paths: [shards[0]] }, run));
      assert.ok(run.fired());
      assert.deepEqual(stagingLeft(root), [], "no staging left behind (not only at the next open)");
      assert.deepEqual(lib.allIds(), []);
      assert.deepEqual(shards.map(sha256), before);
      await assertIndexConsistent(lib);
    }));

  test("aborted between units: the models committed before stay whole, the rest are not started", () =>
    withTempLibrary(async (lib, src, root) => {
      const a = writeGgufModel(join(src, "a.gguf"), "A", 1);
      const b = writeGgufModel(join(src, "b.gguf"), "B", 2);
      const c = writeGgufModel(join(src, "c.gguf"), "C", 3);
      const run = abortWhen((e) => e.phase === "done"); // the end of the first unit
      await assertCancelled(importModels(lib, { paths: [a, b, c] }, run));
      assert.equal(lib.allIds().length, 1, "exactly the first model");
      assert.equal(run.events.filter((e) => e.phase === "identify").length, 1, "the second unit was never started");
      assert.deepEqual(stagingLeft(root), []);
      await assertIndexConsistent(lib);
    }));

  test("aborted mid-hash of a 24 MiB file: hashing stops early, nothing stored", () =>
    withTempLibrary(async (lib, src, root) => {
      const big = writeGgufModel(join(src, "big.gguf"), "Big", 4);
      truncateSync(big, 24 * 1024 * 1024); // a real GGUF header; the rest reads as zeros
      for (const mode of ["copy", "hardlink"] as const) {
        const run = abortWhen((e) => (e.phase === "copy" || e.phase === "hash") && e.done! > 0);
        await assertCancelled(importModels(lib, { paths: [big], mode }, run));
        const hashed = run.events.filter((e) => e.phase === "copy" || e.phase === "hash");
        assert.ok(hashed[hashed.length - 1].done! < hashed[hashed.length - 1].total!, `${mode}: stopped before the end of the file`);
        assert.deepEqual(stagingLeft(root), []);
        assert.deepEqual(lib.allIds(), []);
      }
      assert.ok(existsSync(big));
      await assertIndexConsistent(lib);
    }));

  test("move mode aborted mid-way keeps every source", () =>
    withTempLibrary(async (lib, src, root) => {
      const shards = writeShardSet(src, "m", 2);
      const run = abortWhen((e) => e.phase === "hash");
      await assertCancelled(importModels(lib, { paths: [shards[0]], mode: "move" }, run));
      assert.ok(shards.every((s) => existsSync(s)), "the sources are still there");
      assert.deepEqual(stagingLeft(root), []);
      await assertIndexConsistent(lib);
    }));

  test("an already-fired signal: nothing is read or written", () =>
    withTempLibrary(async (lib, src, root) => {
      const a = writeGgufModel(join(src, "a.gguf"));
      await assertCancelled(importModels(lib, { paths: [a] }, { signal: abortedSignal() }));
      assert.deepEqual(stagingLeft(root), []);
      assert.deepEqual(lib.allIds(), []);
    }));

  test("the old call shape importModels(lib, paths, options) still works and takes a signal", () =>
    withTempLibrary(async (lib, src, root) => {
      const [r] = await importModels(lib, [writeGgufModel(join(src, "old.gguf"), "Old", 5)]);
      assert.equal(r.status, "imported");
      const shards = writeShardSet(src, "o", 2);
      const controller = new AbortController();
      await assertCancelled(importModels(lib, [shards[0]], { signal: controller.signal, onProgress: (p) => p.stage === "copying" && controller.abort() }));
      assert.deepEqual(stagingLeft(root), []);
      await assertIndexConsistent(lib);
    }));
});
