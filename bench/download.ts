// Downloads from the local fake Hub (test/helpers/fake-hub.ts, run in this process; clients are child
// processes): our engine (N connections, SHA-256 + BLAKE3 verified) vs `curl -L` of the same resolve URL from
// the same server in the same run (goal ≥ 0.9x curl's throughput); a download killed with SIGKILL mid-way and
// resumed (goal: at most one range per connection fetched again); a cached `hub search` (goal ≤ 5 ms).
// MLIB_BENCH_DOWNLOAD_MIB sets the file size (default 1024).
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { createReadStream, existsSync, mkdirSync, readFileSync, readdirSync, rmSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { startFakeHub } from "../test/helpers/fake-hub.js";
import { HubClient } from "../src/hub/hub-client.js";
import { partLayout } from "../src/hub/part-layout.js";
import { benchData, hasCommand, makeFile, MiB, round, warmRead, type BenchResult } from "./lib.js";

const CLIENT = fileURLToPath(new URL("./download-client.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const CONNECTIONS = 8;

function sha256Of(file: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const h = createHash("sha256");
    createReadStream(file, { highWaterMark: 4 * MiB })
      .on("data", (d) => h.update(d))
      .on("end", () => resolve(h.digest("hex")))
      .on("error", reject);
  });
}

interface ClientResult {
  ms: number;
  cpuMs: number;
  sha256: string;
  partsFetched: number;
  fetchedBytes: number;
  resumedBytes: number;
}

/**
 * Our client in a child process. With `atStart`, the child starts up (Node, tsx, imports) first, then
 * `atStart` runs and the download begins right after it — as curl's does after the same `atStart`.
 */
function runClient(args: string[], atStart?: () => void): Promise<ClientResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", TSX, CLIENT, ...(atStart ? ["--wait-go"] : []), ...args], { stdio: [atStart ? "pipe" : "ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stdout!.on("data", (d: Buffer) => {
      out += d.toString();
      if (atStart && out === "ready\n") {
        out = "";
        atStart();
        child.stdin!.end("go\n");
      }
    });
    child.stderr!.on("data", (d: Buffer) => (err += d.toString()));
    child.on("close", (code) => (code === 0 ? resolve(JSON.parse(out) as ClientResult) : reject(new Error(`client exited ${code}: ${err}`))));
  });
}

/** curl -L of the resolve URL (the same redirect to the same CDN origin); its own transfer time in ms. */
function runCurl(url: string, out: string, atStart: () => void): Promise<number> {
  return new Promise((resolve, reject) => {
    atStart();
    const child = spawn("curl", ["-sS", "-L", "-o", out, "-w", "%{time_total}", url], { stdio: ["ignore", "pipe", "pipe"] });
    let text = "";
    child.stdout.on("data", (d: Buffer) => (text += d.toString()));
    child.on("close", (code) => (code === 0 ? resolve(Number(text) * 1000) : reject(new Error(`curl exited ${code}`))));
  });
}

/** A bash line with its arguments ($1...), timed from `atStart` to its exit; its stdout. */
function runShell(line: string, args: string[], atStart: () => void): Promise<{ ms: number; stdout: string }> {
  return new Promise((resolve, reject) => {
    atStart();
    const t = performance.now();
    const child = spawn("bash", ["-c", line, "bash", ...args], { stdio: ["ignore", "pipe", "ignore"] });
    let stdout = "";
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString()));
    child.on("close", (code) => (code === 0 ? resolve({ ms: performance.now() - t, stdout }) : reject(new Error(`bash -c '${line}' exited ${code}`))));
  });
}

/**
 * The reference tools doing our whole job: curl writes the file while sha256sum and b3sum hash the same stream
 * (`curl | tee FILE | tee >(b3sum) | sha256sum`). Wall time in ms, and the SHA-256 it printed.
 */
async function runCurlVerified(url: string, out: string, atStart: () => void): Promise<{ ms: number; sha256: string }> {
  const r = await runShell(`set -o pipefail; curl -sS -L "$1" | tee "$2" | tee >(b3sum > "$2.b3") | sha256sum`, [url, out], atStart);
  return { ms: r.ms, sha256: r.stdout.split(/\s/)[0] };
}

/**
 * The machine's ceiling for our job: curl fetching the file while, beside it, `openssl dgst -sha256` (SHA-NI,
 * as our worker's node:crypto; coreutils' sha256sum is 3.5x slower here) and a one-thread b3sum hash the same
 * bytes from the cached source file, all three at once — the same work on the same two cores, by the
 * reference tools, without having to wait for the bytes. Wall time in ms until all are done.
 */
async function runCurlBesideHashing(url: string, out: string, source: string, atStart: () => void): Promise<number> {
  const line = `curl -sS -L -o "$2" "$1" & c=$!; openssl dgst -sha256 "$3" > /dev/null & s=$!; b3sum --num-threads 1 "$3" > /dev/null && wait $s && wait $c`;
  return (await runShell(line, [url, out, source], atStart)).ms;
}

export async function run(): Promise<BenchResult[]> {
  const results: BenchResult[] = [];
  const mib = Number(process.env.MLIB_BENCH_DOWNLOAD_MIB ?? 1024);
  const size = mib * MiB;
  const dir = path.join(benchData, "download");
  mkdirSync(dir, { recursive: true });
  const source = makeFile(path.join(benchData, `download-source-${mib}m.bin`), size);
  const sha = await sha256Of(source);
  warmRead(source);
  const hub = await startFakeHub({ repos: [{ id: "bench/big-GGUF", files: [{ path: "big-Q4_K_M.gguf", file: source, sha256: sha }] }] });
  const url = `${hub.url}/bench/big-GGUF/resolve/main/big-Q4_K_M.gguf`;
  const ours = path.join(dir, "ours.part");
  const curlOut = path.join(dir, "curl.out");
  // Every timed run starts right after the previous runs' files are deleted. This VM hands freed memory back
  // to its host (free page reporting): writing 1 GiB into pages the host must fault in again costs several
  // times the system time of writing it into pages just freed, so a run that happens to follow a deletion
  // had an advantage the program did not earn. Now each has the same one.
  const clean = (): void => {
    for (const f of [ours, `${ours}.json`, curlOut, `${curlOut}.b3`]) rmSync(f, { force: true });
  };
  try {
    // Throughput: ours and curl in turn, best of 3 each (the machine is shared: the best run is the one least disturbed).
    if (hasCommand("curl")) {
      let bestOurs = Infinity;
      let bestCurl = Infinity;
      let bestPipeline = Infinity;
      const pipeline = hasCommand("sha256sum") && hasCommand("b3sum");
      let verified = true;
      const ceiling = hasCommand("openssl") && hasCommand("b3sum");
      let bestCeiling = Infinity;
      let oursCpu = Infinity;
      for (let i = 0; i < 3; i++) {
        bestCurl = Math.min(bestCurl, await runCurl(url, curlOut, clean));
        if (pipeline) {
          const p = await runCurlVerified(url, curlOut, clean);
          if (p.sha256 !== sha) throw new Error(`curl | sha256sum printed ${p.sha256}, want ${sha}`);
          bestPipeline = Math.min(bestPipeline, p.ms);
        }
        if (ceiling) bestCeiling = Math.min(bestCeiling, await runCurlBesideHashing(url, curlOut, source, clean));
        const r = await runClient([url, ours, String(size), sha, String(CONNECTIONS)], clean);
        verified &&= r.sha256 === sha;
        if (r.ms < bestOurs) oursCpu = r.cpuMs;
        bestOurs = Math.min(bestOurs, r.ms);
      }
      clean();
      const oursGiBs = size / 1024 ** 3 / (bestOurs / 1000);
      const curlGiBs = size / 1024 ** 3 / (bestCurl / 1000);
      results.push({
        name: `download ${mib} MiB, ${CONNECTIONS} connections, SHA-256+BLAKE3 verified${verified ? "" : " (HASH MISMATCH)"} (client CPU ${round(oursCpu / 1000, 2)} s)`,
        value: round(oursGiBs, 3),
        unit: "GiB/s",
        reference: { name: "curl -L, same server", value: round(curlGiBs, 3) },
        ratio: round(oursGiBs / curlGiBs),
        goal: "ratio >= 0.9",
        pass: verified && oursGiBs / curlGiBs >= 0.9,
      });
      if (pipeline) {
        // The reference tools doing the same work in one pipe (sha256sum has no SHA-NI: far below the ceiling row).
        const pipeGiBs = size / 1024 ** 3 / (bestPipeline / 1000);
        results.push({
          name: `download ${mib} MiB verified, against the reference tools doing the same work`,
          value: round(oursGiBs, 3),
          unit: "GiB/s",
          reference: { name: "curl | tee FILE | tee >(b3sum) | sha256sum", value: round(pipeGiBs, 3) },
          ratio: round(oursGiBs / pipeGiBs),
        });
      }
      if (ceiling) {
        const ceilGiBs = size / 1024 ** 3 / (bestCeiling / 1000);
        results.push({
          name: `download ${mib} MiB verified, against the machine's ceiling for the same work`,
          value: round(oursGiBs, 3),
          unit: "GiB/s",
          reference: { name: "curl -L, with openssl dgst -sha256 and b3sum (1 thread) of the same bytes beside it", value: round(ceilGiBs, 3) },
          ratio: round(oursGiBs / ceilGiBs),
        });
      }
    }

    // Resume after SIGKILL: kill once about half the parts are recorded, then the same download again.
    rmSync(ours, { force: true });
    rmSync(`${ours}.json`, { force: true });
    hub.requests.length = 0;
    const child = spawn(process.execPath, ["--import", TSX, CLIENT, url, ours, String(size), sha, String(CONNECTIONS)], { stdio: "ignore" });
    let completed: number[] = [];
    for (let i = 0; i < 2000; i++) {
      await new Promise((r) => setTimeout(r, 10));
      try {
        const rec = JSON.parse(readFileSync(`${ours}.json`, "utf8")) as { completed: number[]; size: number; partSize: number; lead?: number };
        completed = rec.completed;
        if (completed.length >= partLayout(rec.size, rec.partSize, rec.lead ?? 0).length / 2) break;
      } catch {
        // not written yet
      }
    }
    child.kill("SIGKILL");
    await new Promise((r) => child.once("exit", r));
    const before = hub.requests.filter((q) => q.origin === "cdn" && q.range && q.range !== "bytes=0-0").map((q) => q.range!);
    const started = new Set(before.map((r) => Number(/bytes=(\d+)-/.exec(r)![1])));
    hub.requests.length = 0;
    const resumed = await runClient([url, ours, String(size), sha, String(CONNECTIONS)]);
    const after = hub.requests.filter((q) => q.origin === "cdn" && q.range && q.range !== "bytes=0-0").map((q) => Number(/bytes=(\d+)-/.exec(q.range!)![1]));
    const refetched = after.filter((start) => started.has(start)).length;
    results.push({
      name: `resume after kill -9 (${completed.length} parts recorded): ranges fetched again that the killed run had started`,
      value: refetched,
      unit: "ranges",
      reference: { name: "connections", value: CONNECTIONS },
      goal: `<= ${CONNECTIONS} (one per connection), SHA-256 verified`,
      pass: refetched <= CONNECTIONS && resumed.sha256 === sha,
    });

    // A cached hub search, after start-up: the first answer of a freshly opened cache, and the best of 20.
    const cacheDir = path.join(dir, "cache");
    rmSync(cacheDir, { recursive: true, force: true });
    const config = { endpoint: hub.url, token: null, tokenSource: null, offline: false, cacheDir };
    const warm = new HubClient(config);
    await warm.search({ query: "big", limit: 20 });
    warm.close();
    // Each a fresh client (cache opened anew), as a new `mlib hub search` process would do; best and median of 7.
    const firsts: number[] = [];
    let allCached = true;
    let best = Infinity;
    for (let i = 0; i < 7; i++) {
      const fresh = new HubClient(config);
      let t = performance.now();
      const first = await fresh.search({ query: "big", limit: 20 });
      firsts.push(performance.now() - t);
      allCached &&= first.fromCache;
      t = performance.now();
      await fresh.search({ query: "big", limit: 20 });
      best = Math.min(best, performance.now() - t);
      fresh.close();
    }
    firsts.sort((a, b) => a - b);
    results.push({
      name: `cached hub search: open the cache + first answer, best of 7 (median ${round(firsts[3], 2)} ms)`,
      value: round(firsts[0], 2),
      unit: "ms",
      goal: "<= 5 ms",
      pass: allCached && firsts[0] <= 5,
    });
    results.push({ name: "cached hub search, the same client asked again (best of 7)", value: round(best, 3), unit: "ms" });
  } finally {
    await hub.close();
    for (const f of readdirSync(dir)) if (f !== "cache") rmSync(path.join(dir, f), { force: true, recursive: true });
    if (existsSync(curlOut)) rmSync(curlOut, { force: true });
  }
  return results;
}
