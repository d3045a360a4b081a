// Cancellation: an abort mid-hash of a 200 MiB file rejects with E_CANCELLED within ~300 ms (the promise is
// ~100 ms; CI machines are slower and shared) and leaves no worker busy (the next hash works at once); an
// abort in the middle of the kernel copy rejects within ~1 s (one 64 MiB chunk) and leaves no destination.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomFillSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { closeHashWorkers, copyAndHash, fastHashFile, hashFile, hashFiles } from "../../../src/hashing/index.js";
import { busyHashWorkers, hashWorkerState } from "../../../src/hashing/worker-host.js";
import { isModelLibraryError } from "../../../src/core/errors.js";

const MiB = 1024 * 1024;
let dir: string;
let big: string;
let bigSha256: string;
// hashed after each abort: the worker that was stopped must serve it (small, to keep the test fast)
let next: string;
let nextSha256: string;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
  // 200 MiB of real data (a random 4 MiB block over and over: cheap to make, no holes)
  big = path.join(dir, "big.bin");
  const block = randomFillSync(Buffer.allocUnsafe(4 * MiB));
  const sha = createHash("sha256");
  const fd = fs.openSync(big, "w");
  for (let i = 0; i < 50; i++) {
    fs.writeSync(fd, block);
    sha.update(block);
  }
  fs.closeSync(fd);
  bigSha256 = sha.digest("hex");
  next = path.join(dir, "next.bin");
  fs.writeFileSync(next, block.subarray(0, 3 * MiB + 5));
  nextSha256 = createHash("sha256").update(fs.readFileSync(next)).digest("hex");
});
after(async () => {
  fs.rmSync(dir, { recursive: true, force: true });
  await closeHashWorkers();
});

const cancelled = (e: unknown) => isModelLibraryError(e) && e.code === "E_CANCELLED";

/** Runs `start(signal)`, aborts it when `when()` first holds (polled every ms); the ms from abort to rejection. */
async function abortWhen<T>(start: (signal: AbortSignal) => Promise<T>, when: () => boolean): Promise<{ lag: number; error: unknown }> {
  const ac = new AbortController();
  let abortedAt = 0;
  const poll = setInterval(() => {
    if (abortedAt === 0 && when()) {
      abortedAt = performance.now();
      ac.abort();
    }
  }, 1);
  try {
    await start(ac.signal);
    assert.fail("finished before the abort: nothing was tested");
  } catch (error) {
    assert.ok(abortedAt > 0, `failed before the abort: ${String(error)}`);
    return { lag: performance.now() - abortedAt, error };
  } finally {
    clearInterval(poll);
  }
}

describe("cancellation", () => {
  test("hashFile aborted mid-hash: E_CANCELLED within 300 ms, no worker left busy, the next hash works", async () => {
    for (const blake3Thread of ["worker", "inline"] as const) {
      let done = 0;
      const { lag, error } = await abortWhen(
        (signal) => hashFile(big, { blake3Thread, signal, onProgress: (n) => (done = n) }),
        () => done >= 20 * MiB,
      );
      assert.ok(cancelled(error), `${blake3Thread}: ${String(error)}`);
      assert.ok(lag < 300, `${blake3Thread}: rejected ${Math.round(lag)} ms after the abort`);
      assert.equal(busyHashWorkers(), 0, "a worker still holds the aborted job");
      assert.equal((await hashFile(next, { blake3Thread })).sha256, nextSha256);
    }
  });

  test("hashFiles aborted mid-hash: E_CANCELLED within 300 ms once every worker has stopped; the pool works after", async () => {
    let done = 0;
    const { lag, error } = await abortWhen(
      (signal) => hashFiles([big, big], { concurrency: 2, signal, onProgress: (p) => (done = p.bytesDone) }),
      () => done >= 40 * MiB,
    );
    assert.ok(cancelled(error), String(error));
    assert.ok(lag < 300, `rejected ${Math.round(lag)} ms after the abort`);
    assert.equal(busyHashWorkers(), 0);
    assert.deepEqual(
      (await hashFiles([next, next], { concurrency: 2 })).map((h) => h.sha256),
      [nextSha256, nextSha256],
    );
  });

  test("hashFiles aborted while its workers are still starting: E_CANCELLED at once, and they serve the next call", async () => {
    await closeHashWorkers();
    let stateAtAbort = "";
    const { lag, error } = await abortWhen(
      (signal) => hashFiles([big, big], { concurrency: 2, signal }),
      () => {
        stateAtAbort = hashWorkerState();
        return stateAtAbort !== "none"; // as soon as the call has started its workers
      },
    );
    assert.ok(cancelled(error), String(error));
    assert.equal(stateAtAbort, "starting", "the workers were up already: this case was not reached");
    assert.ok(lag < 100, `rejected ${Math.round(lag)} ms after the abort`);
    assert.equal(busyHashWorkers(), 0);
    assert.deepEqual(
      (await hashFiles([next, next], { concurrency: 2 })).map((h) => h.sha256),
      [nextSha256, nextSha256],
    );
  });

  test("an abort fired just after the call started (the file still being opened) is not missed", async () => {
    const calls: [string, (signal: AbortSignal) => Promise<unknown>][] = [
      ["hashFile (worker)", (signal) => hashFile(big, { signal, blake3Thread: "worker" })],
      ["hashFile (inline)", (signal) => hashFile(big, { signal, blake3Thread: "inline" })],
      ["hashFiles", (signal) => hashFiles([big, big], { signal, concurrency: 2 })],
      ["fastHashFile", (signal) => fastHashFile(big, { signal })],
      ["copyAndHash", (signal) => copyAndHash(big, path.join(dir, "early.bin"), { signal })],
    ];
    for (const [name, call] of calls) {
      for (const later of [(f: () => void) => queueMicrotask(f), (f: () => void) => setImmediate(f), (f: () => void) => setTimeout(f, 2)]) {
        const ac = new AbortController();
        const running = call(ac.signal);
        later(() => ac.abort());
        await assert.rejects(running, cancelled, name);
      }
    }
    assert.equal(fs.existsSync(path.join(dir, "early.bin")), false);
    assert.equal(busyHashWorkers(), 0);
  });

  test("fastHashFile and every entry point refuse an already-aborted signal with E_CANCELLED", async () => {
    const signal = AbortSignal.abort();
    await assert.rejects(fastHashFile(big, { signal }), cancelled);
    await assert.rejects(hashFile(big, { signal }), cancelled);
    await assert.rejects(hashFiles([big, big], { signal }), cancelled);
    await assert.rejects(copyAndHash(big, path.join(dir, "never.bin"), { signal }), cancelled);
    assert.equal(fs.existsSync(path.join(dir, "never.bin")), false);
  });

  test("copyAndHash aborted during the kernel copy: E_CANCELLED within 1 s, no destination left", async () => {
    const dst = path.join(dir, "copy.bin");
    let sizeAtAbort = -1;
    // abort as soon as the copy has started writing: the kernel is mid-chunk
    const { lag, error } = await abortWhen(
      (signal) => copyAndHash(big, dst, { signal }),
      () => {
        const size = fs.statSync(dst, { throwIfNoEntry: false })?.size ?? 0;
        if (size > 0) sizeAtAbort = size;
        return size > 0;
      },
    );
    assert.ok(cancelled(error), String(error));
    assert.ok(sizeAtAbort < 200 * MiB, `the copy was already complete (${sizeAtAbort} bytes) when aborted`);
    assert.ok(lag < 1000, `rejected ${Math.round(lag)} ms after the abort`);
    assert.equal(fs.existsSync(dst), false, "the partial copy was left behind");
    assert.equal(busyHashWorkers(), 0);
    // and the same copy runs to its end afterwards
    assert.equal((await copyAndHash(big, dst)).sha256, bigSha256);
    assert.equal(fs.statSync(dst).size, 200 * MiB);
  });

  test("copyAndHash aborted mid-copy through the read/write fallback: E_CANCELLED within 300 ms, no destination", async () => {
    const dst = path.join(dir, "copy-rw.bin");
    const { lag, error } = await abortWhen(
      (signal) => copyAndHash(big, dst, { signal, copyVia: "read-write" }),
      () => (fs.statSync(dst, { throwIfNoEntry: false })?.size ?? 0) > 0,
    );
    assert.ok(cancelled(error), String(error));
    assert.ok(lag < 300, `rejected ${Math.round(lag)} ms after the abort`);
    assert.equal(fs.existsSync(dst), false);
  });
});
