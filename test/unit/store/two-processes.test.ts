// Two `mlib` processes working on one library at the same moment. Each test makes the overlap certain rather than
// likely: it holds the library's commit lock itself, waits until each child is blocked on it (its second attempt:
// core/lock.ts, seen by test/helpers/lock-barrier.ts), does the other thing meanwhile, then lets go.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts, type LockAttempts } from "../../helpers/lock-barrier.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

/** Holds `root`'s commit lock while `during` runs; `during` gets the barrier on it. */
async function holdingCommitLock(root: string, during: (lock: LockAttempts & { release: () => Promise<void> }) => Promise<void>): Promise<void> {
  const lockPath = join(root, COMMIT_LOCK);
  fs.mkdirSync(join(root, ".model-library"), { recursive: true });
  const attempts = watchLockAttempts(lockPath);
  let held: LockHolder | null = await acquireLock(lockPath);
  const release = async (): Promise<void> => {
    if (held) await releaseLock(lockPath, held);
    held = null;
  };
  try {
    await during(Object.assign(attempts, { release }));
  } finally {
    await release();
    attempts.close();
  }
}

async function indexInStep(root: string): Promise<void> {
  const lib = await ModelLibrary.open(root, { reconcile: "none" });
  try {
    const r = await lib.reconcile("full");
    assert.deepEqual([r.added, r.updated, r.removed, r.problems.length], [0, 0, 0, 0], "the index disagrees with the metadata.json files");
  } finally {
    lib.close();
  }
}

test("mlib doctor --fix while an import is staging: the live staging is left alone, the import commits", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-2p-doctor-");
  const root = join(dir, "lib");
  try {
    const file = writeGgufModel(join(dir, "in", "one.gguf"), "One", 1);
    await holdingCommitLock(root, async (lock) => {
      const imp = startCli(["import", file, "--json", "--library", root]);
      await lock.reached(imp.child.pid!, 2); // copied into staging, waiting to commit
      const staging = fs.readdirSync(join(root, ".model-library", "staging"));
      assert.equal(staging.filter((n) => !n.endsWith(".lease")).length, 1, `staging: ${staging.join(", ")}`);
      const doctor = await runCli(["doctor", "--fix", "--json", "--library", root]);
      assert.ok(doctor.code === 0 || doctor.code === 1, doctor.stderr);
      assert.deepEqual(fs.readdirSync(join(root, ".model-library", "staging")).sort(), staging.sort(), "doctor touched live staging");
      await lock.release();
      const r = await imp.result;
      assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(r.stdout).results[0].status, "imported");
    });
    await indexInStep(root);
  } finally {
    cleanup();
  }
});

test("mlib reindex while two imports wait to commit: both models indexed, the index in step", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-2p-reindex-");
  const root = join(dir, "lib");
  try {
    const first = writeGgufModel(join(dir, "in", "first.gguf"), "First", 1);
    assert.equal((await runCli(["import", first, "--library", root])).code, 0);
    const a = writeGgufModel(join(dir, "in", "alpha.gguf"), "Alpha", 2);
    const b = writeGgufModel(join(dir, "in", "beta.gguf"), "Beta", 3);
    await holdingCommitLock(root, async (lock) => {
      const ia = startCli(["import", a, "--json", "--library", root]);
      const ib = startCli(["import", b, "--json", "--library", root]);
      await Promise.all([lock.reached(ia.child.pid!, 2), lock.reached(ib.child.pid!, 2)]);
      const reindex = startCli(["reindex", "--json", "--library", root]);
      await lock.release(); // the imports commit while the reindex runs
      const [ra, rb, rr] = await Promise.all([ia.result, ib.result, reindex.result]);
      for (const r of [ra, rb, rr]) assert.equal(r.code, 0, r.stderr);
      assert.equal(JSON.parse(ra.stdout).results[0].status, "imported");
      assert.equal(JSON.parse(rb.stdout).results[0].status, "imported");
    });
    await indexInStep(root);
    const list = await runCli(["list", "--json", "--library", root]);
    assert.equal(JSON.parse(list.stdout).totalCount, 3, list.stdout);
  } finally {
    cleanup();
  }
});

test("mlib edit and mlib redetect of one model at once: both changes kept, metadata.json and its .bak whole", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-2p-edit-");
  const root = join(dir, "lib");
  try {
    const file = writeGgufModel(join(dir, "in", "model.gguf"), "Edited", 4);
    const imp = await runCli(["import", file, "--json", "--library", root]);
    const id = JSON.parse(imp.stdout).results[0].modelId as string;
    const metaFile = join(root, id, "metadata.json");
    // A model an older identify got wrong: redetect has something to write.
    const meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
    meta.model_type = "unknown";
    meta.quantization = null;
    fs.writeFileSync(metaFile, JSON.stringify(meta, null, 2));
    await holdingCommitLock(root, async (lock) => {
      const edit = startCli(["edit", id, "--name", "My own name", "--tag", "mine,kept", "--notes", "a note", "--library", root]);
      const redetect = startCli(["redetect", id, "--library", root]);
      await Promise.all([lock.reached(edit.child.pid!, 2), lock.reached(redetect.child.pid!, 2)]);
      await lock.release();
      const [re, rr] = await Promise.all([edit.result, redetect.result]);
      assert.equal(re.code, 0, re.stderr);
      assert.equal(rr.code, 0, rr.stderr);
    });
    const after = JSON.parse(fs.readFileSync(metaFile, "utf8"));
    assert.equal(after.official_name, "My own name");
    assert.deepEqual(after.tags, ["mine", "kept"]);
    assert.equal(after.notes, "a note");
    assert.equal(after.model_type, "llm", "redetect's change lost");
    assert.ok(after.quantization, "redetect's change lost");
    const bak = JSON.parse(fs.readFileSync(`${metaFile}.bak`, "utf8"));
    assert.equal(typeof bak, "object");
    await indexInStep(root);
    const show = await runCli(["show", id, "--json", "--library", root]);
    assert.match(show.stdout, /My own name/);
  } finally {
    cleanup();
  }
});
