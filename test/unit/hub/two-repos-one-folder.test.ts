// Two `mlib download` of DIFFERENT repos whose models derive the same id (acme/Twin and other/Twin: same type,
// family and name; one file each, named alike and of one size, different bytes) landing at the same instant. The test
// holds the library's commit lock until both have reached it, then lets go: both choose their folder at once. They
// must land as two models, each folder holding its own repo's bytes (never one folder, never one file replacing the
// other's). Fake Hub on loopback.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import { join } from "node:path";
import { acquireLock, releaseLock, type LockHolder } from "../../../src/core/lock.js";
import { COMMIT_LOCK } from "../../../src/store/layout.js";
import { runCli, startCli } from "../../helpers/cli.js";
import { watchLockAttempts } from "../../helpers/lock-barrier.js";
import { startFakeHub } from "../../helpers/fake-hub.js";
import { llamaTensors, tempDir, writeSafetensorsModel } from "../../helpers/library-fixtures.js";

const sha256 = (b: Buffer): string => createHash("sha256").update(b).digest("hex");

test("two downloads of different repos deriving one model id, at the same instant: two models, each its own bytes", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-2repos-");
  const root = join(dir, "lib");
  const a = fs.readFileSync(writeSafetensorsModel(join(dir, "files", "a.safetensors"), llamaTensors(1, 16, 1)));
  const b = fs.readFileSync(writeSafetensorsModel(join(dir, "files", "b.safetensors"), llamaTensors(1, 16, 2)));
  assert.equal(a.length, b.length);
  assert.notEqual(sha256(a), sha256(b));
  const hub = await startFakeHub({
    repos: [
      { id: "acme/Twin", files: [{ path: "model.safetensors", content: a }] },
      { id: "other/Twin", files: [{ path: "model.safetensors", content: b }] },
    ],
  });
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(dir, "hf"), MLIB_CACHE_DIR: join(dir, "cache"), HF_HUB_OFFLINE: undefined };
  const lockPath = join(root, COMMIT_LOCK);
  let held: LockHolder | null = null;
  let attempts: ReturnType<typeof watchLockAttempts> | null = null;
  try {
    assert.equal((await runCli(["init", "--library", root])).code, 0);
    attempts = watchLockAttempts(lockPath);
    held = await acquireLock(lockPath);
    const da = startCli(["download", "acme/Twin", "--json", "--library", root], { env });
    const db = startCli(["download", "other/Twin", "--json", "--library", root], { env });
    // A second attempt: each is waiting for the test's hold, its files fetched and verified.
    await Promise.all([attempts.reached(da.child.pid!, 2), attempts.reached(db.child.pid!, 2)]);
    await releaseLock(lockPath, held);
    held = null;
    const [ra, rb] = await Promise.all([da.result, db.result]);
    assert.equal(ra.code, 0, ra.stderr);
    assert.equal(rb.code, 0, rb.stderr);
    const ids = [JSON.parse(ra.stdout).modelId, JSON.parse(rb.stdout).modelId] as string[];
    assert.notEqual(ids[0], ids[1], `both downloads landed in ${ids[0]}`);
    for (const [id, bytes, repo] of [[ids[0], a, "acme/Twin"], [ids[1], b, "other/Twin"]] as const) {
      const files = fs.readdirSync(join(root, id)).filter((n) => !n.startsWith("metadata.json")).sort(); // its .bak too
      assert.deepEqual(files, ["model.safetensors"], `${id} holds ${files.join(", ")}`);
      assert.equal(sha256(fs.readFileSync(join(root, id, "model.safetensors"))), sha256(bytes), `${id} holds the bytes of ${repo}`);
      const meta = JSON.parse(fs.readFileSync(join(root, id, "metadata.json"), "utf8")) as { repo_id: string; files: { sha256: string }[] };
      assert.equal(meta.repo_id, repo);
      assert.deepEqual(meta.files.map((f) => f.sha256), [sha256(bytes)]);
    }
  } finally {
    if (held) await releaseLock(lockPath, held);
    attempts?.close();
    await hub.close();
    cleanup();
  }
});

// A download and an import deriving one id: the import stopped (SIGSTOP, test-pause.ts) after it chose its folder
// and before it renamed its staging folder there, under the commit lock; the download runs meanwhile, then the import
// goes on. Both land, in two folders, each with its own bytes. (Before, the download made and filled that folder
// outside the lock and the import failed with ENOTEMPTY; had the folder still been empty, the import's rename would
// have replaced it and the download's files would have gone into the imported model.)
test("a download and an import deriving one model id, at the same instant: two models, each its own bytes", { timeout: 60_000 }, async () => {
  const { dir, cleanup } = tempDir("mlib-download-import-");
  const root = join(dir, "lib");
  const a = fs.readFileSync(writeSafetensorsModel(join(dir, "files", "a.safetensors"), llamaTensors(1, 16, 1)));
  const bPath = writeSafetensorsModel(join(dir, "in", "model.safetensors"), llamaTensors(1, 16, 2));
  const b = fs.readFileSync(bPath);
  const hub = await startFakeHub({ repos: [{ id: "acme/Twin", files: [{ path: "model.safetensors", content: a }] }] });
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(dir, "hf"), MLIB_CACHE_DIR: join(dir, "cache"), HF_HUB_OFFLINE: undefined };
  const lockPath = join(root, COMMIT_LOCK);
  let attempts: ReturnType<typeof watchLockAttempts> | null = null;
  let imp: ReturnType<typeof startCli> | null = null;
  try {
    assert.equal((await runCli(["init", "--library", root])).code, 0);
    attempts = watchLockAttempts(lockPath);
    imp = startCli(["import", bPath, "--name", "Twin-model", "--json", "--library", root], {
      env: { ...env, MLIB_TEST_PAUSE_AT: "before-rename:metadata.json", MLIB_TEST_PAUSE_RESUMABLE: "1" },
    });
    let seen = "";
    await new Promise<void>((resolve, reject) => {
      imp!.child.stderr!.on("data", (d: Buffer | string) => {
        seen += String(d);
        if (seen.includes("MLIB_TEST_PAUSED ")) resolve();
      });
      void imp!.result.then((r) => reject(new Error(`import ended (${r.code}) before its pause: ${r.stderr}`)));
    });
    const da = startCli(["download", "acme/Twin", "--json", "--library", root], { env });
    await attempts.reached(da.child.pid!, 2); // waiting for the lock the stopped import holds
    imp.child.kill("SIGCONT");
    const [ri, rd] = await Promise.all([imp.result, da.result]);
    assert.equal(ri.code, 0, ri.stdout + ri.stderr);
    assert.equal(rd.code, 0, rd.stderr);
    const ids = [(JSON.parse(ri.stdout).results as { modelId: string }[])[0]!.modelId, JSON.parse(rd.stdout).modelId] as string[];
    assert.notEqual(ids[0], ids[1], `both landed in ${ids[0]}`);
    for (const [id, bytes] of [[ids[0], b], [ids[1], a]] as const) {
      const files = fs.readdirSync(join(root, id)).filter((n) => !n.startsWith("metadata.json")).sort();
      assert.deepEqual(files, ["model.safetensors"], `${id} holds ${files.join(", ")}`);
      assert.equal(sha256(fs.readFileSync(join(root, id, "model.safetensors"))), sha256(bytes));
    }
  } finally {
    if (imp && imp.child.exitCode === null) imp.child.kill("SIGKILL");
    attempts?.close();
    await hub.close();
    cleanup();
  }
});
