// Hashing benchmarks, each against reference tools measured in the same run on the same files, run
// in turn (ours, theirs, ours, theirs...) so load from others on a shared machine hits both alike:
// (1) one 1 GiB file, process start included, vs openssl / sha256sum / b3sum;
// (2) several files at once with hashFiles vs one file;
// (3) copyAndHash vs cp (with and without fsync) and vs hashing alone, wall and CPU time.
import { spawn, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import { closeSync, existsSync, mkdirSync, openSync, readSync, rmSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { createBlake3 } from "../src/hashing/blake3.js";
import { hashWholeFileSync } from "../src/hashing/pool-job.js";
import { closeHashWorkers, copyAndHash, hashFile, hashFiles } from "../src/hashing/index.js";
import { compileHashingLayer } from "../test/helpers/compile-hashing.js";
import { benchData, bestOfEach, GiB, gibPerSecond, hasCommand, makeFile, MiB, repoRoot, round, timeCommand, warmRead, type BenchResult } from "./lib.js";

const RUNS = 3;

/** Compiles the hashing layer with tsc into `out` (what dist/hashing holds), without touching dist/. */
function compileHashing(out: string): string {
  rmSync(out, { recursive: true, force: true });
  const res = compileHashingLayer(out);
  if (res.status !== 0) throw new Error(`tsc failed: ${res.output}`);
  return pathToFileURL(res.indexJs).href;
}

/** SHA-256 alone, in this process, through the same kind of read loop: the floor for the dual hash. */
async function sha256Alone(file: string): Promise<void> {
  const fh = await open(file, "r");
  const buf = new Uint8Array(2 * MiB);
  const h = createHash("sha256");
  try {
    for (let off = 0; ; ) {
      const { bytesRead } = await fh.read(buf, 0, buf.length, off);
      if (bytesRead === 0) break;
      h.update(buf.subarray(0, bytesRead));
      off += bytesRead;
    }
  } finally {
    await fh.close();
  }
  h.digest("hex");
}

/**
 * The core-time a GiB costs: SHA-256 and BLAKE3 over bytes already in memory, the read from the page
 * cache into a buffer, each alone on one core, and all three in one thread as a pool worker runs them
 * (hashWholeFileSync). However the work is spread, 2 cores cannot do more than 2 / that per second.
 */
async function perGibCosts(file: string): Promise<{ sha: number; blake3: number; read: number; oneThread: number }> {
  const chunk = new Uint8Array(2 * MiB).fill(0x5a);
  const chunks = GiB / chunk.length;
  const buf = new Uint8Array(2 * MiB);
  return bestOfEach(RUNS, {
    sha: () => {
      const h = createHash("sha256");
      for (let i = 0; i < chunks; i++) h.update(chunk);
      h.digest("hex");
    },
    blake3: async () => {
      const h = await createBlake3();
      for (let i = 0; i < chunks; i++) h.update(chunk);
      h.digestHex();
    },
    read: () => {
      const fd = openSync(file, "r");
      try {
        while (readSync(fd, buf, 0, buf.length, null) > 0);
      } finally {
        closeSync(fd);
      }
    },
    oneThread: () => hashWholeFileSync(file, buf, () => false, () => undefined),
  });
}

const gib = (ms: number, bytes = GiB) => round(gibPerSecond(bytes, ms));

function versus(name: string, ms: number, refName: string, refMs: number, goal: string, pass: boolean, bytes = GiB): BenchResult {
  return { name, value: gib(ms, bytes), unit: "GiB/s", reference: { name: refName, value: gib(refMs, bytes) }, ratio: round(ms / refMs), goal, pass };
}

/** (1) one 1 GiB file, hashed by a fresh process each time, against the usual command-line tools. */
async function oneFileWithProcessStart(dir: string, big: string, results: BenchResult[]): Promise<void> {
  const node = process.execPath;
  const indexUrl = compileHashing(path.join(dir, "build"));
  const tiny = path.join(dir, "tiny.bin");
  writeFileSync(tiny, "x");
  const startup = await bestOfEach(RUNS, {
    node: () => timeCommand(node, ["-e", "0"]),
    tsx: () => timeCommand(node, ["--import", "tsx", "-e", "0"]),
    worker: () => timeCommand(node, ["--input-type=module", "-e", `import { hashFile } from ${JSON.stringify(indexUrl)}; await hashFile(${JSON.stringify(tiny)}, { blake3Thread: "worker" });`]),
  });
  results.push({ name: "node start-up (node -e 0)", value: round(startup.node, 1), unit: "ms" });
  results.push({ name: "tsx load on top of node", value: round(startup.tsx - startup.node, 1), unit: "ms" });
  results.push({ name: "worker start-up + tiny hash, compiled (minus node start)", value: round(startup.worker - startup.node, 1), unit: "ms" });
  await closeHashWorkers();
  const t = performance.now();
  await hashFile(tiny, { blake3Thread: "worker" });
  results.push({ name: "worker start-up + tiny hash, under tsx (in-process)", value: round(performance.now() - t, 1), unit: "ms" });

  const tools: Record<string, () => Promise<number>> = {
    openssl: () => timeCommand("openssl", ["dgst", "-sha256", big]),
    sha256sum: () => timeCommand("sha256sum", [big]),
    compiled: () => timeCommand(node, ["--input-type=module", "-e", `import { hashFile } from ${JSON.stringify(indexUrl)}; await hashFile(${JSON.stringify(big)});`]),
    tsx: () => timeCommand(node, ["--import", "tsx", "bench/hash-one.ts", big]),
  };
  if (hasCommand("b3sum")) tools.b3sum = () => timeCommand("b3sum", ["--num-threads", "1", big]);
  const cli = path.join(repoRoot, "dist/cli/main.js");
  let cliError = "";
  if (existsSync(cli)) {
    try {
      await timeCommand(node, [cli, "hash", big, "--json"]);
      tools.cli = () => timeCommand(node, [cli, "hash", big, "--json"]);
    } catch (e) {
      cliError = (e as Error).message.split("\n")[0].slice(0, 80);
    }
  }
  const ms = await bestOfEach(RUNS, tools);
  results.push({ name: "openssl dgst -sha256 (1 GiB, process incl.)", value: gib(ms.openssl), unit: "GiB/s" });
  results.push({ name: "sha256sum (1 GiB, process incl.)", value: gib(ms.sha256sum), unit: "GiB/s" });
  if (ms.b3sum) results.push({ name: "b3sum --num-threads 1 (1 GiB, process incl.)", value: gib(ms.b3sum), unit: "GiB/s" });
  const goal = "time <= 1.0x openssl";
  results.push(versus("dual hash 1 GiB, process incl. (compiled JS)", ms.compiled, "openssl", ms.openssl, goal, ms.compiled <= ms.openssl));
  results.push(versus("dual hash 1 GiB, process incl. (tsx, hash-one.ts)", ms.tsx, "openssl", ms.openssl, goal, ms.tsx <= ms.openssl));
  if (ms.cli) results.push(versus("mlib hash --json 1 GiB (dist CLI)", ms.cli, "openssl", ms.openssl, goal, ms.cli <= ms.openssl));
  else if (cliError) results.push({ name: `mlib hash --json: not measured (${cliError})`, value: NaN, unit: "" });
}

/** Wall and CPU time (ms) of one run. */
interface Cost {
  wall: number;
  cpu: number;
}

/** This process's CPU (every thread: main, hash worker, libuv pool) over `fn`. */
async function inProcess(fn: () => Promise<unknown>): Promise<Cost> {
  const cpu = process.cpuUsage();
  const t = performance.now();
  await fn();
  const d = process.cpuUsage(cpu);
  return { wall: performance.now() - t, cpu: (d.user + d.system) / 1000 };
}

/** A shell script (arguments: $1, $2...): its wall time (shell start included) and its children's CPU, from the shell's `times`. */
function shellCost(script: string, ...args: string[]): Promise<Cost> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn("sh", ["-c", `${script} && times`, "sh", ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    child.stdout.on("data", (d: Buffer) => (out += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const wall = performance.now() - t;
      // second line: children's user and system time, e.g. "0m0.012s 0m0.200s"
      const secs = [...(out.trim().split("\n")[1] ?? "").matchAll(/(\d+)m([\d.]+)s/g)].map((m) => Number(m[1]) * 60 + Number(m[2]));
      if (code !== 0 || secs.length !== 2) reject(new Error(`sh -c ${script} failed (${code}): ${out}`));
      else resolve({ wall, cpu: (secs[0] + secs[1]) * 1000 });
    });
  });
}

/**
 * (3) copyAndHash against cp (no fsync: the page cache only), cp + fsync (what copyAndHash guarantees)
 * and hashing alone. Every copy is timed right after the previous copy was deleted and synced, and
 * the order rotates each round so each copier follows each other one: on this VM (free page
 * reporting) writing 1 GiB into the page cache costs ~0.2 s of CPU with memory freed a moment ago but
 * 1.5-3 s with memory freed more than ~2 s earlier, so a copy timed after an unrelated run pays more.
 */
async function copyVersusCp(big: string, dst: string): Promise<BenchResult[]> {
  const fresh = () => {
    rmSync(dst, { force: true });
    spawnSync("sync"); // no dirty pages of earlier runs may be flushed during this one
  };
  const runs: Record<string, () => Promise<Cost>> = {
    cp: () => (fresh(), shellCost('cp "$1" "$2"', big, dst)),
    cpSync: () => (fresh(), shellCost('cp "$1" "$2" && sync "$2"', big, dst)),
    hash: () => inProcess(() => hashFile(big)),
    copyAndHash: () => (fresh(), inProcess(() => copyAndHash(big, dst))),
  };
  const names = Object.keys(runs);
  const best: Record<string, Cost> = {};
  for (let round = 0; round < 2 * RUNS; round++) {
    for (const name of [...names.slice(round % names.length), ...names.slice(0, round % names.length)]) {
      const c = await runs[name]();
      best[name] = { wall: Math.min(best[name]?.wall ?? Infinity, c.wall), cpu: Math.min(best[name]?.cpu ?? Infinity, c.cpu) };
    }
  }
  fresh();
  const { cp, cpSync, hash, copyAndHash: ours } = best;
  const cpu = (c: Cost) => `${Math.round(c.cpu)} ms CPU`;
  const withSync = Math.max(cpSync.wall, hash.wall);
  const noSync = Math.max(cp.wall, hash.wall);
  return [
    { name: `cp 1 GiB, no fsync (${cpu(cp)})`, value: gib(cp.wall), unit: "GiB/s" },
    { name: `cp + fsync 1 GiB (${cpu(cpSync)})`, value: gib(cpSync.wall), unit: "GiB/s" },
    { name: `hashFile 1 GiB (${cpu(hash)})`, value: gib(hash.wall), unit: "GiB/s" },
    versus(`copyAndHash 1 GiB, fsync'd (${cpu(ours)})`, ours.wall, cpSync.wall >= hash.wall ? "max: cp + fsync" : "max: hashFile", withSync, "time <= 1.1x max(cp + fsync, hash)", ours.wall <= 1.1 * withSync),
    versus("copyAndHash vs cp without fsync", ours.wall, cp.wall >= hash.wall ? "max: cp" : "max: hashFile", noSync, "time <= 1.1x max(cp, hash)", ours.wall <= 1.1 * noSync),
  ];
}

export async function run(): Promise<BenchResult[]> {
  const dir = path.join(benchData, "hash");
  mkdirSync(dir, { recursive: true });
  const results: BenchResult[] = [];
  try {
    const big = makeFile(path.join(dir, "1g.bin"), GiB);
    warmRead(big);
    await oneFileWithProcessStart(dir, big, results);

    // in this process: the pair against SHA-256 alone (the split's promise: the same cost)
    await hashFile(big); // starts the worker
    const one = await bestOfEach(RUNS, {
      sha: () => sha256Alone(big),
      split: () => hashFile(big),
      inline: () => hashFile(big, { blake3Thread: "inline" }),
    });
    results.push({ name: "SHA-256 alone in-process (1 GiB)", value: gib(one.sha), unit: "GiB/s" });
    results.push(versus("hashFile in-process (BLAKE3 in worker)", one.split, "SHA-256 alone", one.sha, "time <= 1.05x SHA-256 alone", one.split <= 1.05 * one.sha));
    results.push({ name: "hashFile in-process, both in one thread", value: gib(one.inline), unit: "GiB/s", ratio: round(one.inline / one.sha) });

    // ---- (2) several files at once ----
    const files = [0, 1, 2, 3].map((i) => makeFile(path.join(dir, `quarter-${i}.bin`), 256 * MiB));
    files.forEach(warmRead);
    await hashFiles(files, { concurrency: 2 }); // warm-up: starts both workers
    const many = await bestOfEach(RUNS, {
      one: () => hashFile(files[0]),
      seq: () => hashFiles(files, { concurrency: 1 }),
      pool: () => hashFiles(files, { concurrency: 2 }),
    });
    const oneRate = gibPerSecond(256 * MiB, many.one);
    const poolRate = gibPerSecond(GiB, many.pool);
    results.push({ name: "4 x 256 MiB, hashFiles concurrency 1", value: gib(many.seq), unit: "GiB/s" });
    results.push({
      name: "4 x 256 MiB, hashFiles concurrency 2",
      value: round(poolRate),
      unit: "GiB/s",
      reference: { name: "hashFile, one 256 MiB file", value: round(oneRate) },
      ratio: round(poolRate / oneRate),
      goal: "throughput >= 1.6x",
      pass: poolRate / oneRate >= 1.6,
    });

    // Why the ratio stays near 1.5-1.6 here: one file already spreads over more than one core
    // (SHA-256 on this thread, reads in libuv's pool, BLAKE3 in a worker), and no pool can beat 2 cores
    // divided by the core-time a GiB costs in one thread.
    const cost = await perGibCosts(big);
    const ceiling = gibPerSecond(GiB, cost.oneThread / 2);
    results.push({
      name: `  core-time per GiB in one thread (alone: SHA-256 ${Math.round(cost.sha)} + BLAKE3 ${Math.round(cost.blake3)} + read ${Math.round(cost.read)} ms)`,
      value: Math.round(cost.oneThread),
      unit: "ms",
    });
    results.push({
      name: "  2-core ceiling of any pool (2 cores / that core-time)",
      value: round(ceiling),
      unit: "GiB/s",
      reference: { name: "hashFile, one 256 MiB file", value: round(oneRate) },
      ratio: round(ceiling / oneRate),
    });

    // ---- (3) copy and hash ----
    results.push(...(await copyVersusCp(big, path.join(dir, "copy.bin"))));
  } finally {
    await closeHashWorkers();
    rmSync(dir, { recursive: true, force: true });
  }
  return results;
}
