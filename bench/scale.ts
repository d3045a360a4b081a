// Scale benchmark (issue 9 item 12): targeted commands in a library of 100k models (metadata.json files
// only, the library bench/search.ts generates) must not pay for the whole library.
//   - a synchronous stat walk of every metadata.json: the reference for full passes;
//   - `mlib list --limit 1`: the reference for targeted commands (a process that opens the library);
//   - `mlib import` of one small file, `mlib verify ID` and `mlib show ID`: goal ≤ list + 0.3 s each;
//   - `mlib adopt` (a walk for folders without metadata.json): goal ≤ 2x the stat walk.
// Every command runs as users run it: a fresh `node dist/cli/main.js` process (compiled into .bench-data).
// What the bench imports it removes again, so the shared library stays as generated.
import * as fs from "node:fs";
import * as path from "node:path";
import { spawnSync } from "node:child_process";
import { fileURLToPath } from "node:url";
import type { BenchResult } from "./lib.js";
import { ensureLibrary } from "./search.js";
import { buildTinyLlamaGguf } from "../src/demo/gguf-writer.js";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const REPO = path.resolve(HERE, "..");
const DATA_DIR = path.join(REPO, ".bench-data");
const DIST = path.join(DATA_DIR, "scale-dist");

/** Compiles src/ into .bench-data/scale-dist (plain JS: what `mlib` runs once installed). */
function compile(): string {
  const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", path.join(REPO, "tsconfig.build.json"), "--outDir", DIST], { cwd: REPO, stdio: "inherit" });
  if (r.status !== 0) throw new Error("tsc failed");
  // Resolve dependencies from the repo's node_modules.
  const link = path.join(DATA_DIR, "node_modules");
  if (!fs.existsSync(link)) fs.symlinkSync(path.join(REPO, "node_modules"), link);
  fs.writeFileSync(path.join(DIST, "package.json"), '{ "type": "module" }\n');
  return path.join(DIST, "cli", "main.js");
}

/** Wall ms of one `node main.js args...`; the output when asked. */
function mlib(main: string, args: string[], expectOk = true): { ms: number; stdout: string } {
  const t0 = performance.now();
  const r = spawnSync(process.execPath, [main, ...args], { encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  const ms = performance.now() - t0;
  if (expectOk && r.status !== 0) throw new Error(`mlib ${args.join(" ")} exited ${r.status}: ${r.stderr}`);
  return { ms, stdout: r.stdout };
}

/** The reference full pass: list the type and family folders and stat every model's metadata.json. */
function statWalk(root: string): number {
  let n = 0;
  for (const t of fs.readdirSync(root, { withFileTypes: true })) {
    if (!t.isDirectory() || t.name.startsWith(".")) continue;
    for (const f of fs.readdirSync(path.join(root, t.name), { withFileTypes: true })) {
      if (!f.isDirectory()) continue;
      for (const m of fs.readdirSync(path.join(root, t.name, f.name))) {
        try {
          fs.statSync(path.join(root, t.name, f.name, m, "metadata.json"));
          n++;
        } catch {
          // not a model folder
        }
      }
    }
  }
  return n;
}

/** The same walk in a fresh node process: the reference that, like every mlib run, pays a process start. */
function statWalkProcess(root: string): number {
  const code = `const fs = require("fs"), p = require("path"); const root = ${JSON.stringify(root)}; let n = 0;
for (const t of fs.readdirSync(root, { withFileTypes: true })) { if (!t.isDirectory() || t.name.startsWith(".")) continue;
  for (const f of fs.readdirSync(p.join(root, t.name), { withFileTypes: true })) { if (!f.isDirectory()) continue;
    for (const m of fs.readdirSync(p.join(root, t.name, f.name))) { try { fs.statSync(p.join(root, t.name, f.name, m, "metadata.json")); n++; } catch {} } } }
if (n === 0) process.exit(1);`;
  const t0 = performance.now();
  const r = spawnSync(process.execPath, ["-e", code]);
  if (r.status !== 0) throw new Error("the stat walk process failed");
  return performance.now() - t0;
}

const best = (xs: number[]): number => Math.min(...xs);

export async function run(): Promise<BenchResult[]> {
  const count = Number(process.env.MLIB_BENCH_MODELS ?? 100_000);
  const rounds = Number(process.env.MLIB_BENCH_ROUNDS ?? 3);
  const root = ensureLibrary(count);
  const main = compile();
  const lib = ["--library", root];
  // The first open builds the index (reads every metadata.json once); not what is measured here.
  mlib(main, ["list", "--limit", "1", ...lib]);

  const walk: number[] = [];
  const walkProc: number[] = [];
  const list: number[] = [];
  const imp: number[] = [];
  const verify: number[] = [];
  const show: number[] = [];
  const adopt: number[] = [];
  const srcDir = fs.mkdtempSync(path.join(DATA_DIR, "scale-src-"));
  try {
    for (let i = 0; i < rounds; i++) {
      const t0 = performance.now();
      if (statWalk(root) < count) throw new Error("stat walk found fewer models than generated");
      walk.push(performance.now() - t0);
      walkProc.push(statWalkProcess(root));
      list.push(mlib(main, ["list", "--limit", "1", ...lib]).ms);
      const file = path.join(srcDir, `scale-${i}.gguf`);
      fs.writeFileSync(file, buildTinyLlamaGguf({ name: `Scale Bench ${i}`, fileType: 15, contextLength: 2048, seed: 1000 + i }));
      const r = mlib(main, ["import", file, "--json", ...lib]);
      imp.push(r.ms);
      const id = (JSON.parse(r.stdout) as { results: { modelId: string }[] }).results[0].modelId;
      verify.push(mlib(main, ["verify", id, ...lib]).ms);
      show.push(mlib(main, ["show", id, ...lib]).ms);
      adopt.push(mlib(main, ["adopt", ...lib]).ms);
      mlib(main, ["rm", id, "--yes", ...lib]);
    }
  } finally {
    fs.rmSync(srcDir, { recursive: true, force: true });
  }
  const ref = best(list);
  const targeted = (name: string, xs: number[]): BenchResult => ({
    name,
    value: best(xs),
    unit: "ms",
    reference: { name: "mlib list --limit 1", value: ref },
    ratio: best(xs) / ref,
    goal: "≤ list + 300 ms",
    pass: best(xs) <= ref + 300,
  });
  return [
    { name: `stat walk of ${count} metadata.json (in process, sync)`, value: best(walk), unit: "ms" },
    { name: `the same walk as a fresh node process`, value: best(walkProc), unit: "ms" },
    { name: `mlib list --limit 1 at ${count} models`, value: ref, unit: "ms" },
    targeted("mlib import (one small GGUF, copy)", imp),
    targeted("mlib verify ID", verify),
    targeted("mlib show ID", show),
    {
      name: "mlib adopt (nothing to adopt)",
      value: best(adopt),
      unit: "ms",
      reference: { name: "stat walk process", value: best(walkProc) },
      ratio: best(adopt) / best(walkProc),
      goal: "≤ 2x stat walk",
      pass: best(adopt) <= 2 * best(walkProc),
    },
  ];
}

// Run directly: `node --import tsx bench/scale.ts`.
if (process.argv[1] && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  for (const r of await run()) {
    const extra = r.reference ? `  (${r.reference.name}: ${r.reference.value.toFixed(1)}; ratio ${r.ratio?.toFixed(2)}; goal ${r.goal}: ${r.pass ? "pass" : "FAIL"})` : "";
    console.log(`${r.name}: ${r.value.toFixed(1)} ${r.unit}${extra}`);
  }
}
