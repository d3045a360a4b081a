// readJson / readJsonSync given something that is not a regular file where a JSON file should be (a FIFO, a
// symlink to /dev/zero): refused at once as E_CORRUPT naming it, never a read that waits for a writer forever or
// never ends. (The library's JSON files, `mlib show`'s overrides.json, the download and merge state, are read so.)
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { readJson, readJsonSync } from "../../src/core/atomic-json.js";

const hasMkfifo = spawnSync("mkfifo", ["--version"]).status === 0;

/** `p`, or a failure after `ms`: then `unblock` runs, so a read stuck on a FIFO ends and the test process can exit. */
async function within<T>(p: Promise<T>, ms: number, unblock: () => void): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      unblock();
      reject(new Error(`still waiting after ${ms} ms`));
    }, ms);
  });
  try {
    return await Promise.race([p, late]);
  } finally {
    clearTimeout(timer);
  }
}

describe("readJson of what is not a regular file", () => {
  test("a FIFO: E_CORRUPT at once, not a wait for a writer", { skip: hasMkfifo ? false : "needs mkfifo" }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const fifo = path.join(dir, "overrides.json");
      assert.equal(spawnSync("mkfifo", [fifo]).status, 0);
      // A writer that opens and closes at once ends a read stuck on the FIFO (with EOF).
      const unblock = () => fs.closeSync(fs.openSync(fifo, fs.constants.O_WRONLY | fs.constants.O_NONBLOCK));
      await assert.rejects(within(readJson(fifo), 3000, unblock), (e: Error & { code?: string }) => e.code === "E_CORRUPT" && /overrides\.json: not a regular file \(a FIFO\)/.test(e.message));
      assert.throws(() => readJsonSync(fifo), /not a regular file \(a FIFO\)/);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a symlink to /dev/zero: E_CORRUPT at once, not a read without end", { skip: fs.existsSync("/dev/zero") ? false : "needs /dev/zero" }, async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      const file = path.join(dir, "downloads.json");
      fs.symlinkSync("/dev/zero", file);
      await assert.rejects(readJson(file), (e: Error & { code?: string }) => e.code === "E_CORRUPT" && /downloads\.json: not a regular file \(a device\)/.test(e.message));
      assert.throws(() => readJsonSync(file), /not a regular file \(a device\)/);
      assert.equal(await readJson(path.join(dir, "missing.json")), null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
