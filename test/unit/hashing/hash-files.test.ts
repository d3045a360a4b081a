// hashFiles: same hashes as hashFile, in input order, with progress totals that add up; one bad file
// rejects the call naming that file.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomFillSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { hashFile, hashFiles, type HashFilesProgress } from "../../../src/hashing/index.js";
import { isModelLibraryError } from "../../../src/core/errors.js";

const MiB = 1024 * 1024;
let dir: string;
let files: string[];
// big and small mixed so that with two workers the files finish out of input order
const SIZES = [20 * MiB + 1, 0, 13, 9 * MiB, 1, 3 * MiB, 17 * MiB, 5];

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
  const random = randomFillSync(Buffer.allocUnsafe(21 * MiB));
  files = SIZES.map((size, i) => {
    const p = path.join(dir, `f${i}.bin`);
    fs.writeFileSync(p, random.subarray(i, i + size));
    return p;
  });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("hashFiles", () => {
  test("results are in input order and equal hashFile's, for concurrency 2, 1 and the default", async () => {
    const expected = [];
    for (const f of files) expected.push(await hashFile(f));
    assert.deepEqual(await hashFiles(files, { concurrency: 2 }), expected);
    assert.deepEqual(await hashFiles(files, { concurrency: 1 }), expected);
    assert.deepEqual(await hashFiles(files), expected);
    assert.deepEqual(await hashFiles([files[3], files[3]], { concurrency: 2 }), [expected[3], expected[3]]);
  });

  test("progress adds up to the totals and never goes back", async () => {
    for (const concurrency of [1, 2]) {
      const seen: HashFilesProgress[] = [];
      await hashFiles(files, { concurrency, onProgress: (p) => seen.push(p) });
      const total = SIZES.reduce((a, b) => a + b, 0);
      const last = seen[seen.length - 1];
      assert.deepEqual(last, { bytesDone: total, totalBytes: total, filesDone: files.length, totalFiles: files.length });
      for (let i = 1; i < seen.length; i++) {
        assert.ok(seen[i].bytesDone >= seen[i - 1].bytesDone && seen[i].filesDone >= seen[i - 1].filesDone, `went back at report ${i}`);
        assert.equal(seen[i].totalBytes, total);
      }
    }
  });

  test("an empty list gives an empty result", async () => {
    assert.deepEqual(await hashFiles([]), []);
  });

  test("a missing file rejects the call, naming that file", async () => {
    const missing = path.join(dir, "missing.bin");
    await assert.rejects(
      hashFiles([files[0], missing, files[1]], { concurrency: 2 }),
      (e: unknown) => isModelLibraryError(e) && e.code === "E_IO" && e.message.includes(missing),
    );
  });

  test("a file that fails inside a worker rejects naming it, and the pool still works afterwards", async () => {
    // a directory passes stat but cannot be read: the error comes from the worker thread
    const sub = path.join(dir, "a-directory");
    fs.mkdirSync(sub);
    await assert.rejects(
      hashFiles([files[0], sub, files[3]], { concurrency: 2 }),
      (e: unknown) => isModelLibraryError(e) && e.code === "E_IO" && e.message.includes(sub) && e.message.includes("EISDIR"),
    );
    assert.deepEqual(await hashFiles([files[2], files[3]], { concurrency: 2 }), [await hashFile(files[2]), await hashFile(files[3])]);
  });

  test("an onProgress that throws rejects the call with its error", async () => {
    await assert.rejects(
      hashFiles(files, {
        concurrency: 2,
        onProgress: () => {
          throw new Error("callback broke");
        },
      }),
      /callback broke/,
    );
  });

  test("an abort signal stops the workers with E_CANCELLED", async () => {
    const ac = new AbortController();
    await assert.rejects(
      hashFiles(files, { concurrency: 2, signal: ac.signal, onProgress: () => ac.abort() }),
      (e: unknown) => isModelLibraryError(e) && e.code === "E_CANCELLED",
    );
  });
});
