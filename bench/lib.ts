// Shared helpers for the benchmarks: results, timing (best of N), timing a command, making data
// files, and a description of the machine so numbers are never quoted without it.
import { spawn, spawnSync } from "node:child_process";
import { randomFillSync } from "node:crypto";
import { closeSync, openSync, readFileSync, readSync, statSync, writeSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

export interface BenchResult {
  name: string;
  value: number;
  unit: string;
  /** the reference tool measured in the same run */
  reference?: { name: string; value: number };
  /** value / reference.value (or as stated in `goal`) */
  ratio?: number;
  /** e.g. "ratio <= 1.0" */
  goal?: string;
  pass?: boolean;
}

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const benchData = path.join(repoRoot, ".bench-data");

export const MiB = 1024 * 1024;
export const GiB = 1024 * MiB;

/** Best (smallest) wall time in ms of `n` runs of `fn`. */
export async function bestOf(n: number, fn: () => unknown): Promise<number> {
  let best = Infinity;
  for (let i = 0; i < n; i++) {
    const t = performance.now();
    await fn();
    best = Math.min(best, performance.now() - t);
  }
  return best;
}

/**
 * Best wall time in ms of each function over `n` rounds, run in turn within each round (A B C, A B C...),
 * so that load from other processes on a shared machine falls on all of them alike.
 */
export async function bestOfEach<K extends string>(n: number, fns: Record<K, () => unknown>, before?: () => void): Promise<Record<K, number>> {
  const best = {} as Record<K, number>;
  for (let i = 0; i < n; i++) {
    for (const key of Object.keys(fns) as K[]) {
      before?.();
      const t = performance.now();
      await fns[key]();
      best[key] = Math.min(best[key] ?? Infinity, performance.now() - t);
    }
  }
  return best;
}

/** Wall time in ms of one run of a command, process start included; throws if it fails. */
export function timeCommand(cmd: string, args: string[], options: { cwd?: string } = {}): Promise<number> {
  return new Promise((resolve, reject) => {
    const t = performance.now();
    const child = spawn(cmd, args, { cwd: options.cwd ?? repoRoot, stdio: ["ignore", "ignore", "pipe"] });
    let stderr = "";
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      const ms = performance.now() - t;
      if (code === 0) resolve(ms);
      else reject(new Error(`${cmd} ${args.join(" ")} exited with ${code}: ${stderr.trim()}`));
    });
  });
}

export function bestOfCommand(n: number, cmd: string, args: string[], options: { cwd?: string } = {}): Promise<number> {
  return bestOf(n, () => timeCommand(cmd, args, options));
}

export function hasCommand(cmd: string): boolean {
  return spawnSync("sh", ["-c", `command -v ${cmd}`], { stdio: "ignore" }).status === 0;
}

/** Writes `bytes` of random-looking content fast: one random block, each copy stamped with its index. Reuses a file of the right size. */
export function makeFile(file: string, bytes: number): string {
  try {
    if (statSync(file).size === bytes) return file;
  } catch {
    // not there yet
  }
  const block = randomFillSync(Buffer.allocUnsafe(Math.min(bytes, 16 * MiB)));
  const fd = openSync(file, "w");
  try {
    for (let off = 0, i = 0; off < bytes; off += block.length, i++) {
      block.writeUInt32LE(i, 0);
      writeSync(fd, block, 0, Math.min(block.length, bytes - off), off);
    }
  } finally {
    closeSync(fd);
  }
  return file;
}

/** Reads a file once so that the timed runs see it in the page cache. */
export function warmRead(file: string): void {
  const buf = Buffer.allocUnsafe(16 * MiB);
  const fd = openSync(file, "r");
  try {
    let off = 0;
    let n: number;
    while ((n = readSync(fd, buf, 0, buf.length, off)) > 0) off += n;
  } finally {
    closeSync(fd);
  }
}

export function gibPerSecond(bytes: number, ms: number): number {
  return bytes / GiB / (ms / 1000);
}

export function round(x: number, digits = 2): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export interface MachineInfo {
  cpu: string;
  cores: number;
  ramGiB: number;
  node: string;
  disk: string;
  load: string;
  /** share of time tasks waited for CPU / I/O over the last 60 s (Linux PSI): how busy the machine was */
  pressure: string;
}

function pressure(kind: "cpu" | "io"): string {
  try {
    const line = readFileSync(`/proc/pressure/${kind}`, "utf8").split("\n")[0];
    return `${kind} ${line.match(/avg60=([\d.]+)/)?.[1] ?? "?"}%`;
  } catch {
    return `${kind} ?`;
  }
}

export function machineInfo(): MachineInfo {
  let cpu = os.cpus()[0]?.model ?? "unknown";
  try {
    const line = readFileSync("/proc/cpuinfo", "utf8")
      .split("\n")
      .find((l) => l.startsWith("model name"));
    if (line) cpu = line.split(":")[1].trim();
  } catch {
    // not Linux
  }
  let disk = "unknown";
  const fm = spawnSync("findmnt", ["-no", "SOURCE,FSTYPE", "-T", repoRoot], { encoding: "utf8" });
  if (fm.status === 0) disk = fm.stdout.trim().replace(/\s+/g, " ");
  return {
    cpu,
    cores: os.availableParallelism(),
    ramGiB: round(os.totalmem() / GiB, 1),
    node: process.version,
    disk,
    load: os
      .loadavg()
      .map((l) => l.toFixed(2))
      .join(" "),
    pressure: `${pressure("cpu")}, ${pressure("io")}`,
  };
}
