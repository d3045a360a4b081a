// hashFile / fastHashFile against sha256sum, b3sum and a straightforward fast-hash written here,
// at the sizes where the chunking and the fast hash's head/tail rules change.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash, randomFillSync } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { createBLAKE3 } from "hash-wasm";
import { hashFile, hashFiles, fastHashFile, blake3Backend, createBlake3, closeHashWorkers } from "../../../src/hashing/index.js";
import { isModelLibraryError } from "../../../src/core/errors.js";
import { compileHashingLayer } from "../../helpers/compile-hashing.js";

const MiB = 1024 * 1024;
const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const EMPTY_SHA256 = "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";
const EMPTY_BLAKE3 = "af1349b9f5f9a1a6a0404dea36dcc9499bcb25c9adc112b7cc9a93cae41f3262";
// the last one is larger and not a multiple of the 8 MiB chunk
const SIZES = [0, 1, 8 * MiB - 1, 8 * MiB, 8 * MiB + 1, 16 * MiB - 1, 16 * MiB, 16 * MiB + 1, 40 * MiB + 3];
// BLAKE3 and the fast hash run in a worker thread or on the caller's thread: both must agree
const THREADS = ["inline", "worker"] as const;

function has(cmd: string): boolean {
  return spawnSync(cmd, ["--version"], { stdio: "ignore" }).status === 0;
}

/** `sum`-style tool output for several files: path -> hex */
function toolHashes(cmd: string, files: string[]): Map<string, string> {
  const out = execFileSync(cmd, files, { encoding: "utf8", maxBuffer: 1 << 20 });
  const m = new Map<string, string>();
  for (const line of out.trim().split("\n")) {
    const [hex, ...rest] = line.split(/\s+/);
    m.set(rest.join(" ").replace(/^\*/, ""), hex);
  }
  return m;
}

/** The original's fast hash, the obvious way: whole file in memory, slice, hash. */
function referenceFastHash(bytes: Buffer): string {
  const h = createHash("sha256");
  h.update(bytes.subarray(0, Math.min(bytes.length, 8 * MiB)));
  if (bytes.length > 16 * MiB) h.update(bytes.subarray(bytes.length - 8 * MiB));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(bytes.length));
  h.update(size);
  return h.digest("hex");
}

let dir: string;
let files: string[];
let random: Buffer;

before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
  random = randomFillSync(Buffer.allocUnsafe(SIZES[SIZES.length - 1]));
  // each file is a prefix of the same random bytes: different sizes, different hashes
  files = SIZES.map((size) => {
    const p = path.join(dir, `f-${size}.bin`);
    fs.writeFileSync(p, random.subarray(0, size));
    return p;
  });
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

describe("hashFile", () => {
  test("empty file gives the known SHA-256 and BLAKE3 vectors", async () => {
    const h = await hashFile(files[0]);
    assert.equal(h.size, 0);
    assert.equal(h.sha256, EMPTY_SHA256);
    assert.equal(h.blake3, EMPTY_BLAKE3);
    assert.equal(h.autoV2, "e3b0c44298");
  });

  test("fast hash of 'Small content' is the original's test vector; autoV2 is the SHA-256 prefix", async () => {
    const p = path.join(dir, "small.txt");
    fs.writeFileSync(p, "Small content");
    const h = await hashFile(p);
    assert.equal(h.fastHash, "c3f90f797676a1b2fe6a168e935a18da97848efef72141a5b605f9d59ef259fa");
    assert.equal(await fastHashFile(p), h.fastHash);
    assert.equal(h.sha256, createHash("sha256").update("Small content").digest("hex"));
    assert.equal(h.autoV2, h.sha256.slice(0, 10));
    assert.match(h.autoV2, /^[0-9a-f]{10}$/);
  });

  test("SHA-256 equals sha256sum at every edge size", async () => {
    const expected = toolHashes("sha256sum", files);
    for (const f of files) {
      for (const blake3Thread of THREADS) {
        const h = await hashFile(f, { blake3Thread });
        assert.equal(h.size, fs.statSync(f).size, f);
        assert.equal(h.sha256, expected.get(f), `sha256 of ${path.basename(f)}`);
      }
    }
  });

  test("BLAKE3 equals b3sum (or hash-wasm when b3sum is absent) at every edge size", async (t) => {
    let expected: Map<string, string>;
    if (has("b3sum")) {
      expected = toolHashes("b3sum", files);
    } else {
      t.diagnostic("b3sum not installed: SKIPPING the b3sum comparison, comparing with hash-wasm's BLAKE3 instead");
      console.log("# b3sum not installed: comparing BLAKE3 with hash-wasm instead (apt-get install b3sum)");
      expected = new Map();
      for (const f of files) {
        const w = await createBLAKE3();
        w.init();
        w.update(fs.readFileSync(f));
        expected.set(f, w.digest("hex"));
      }
    }
    for (const f of files) {
      for (const blake3Thread of THREADS) {
        assert.equal((await hashFile(f, { blake3Thread })).blake3, expected.get(f), `blake3 of ${path.basename(f)} (${blake3Thread})`);
      }
    }
  });

  test("fast hash agrees with a straightforward implementation, from the full pass and from fastHashFile", async () => {
    for (const f of files) {
      const want = referenceFastHash(fs.readFileSync(f));
      for (const blake3Thread of THREADS) {
        assert.equal((await hashFile(f, { blake3Thread })).fastHash, want, `hashFile fastHash of ${path.basename(f)} (${blake3Thread})`);
      }
      assert.equal(await fastHashFile(f), want, `fastHashFile of ${path.basename(f)}`);
    }
    // between 8 and 16 MiB only the head counts: a change past 8 MiB leaves the fast hash unchanged
    const a = path.join(dir, "mid-a.bin");
    const b = path.join(dir, "mid-b.bin");
    fs.writeFileSync(a, random.subarray(0, 12 * MiB));
    const changed = Buffer.from(random.subarray(0, 12 * MiB));
    changed[10 * MiB] ^= 0xff;
    fs.writeFileSync(b, changed);
    assert.equal(await fastHashFile(a), await fastHashFile(b));
    assert.notEqual((await hashFile(a)).sha256, (await hashFile(b)).sha256);
  });

  test("reports progress up to the file size", async () => {
    const seen: number[] = [];
    const f = files[files.length - 1];
    const h = await hashFile(f, { onProgress: (n) => seen.push(n) });
    assert.ok(seen.length >= 6, `expected one report per 8 MiB chunk, got ${seen.length}`);
    assert.deepEqual(seen, [...seen].sort((x, y) => x - y));
    assert.equal(seen[seen.length - 1], h.size);
  });

  test("a file that grows or shrinks while being hashed is an E_IO 'changed while hashing'", async () => {
    for (const [change, blake3Thread] of [["grow", "inline"], ["shrink", "inline"], ["grow", "worker"], ["shrink", "worker"]] as const) {
      const p = path.join(dir, `changing-${change}.bin`);
      fs.writeFileSync(p, random.subarray(0, 40 * MiB));
      let done = false;
      await assert.rejects(
        hashFile(p, {
          blake3Thread,
          onProgress: () => {
            if (done) return;
            done = true;
            if (change === "grow") fs.appendFileSync(p, "more");
            else fs.truncateSync(p, 20 * MiB);
          },
        }),
        (e: unknown) => isModelLibraryError(e) && e.code === "E_IO" && e.message.includes(p) && /changed while hashing/.test(e.message),
      );
    }
  });

  test("an abort signal stops the hash with E_CANCELLED", async () => {
    const ac = new AbortController();
    await assert.rejects(
      hashFile(files[files.length - 1], { signal: ac.signal, onProgress: () => ac.abort() }),
      (e: unknown) => isModelLibraryError(e) && e.code === "E_CANCELLED",
    );
  });

  test("an onProgress that throws fails the hash with its error (also when called from the worker's messages)", async () => {
    for (const blake3Thread of THREADS) {
      await assert.rejects(
        hashFile(files[files.length - 1], {
          blake3Thread,
          onProgress: () => {
            throw new Error("callback broke");
          },
        }),
        /callback broke/,
      );
    }
  });

  test("a missing file is an E_IO error naming it", async () => {
    const p = path.join(dir, "nope.bin");
    await assert.rejects(hashFile(p), (e: unknown) => isModelLibraryError(e) && e.code === "E_IO" && e.message.includes(p) && e.message.includes("ENOENT"));
    await assert.rejects(fastHashFile(p), (e: unknown) => isModelLibraryError(e) && e.message.includes(p));
  });
});

describe("hashFile with a worker that starts during the pass (it reads the bytes it missed itself)", () => {
  const busy = (ms: number): void => {
    const end = performance.now() + ms;
    while (performance.now() < end);
  };
  test("the same hashes as sha256sum / b3sum / the reference fast hash, whenever the worker joins", async () => {
    const cases: { file: string; slow: number }[] = [
      { file: files[1], slow: 0 }, // ends long before the worker is up: it reads the whole file
      { file: files[files.length - 1], slow: 0 },
      // a slow consumer on this thread: the worker catches up and joins the ring part-way
      { file: files[files.length - 1], slow: 25 },
    ];
    const b3 = has("b3sum") ? toolHashes("b3sum", files) : null;
    for (const { file, slow } of cases) {
      await closeHashWorkers(); // the next pass starts its worker from nothing
      const h = await hashFile(file, { blake3Thread: "worker", onProgress: () => busy(slow) });
      const bytes = fs.readFileSync(file);
      assert.equal(h.sha256, createHash("sha256").update(bytes).digest("hex"), path.basename(file));
      const wasm = await createBLAKE3();
      wasm.update(bytes);
      assert.equal(h.blake3, b3?.get(file) ?? wasm.digest("hex"), `${path.basename(file)}, slow ${slow}`);
      assert.equal(h.fastHash, referenceFastHash(bytes), path.basename(file));
    }
  });

  test("aborted while the worker reads what it missed: E_CANCELLED, and the worker serves the next hash", async () => {
    const f = files[files.length - 1];
    await closeHashWorkers();
    const ac = new AbortController();
    let chunks = 0;
    await assert.rejects(
      hashFile(f, {
        blake3Thread: "worker",
        signal: ac.signal,
        onProgress: () => {
          busy(20); // slow enough for the worker to come up and start reading
          if (++chunks === 15) ac.abort();
        },
      }),
      (e: unknown) => isModelLibraryError(e) && e.code === "E_CANCELLED",
    );
    const again = await hashFile(f, { blake3Thread: "worker" });
    assert.equal(again.sha256, createHash("sha256").update(fs.readFileSync(f)).digest("hex"));
  });

  test("a file replaced by another under the same name before the worker reads it is an E_IO, not a hash of the other file", async (t) => {
    const p = path.join(dir, "replaced.bin");
    const other = path.join(dir, "other.bin");
    const original = random.subarray(0, 40 * MiB);
    const want = createHash("sha256").update(original).digest("hex");
    // The swap races the worker's start: when the worker opens the file first it hashes the original, which is
    // right too. Either way it must never give the other file's hash; a few tries see the swap win.
    let replaced = 0;
    for (let attempt = 0; attempt < 6 && replaced === 0; attempt++) {
      fs.writeFileSync(p, original);
      await closeHashWorkers();
      let swapped = false;
      try {
        const h = await hashFile(p, {
          blake3Thread: "worker",
          onProgress: () => {
            if (swapped) return;
            swapped = true;
            fs.writeFileSync(other, random.subarray(1, 40 * MiB + 1));
            fs.renameSync(other, p);
          },
        });
        assert.equal(h.sha256, want, "a hash that completes is the original's");
        const wasm = await createBLAKE3();
        wasm.update(original);
        assert.equal(h.blake3, wasm.digest("hex"), "the worker's half is of the original too");
      } catch (e) {
        assert.ok(isModelLibraryError(e) && e.code === "E_IO" && e.message.includes(p) && /replaced while hashing/.test(e.message), String(e));
        replaced++;
      }
    }
    if (replaced === 0) t.skip("the worker opened the file before the swap in every try");
  });

});

describe("BLAKE3 backends", () => {
  test("the native backend loads on linux-x64 and agrees with hash-wasm", async () => {
    if (process.platform === "linux" && process.arch === "x64") assert.equal(blake3Backend(), "native");
    const h = await createBlake3();
    const bytes = random.subarray(0, 3 * MiB + 7);
    h.update(bytes.subarray(0, MiB));
    h.update(bytes.subarray(MiB));
    const w = await createBLAKE3();
    w.init();
    w.update(bytes);
    assert.equal(h.digestHex(), w.digest("hex"));
  });

  test("with MLIB_BLAKE3_BACKEND=wasm (the fallback) the worker and inline paths give the same hashes", async () => {
    const big = files[files.length - 1];
    const small = files[4];
    const script = `
      import { hashFile, blake3Backend } from ${JSON.stringify(path.join(repoRoot, "src/hashing/index.ts"))};
      const out = { backend: blake3Backend(), big: await hashFile(${JSON.stringify(big)}, { blake3Thread: "worker" }), small: await hashFile(${JSON.stringify(small)}) };
      console.log(JSON.stringify(out));`;
    const res = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], {
      cwd: repoRoot,
      env: { ...process.env, MLIB_BLAKE3_BACKEND: "wasm" },
      encoding: "utf8",
      timeout: 60_000,
    });
    assert.equal(res.status, 0, res.stderr);
    const out = JSON.parse(res.stdout);
    assert.equal(out.backend, "wasm");
    assert.deepEqual(out.big, await hashFile(big));
    assert.deepEqual(out.small, await hashFile(small));
  });
});

describe("compiled output (dist-style JS, plain node, no tsx)", () => {
  test("hashFile and hashFiles work from tsc's JS, start their worker from .js, and let the process exit", async () => {
    const out = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      // compile just the hashing layer with the project's options, into a throwaway folder
      const tsc = compileHashingLayer(out);
      assert.equal(tsc.status, 0, tsc.output);
      assert.ok(fs.existsSync(path.join(out, "hashing/hash-worker.js")));
      const big = files[files.length - 1];
      const script = `
        import { hashFile, hashFiles } from ${JSON.stringify(tsc.indexJs)};
        const one = await hashFile(${JSON.stringify(big)}, { blake3Thread: "worker" });
        const many = await hashFiles(${JSON.stringify([files[1], big, files[5]])}, { concurrency: 2 });
        console.log(JSON.stringify({ one, many }));`;
      // no explicit exit: the process must end by itself although the workers are kept alive
      const res = spawnSync(process.execPath, ["--input-type=module", "-e", script], { encoding: "utf8", timeout: 30_000 });
      assert.equal(res.signal, null, "the process did not exit by itself");
      assert.equal(res.status, 0, res.stderr);
      const got = JSON.parse(res.stdout);
      assert.deepEqual(got.one, await hashFile(big));
      assert.deepEqual(got.many, await hashFiles([files[1], big, files[5]], { concurrency: 1 }));
    } finally {
      fs.rmSync(out, { recursive: true, force: true });
    }
  });
});

test("a program that hashed a file exits by itself: idle hash workers, used or only started, never keep it alive", () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-exit-"));
  try {
    const file = path.join(dir, "f.bin");
    fs.writeFileSync(file, randomFillSync(Buffer.alloc(24 * MiB)));
    const hashing = JSON.stringify(path.join(repoRoot, "src/hashing/index.ts"));
    const script = path.join(dir, "hash-and-exit.mts");
    // A worker started ahead of need (warm) and one that did a job; no closeHashWorkers().
    fs.writeFileSync(
      script,
      `import { hashFile, warmHashWorkers } from ${hashing};\nwarmHashWorkers(2);\n` +
        `const r = await hashFile(${JSON.stringify(file)}, { blake3Thread: "worker" });\nconsole.log(r.sha256);\n`,
    );
    // A script file, not \`-e\` (an eval'd module ends the process on its own). Timeout: it did not exit.
    const res = spawnSync(process.execPath, ["--import", "tsx", script], { cwd: repoRoot, encoding: "utf8", timeout: 20_000 });
    assert.equal(res.status, 0, `exit ${res.status} signal ${res.signal}: ${res.stderr}`);
    assert.match(res.stdout, /^[0-9a-f]{64}$/m);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
