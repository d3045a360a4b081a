// planImport through the operations layer: units and per-path failures, and a cancelled walk.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { planImport } from "../../../src/index.js";
import { writeGgufModel, writeShardSet } from "../../helpers/library-fixtures.js";
import { abortWhen, assertCancelled, withTempLibrary } from "../../helpers/operations.js";

test("planImport: one unit per model, a missing path is a failure of its own", () =>
  withTempLibrary(async (lib, src) => {
    writeShardSet(join(src, "a"), "s", 2);
    writeGgufModel(join(src, "b", "x.gguf"));
    const plan = await planImport(lib, { paths: [src, join(src, "nope")] });
    assert.deepEqual(plan.units.map((u) => u.kind).sort(), ["file", "folder"], "a folder holding one shard set is that model");
    assert.equal(plan.failures.length, 1);
    assert.equal(plan.failures[0].error.code, "E_NOT_FOUND");
    assert.deepEqual((await planImport([src])).length, 2, "the old call shape still answers the units");
  }));

test("planImport aborted mid-walk: E_CANCELLED after the folder it was in", () =>
  withTempLibrary(async (lib, src) => {
    for (let i = 0; i < 5; i++) mkdirSync(join(src, `d${i}`, "deeper"), { recursive: true });
    writeGgufModel(join(src, "d4", "deeper", "m.gguf"));
    const run = abortWhen((e) => e.phase === "walk" && run.events.length >= 3);
    await assertCancelled(planImport(lib, { paths: [src] }, run));
    assert.equal(run.events.filter((e) => e.phase === "walk").length, 3, "no folder walked after the abort");
  }));
