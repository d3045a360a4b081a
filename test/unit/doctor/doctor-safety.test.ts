// `mlib doctor --fix` applies only safe fixes: a model file still being copied into the library (a real writer
// process appending to it) is reported, not adopted half-way; once the copy is over it is adopted whole.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { runDoctor } from "../../../src/doctor/run-doctor.js";
import { acquireLock, releaseLock } from "../../../src/core/lock.js";
import { importModels } from "../../../src/operations/import-models.js";
import { blankMetadata, serializeMetadata } from "../../../src/store/metadata.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("doctor --fix does not adopt a model file that is still being written; it does once the copy is over", async () => {
  const t = tempDir("mlib-doctor-safety-");
  const root = path.join(t.dir, "lib");
  const lib = await ModelLibrary.open(root);
  const dir = path.join(root, "llm", "llama", "copying");
  const file = writeGgufModel(path.join(dir, "copying.gguf"), "Copying", 9);
  // The copy goes on in another process: 64 KiB every 20 ms until it is told to stop (stdin closed).
  const writer = spawn(process.execPath, ["-e", `
    const fs = require("node:fs");
    const fd = fs.openSync(${JSON.stringify(file)}, "a");
    const timer = setInterval(() => fs.writeSync(fd, Buffer.alloc(65536, 1)), 20);
    process.stdin.on("end", () => { clearInterval(timer); fs.closeSync(fd); process.exit(0); });
    process.stdin.resume();
    process.stdout.write("writing\\n");
  `], { stdio: ["pipe", "pipe", "inherit"] });
  const writerDone = new Promise<void>((resolve) => writer.on("exit", () => resolve()));
  try {
    await new Promise<void>((resolve) => writer.stdout!.once("data", () => resolve()));
    await new Promise((r) => setTimeout(r, 100));
    const during = await runDoctor(lib, { fix: true });
    assert.equal(fs.existsSync(path.join(dir, "metadata.json")), false, "a file still being written was adopted");
    const p = during.problems.find((x) => x.kind === "no-metadata" && x.path === dir);
    assert.ok(p, "the folder is still reported");
    assert.match(p.message, /still being written/);
    assert.deepEqual(during.fixed.filter((f) => f.path === dir), []);

    writer.stdin!.end();
    await writerDone;
    // The copy is over; its last write is made older than the settle time rather than waited for.
    const past = new Date(Date.now() - 10_000);
    fs.utimesSync(file, past, past);
    const after = await runDoctor(lib, { fix: true });
    assert.deepEqual(after.fixed.map((f) => f.kind), ["no-metadata"]);
    const meta = await lib.getMetadata("llm/llama/copying");
    assert.equal(meta.files![0].size, fs.statSync(file).size, "adopted whole");
    assert.deepEqual(after.problems, []);
  } finally {
    if (writer.exitCode === null) writer.kill("SIGKILL");
    await writerDone;
    lib.close();
    t.cleanup();
  }
});

test("a metadata.json that is valid JSON but no object (a bad hand edit: null, []) is reported as damaged; --fix restores the .bak", async () => {
  const t = tempDir("mlib-doctor-safety-");
  const lib = await ModelLibrary.open(path.join(t.dir, "lib"));
  try {
    const ids: string[] = [];
    for (const [k, text] of ["null", "[]"].entries()) {
      const [r] = await importModels(lib, [writeGgufModel(path.join(t.dir, `m${k}.gguf`), `M${k}`, 110 + k)], { name: `edited ${k}` });
      await lib.updateMetadata(r.modelId!, (m) => { m.notes = "the good version"; }); // leaves a .bak
      fs.writeFileSync(path.join(lib.modelDir(r.modelId!), "metadata.json"), text);
      ids.push(r.modelId!);
    }
    const found = await runDoctor(lib);
    const damaged = found.problems.filter((p) => p.kind === "metadata-corrupt");
    assert.deepEqual(damaged.map((p) => p.id).sort(), [...ids].sort());
    for (const p of damaged) assert.match(p.message, /not an object/);
    const fixed = await runDoctor(lib, { fix: true });
    assert.deepEqual(fixed.fixErrors, []);
    assert.deepEqual(fixed.problems, []);
    for (const id of ids) assert.equal((await lib.getMetadata(id)).official_name !== null, true);
  } finally {
    lib.close();
    t.cleanup();
  }
});

test("doctor --fix stopped (its signal) while hashing a big file stops at once and records nothing half-done", async () => {
  const t = tempDir("mlib-doctor-safety-");
  const root = path.join(t.dir, "lib");
  const lib = await ModelLibrary.open(root);
  try {
    // A model whose file was never hashed: a real GGUF header, then a sparse tail (hashing it takes seconds).
    const dir = path.join(root, "llm", "llama", "big");
    const file = writeGgufModel(path.join(dir, "big.gguf"), "Big", 140);
    fs.truncateSync(file, 384 * 1024 * 1024);
    const meta = blankMetadata();
    meta.official_name = "Big";
    meta.model_type = "llm";
    meta.files = [{ name: "big.gguf", original_name: "big.gguf", size: 384 * 1024 * 1024, sha256: null, blake3: null }];
    fs.writeFileSync(path.join(dir, "metadata.json"), JSON.stringify(serializeMetadata(meta)));
    await lib.reconcile("full");
    const before = fs.readFileSync(path.join(dir, "metadata.json"));

    const ac = new AbortController();
    const started = Date.now();
    let abortedAt = 0;
    const run = runDoctor(lib, { fix: true }, {
      signal: ac.signal,
      onProgress: (e) => {
        // The fix has begun: stop it a moment into its hash.
        if (e.phase === "fix" && !abortedAt) setTimeout(() => { abortedAt = Date.now(); ac.abort(); }, 300);
      },
    });
    await assert.rejects(run, (e: Error & { code?: string }) => e.code === "E_CANCELLED");
    const stoppedAfter = Date.now() - abortedAt;
    assert.ok(fs.readFileSync(path.join(dir, "metadata.json")).equals(before), `the hash was finished and recorded after the stop (stopped ${stoppedAfter} ms after it, ${Date.now() - started} ms in all)`);
    assert.ok(stoppedAfter < 1500, `took ${stoppedAfter} ms to stop`);
  } finally {
    lib.close();
    t.cleanup();
  }
});

test("a merge running now (its lock held) is reported as running, not as stopped with `mlib merge SRC` to finish it", async () => {
  const t = tempDir("mlib-doctor-safety-");
  const root = path.join(t.dir, "lib");
  const lib = await ModelLibrary.open(root);
  const state = path.join(root, ".model-library");
  try {
    fs.writeFileSync(path.join(state, "merge-journal.json"), JSON.stringify({ version: 1, source: "/some/src", startedAt: "", allowPickle: false, plan: [] }));
    const holder = await acquireLock(path.join(state, "merge.lock"), { timeoutMs: 0 }); // as `mlib merge` holds it
    try {
      const p = (await runDoctor(lib)).problems.find((x) => x.kind === "merge-unfinished")!;
      assert.match(p.message, /from \/some\/src is running now/);
      assert.doesNotMatch(p.remedy, /mlib merge/);
    } finally {
      await releaseLock(path.join(state, "merge.lock"), holder);
    }
    const p = (await runDoctor(lib)).problems.find((x) => x.kind === "merge-unfinished")!;
    assert.match(p.message, /was stopped/);
    assert.match(p.remedy, /mlib merge \/some\/src/);
  } finally {
    lib.close();
    t.cleanup();
  }
});

test("doctor --fix leaves staging without a lease alone while it is fresh, by the rule opening a library applies", async () => {
  const t = tempDir("mlib-doctor-staging-");
  const root = path.join(t.dir, "lib");
  const lib = await ModelLibrary.open(root);
  try {
    // No lease and a pid that is not running here: an import of another PID namespace (a container sharing the
    // disk) or of the layout before `.model-library/`. Only its age says whether it is still being written.
    const fresh = path.join(root, ".staging", "999999999-fresh");
    const old = path.join(root, ".staging", "999999999-old");
    const handMade = path.join(root, ".model-library", "staging", "no-pid-here");
    for (const dir of [fresh, old, handMade]) {
      fs.mkdirSync(dir, { recursive: true });
      fs.writeFileSync(path.join(dir, "part.gguf"), "bytes");
    }
    const tenMinutesAgo = new Date(Date.now() - 600_000);
    for (const p of [old, path.join(old, "part.gguf")]) fs.utimesSync(p, tenMinutesAgo, tenMinutesAgo);
    const r = await runDoctor(lib, { fix: true });
    assert.deepEqual(r.fixed.filter((f) => f.kind === "staging-dead").map((f) => f.path), [old]);
    assert.ok(fs.existsSync(path.join(fresh, "part.gguf")), "a fresh staging folder with no lease was removed");
    assert.ok(fs.existsSync(path.join(handMade, "part.gguf")), "a fresh staging folder with no pid in its name was removed");
    assert.equal(fs.existsSync(old), false);
  } finally {
    lib.close();
    t.cleanup();
  }
});

