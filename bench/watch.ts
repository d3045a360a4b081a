// Watch and merge (issue 12):
//   (a) change → searchable: 1,000 changes to a watched library of 1,000 models (edits of metadata.json written
//       in place as other programs do, new model folders, removed ones), one every 20 ms; the time from the end
//       of the write to the index answering with the change. Goal p95 ≤ debounce + 200 ms, and 0 missed
//       (every change in the index at the end).
//   (b) mlib merge of 10,000 models on one filesystem vs a fs.renameSync loop over the same folders (parents
//       made beforehand: the loop is the floor of moving folders). Goal ≤ 3x. The merge runs compiled (src/
//       built with tsc into .bench-data, as `mlib` runs once installed; BENCH_MERGE_FROM_SOURCE=1 runs it from
//       src/ under tsx instead, whose start of the index writer thread costs ~0.2 s of CPU more). Beside it, the
//       floor the merge cannot go under on one thread: the loop plus reading and parsing every metadata.json.
//       Run by `npm run bench -- merge`.
//   (c) at 100,000 model folders: the mode the watcher picks, the inotify watches it takes (goal: within its
//       budget, a quarter of max_user_watches), its start time and the cost of one periodic rescan.
import { mkdirSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { execFileSync, spawnSync } from "node:child_process";
import { createHash } from "node:crypto";
import path from "node:path";
import { benchData, repoRoot, round, type BenchResult } from "./lib.js";
import { ModelLibrary } from "../src/store/model-library.js";
import { blankMetadata, serializeMetadata } from "../src/store/metadata.js";
import { watchLibrary } from "../src/watcher/watch-library.js";
import { defaultWatchBudget } from "../src/watcher/watch-budget.js";
import { mergeLibrary } from "../src/merge/merge-library.js";
import { readTextFile } from "../src/core/read-text-file.js";
import { recordFromParsed } from "../src/store/record.js";
import { mergeCeiling } from "./merge-ceiling.js";

const DEBOUNCE_MS = 100;
const CHANGES = Number(process.env.BENCH_WATCH_CHANGES ?? 1000);
const MERGE_MODELS = Number(process.env.BENCH_MERGE_MODELS ?? 10_000);
const SCALE = Number(process.env.BENCH_WATCH_SCALE ?? 100_000);

function writeModel(dir: string, name: string, n: number, withFile = false): void {
  mkdirSync(dir, { recursive: true });
  const m = blankMetadata();
  m.official_name = name;
  m.model_type = "llm";
  m.family = "fam";
  m.security_tier = "safe";
  m.format = "gguf";
  if (withFile) {
    const bytes = Buffer.alloc(64, n & 0xff);
    bytes.writeUInt32LE(n, 0);
    writeFileSync(path.join(dir, "model.gguf"), bytes);
    const sha = createHash("sha256").update(bytes).digest("hex");
    m.files = [{ name: "model.gguf", original_name: "model.gguf", size: bytes.length, sha256: sha, blake3: null }];
    m.hashes = { sha256: sha, blake3: null };
  }
  writeFileSync(path.join(dir, "metadata.json"), JSON.stringify(serializeMetadata(m)));
}

function percentile(xs: number[], p: number): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.floor((p / 100) * s.length))];
}

async function watchLatency(): Promise<BenchResult[]> {
  const root = path.join(benchData, "watch-lib");
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < 1000; i++) writeModel(path.join(root, "llm", `fam${i % 20}`, `m${i}`), `model ${i}`, i);
  const lib = await ModelLibrary.open(root);
  await lib.reconcile("full");
  const pending = new Map<string, { t0: number; check: () => boolean }>();
  const latencies: number[] = [];
  const settle = (id: string) => {
    const p = pending.get(id);
    if (p && p.check()) {
      latencies.push(performance.now() - p.t0);
      pending.delete(id);
    }
  };
  const w = await watchLibrary(lib, { debounceMs: DEBOUNCE_MS, onEvent: (e) => ("id" in e ? settle(e.id) : undefined) });
  const expected: { id: string; check: () => boolean }[] = [];
  let created = 0;
  const removed = new Set<number>();
  for (let i = 0; i < CHANGES; i++) {
    const kind = i % 10;
    let id: string;
    let check: () => boolean;
    if (kind < 8) {
      const n = (i * 7) % 1000;
      id = `llm/fam${n % 20}/m${n}`;
      removed.delete(n); // an edit of a removed model brings its folder back
      const token = `edit${i}x`;
      writeModel(lib.modelDir(id), `model ${n} ${token}`, n);
      check = () => lib.search(token).models.some((m) => m.id === id);
    } else if (kind === 8) {
      id = `llm/new${created % 10}/n${created++}`;
      const token = `fresh${i}y`;
      writeModel(lib.modelDir(id), token, i);
      check = () => lib.search(token).totalCount === 1;
    } else {
      let n = (i * 13) % 1000;
      while (removed.has(n) || pending.has(`llm/fam${n % 20}/m${n}`)) n = (n + 1) % 1000;
      removed.add(n);
      id = `llm/fam${n % 20}/m${n}`;
      rmSync(lib.modelDir(id), { recursive: true, force: true });
      check = () => lib.get(id) === null;
    }
    const t0 = performance.now();
    pending.set(id, { t0, check });
    expected.push({ id, check });
    setTimeout(() => settle(id), 0);
    await new Promise((r) => setTimeout(r, 20));
  }
  // whatever is still pending gets 5 s, polled
  const end = Date.now() + 5000;
  while (pending.size > 0 && Date.now() < end) {
    for (const id of [...pending.keys()]) settle(id);
    await new Promise((r) => setTimeout(r, 10));
  }
  await w.flush();
  // a later change to the same model replaces an earlier one: only the last per id must hold
  const lastById = new Map(expected.map((e) => [e.id, e]));
  const missed = [...lastById.values()].filter((e) => !e.check()).length;
  await w.close();
  lib.close();
  rmSync(root, { recursive: true, force: true });
  const p95 = percentile(latencies, 95);
  return [
    { name: `watch: change → searchable p50 (${latencies.length} changes, debounce ${DEBOUNCE_MS} ms)`, value: round(percentile(latencies, 50), 1), unit: "ms" },
    { name: "watch: change → searchable p95", value: round(p95, 1), unit: "ms", goal: `≤ ${DEBOUNCE_MS + 200} ms`, pass: p95 <= DEBOUNCE_MS + 200 },
    { name: "watch: changes missed (not in the index at the end)", value: missed, unit: "changes", goal: "0", pass: missed === 0 },
  ];
}

/** (b): also `npm run bench -- merge` on its own (bench/merge.ts). */
export async function mergeSpeed(): Promise<BenchResult[]> {
  const base = path.join(benchData, "merge");
  rmSync(base, { recursive: true, force: true });
  const make = (src: string) => {
    for (let i = 0; i < MERGE_MODELS; i++) writeModel(path.join(src, "llm", `fam${i % 50}`, `m${i}`), `model ${i}`, i, true);
  };
  // Compiled first: the sync below then flushes its files too.
  const built = process.env.BENCH_MERGE_FROM_SOURCE === "1" ? null : compileSrc();
  const srcA = path.join(base, "src-a");
  const srcB = path.join(base, "src-b");
  const srcC = path.join(base, "src-c");
  make(srcA);
  make(srcB);
  if (built) make(srcC);
  // The 40,000 files just written are flushed first: neither timed part should pay for their writeback (the
  // merge's first fsync would otherwise commit the filesystem journal holding all of their metadata).
  execFileSync("sync");
  // Reference: the renames alone.
  const destA = path.join(base, "dest-a");
  for (let f = 0; f < 50; f++) mkdirSync(path.join(destA, "llm", `fam${f}`), { recursive: true });
  let t = performance.now();
  for (let i = 0; i < MERGE_MODELS; i++) renameSync(path.join(srcA, "llm", `fam${i % 50}`, `m${i}`), path.join(destA, "llm", `fam${i % 50}`, `m${i}`));
  const renameMs = performance.now() - t;
  // The floor's other part: what the merge must read (each metadata.json opened, fstat'ed, read, parsed).
  const read: { id: string; parsed: unknown; st: { mtimeMs: number; size: number } }[] = [];
  t = performance.now();
  for (let i = 0; i < MERGE_MODELS; i++) {
    const id = `llm/fam${i % 50}/m${i}`;
    const r = readTextFile(path.join(destA, ...id.split("/"), "metadata.json"))!;
    read.push({ id, parsed: JSON.parse(r.text), st: r.st });
  }
  const readMs = performance.now() - t;
  const Library: typeof ModelLibrary = built ? (await import(path.join(built, "store", "model-library.js"))).ModelLibrary : ModelLibrary;
  const merge: typeof mergeLibrary = built ? (await import(path.join(built, "merge", "merge-library.js"))).mergeLibrary : mergeLibrary;
  // The third part of that work: the index rows of those models written, as the merge writes them (a row built from
  // each parsed metadata.json, every row upserted in one transaction), into a library of their own.
  const fromParsed: typeof recordFromParsed = built ? (await import(path.join(built, "store", "record.js"))).recordFromParsed : recordFromParsed;
  const rowsLib = await Library.open(path.join(base, "dest-rows"));
  t = performance.now();
  const records = read.map((r) => fromParsed(r.id, path.join(destA, ...r.id.split("/")), r.parsed, r.st));
  rowsLib.index.upsertMany(records);
  const rowsMs = performance.now() - t;
  rowsLib.close();
  read.length = 0;
  records.length = 0;
  const lib = await Library.open(path.join(base, "dest-b"));
  t = performance.now();
  const cpu0 = process.cpuUsage();
  const r = await merge(lib, { source: srcB });
  const mergeMs = performance.now() - t;
  const cpu = process.cpuUsage(cpu0);
  const ok = r.counts.moved === MERGE_MODELS && lib.stats().count === MERGE_MODELS && r.bytesCopied === 0;
  lib.close();
  // The machine's ceiling: the same move done by a pipeline that keeps only the work no merge can skip.
  const ceiling = built ? await mergeCeiling(built, srcC, path.join(base, "dest-c")) : null;
  rmSync(base, { recursive: true, force: true });
  if (!ok) throw new Error(`merge bench: ${JSON.stringify(r.counts)}, bytes copied ${r.bytesCopied}`);
  const floorMs = renameMs + readMs;
  const sequentialMs = floorMs + rowsMs;
  return [
    {
      name: `merge: ${MERGE_MODELS} models, one filesystem (gather, plan, journal, renames, index)${built ? "" : ", from source under tsx"}`,
      value: round(mergeMs, 0),
      unit: "ms",
      reference: { name: "fs.renameSync loop", value: round(renameMs, 0) },
      ratio: mergeMs / renameMs,
      goal: "≤ 3x",
      pass: mergeMs / renameMs <= 3,
    },
    // CPU of the whole process (the index writer thread included): steadier than wall time on a shared machine.
    { name: "merge: CPU time, user + system, all threads", value: round((cpu.user + cpu.system) / 1000, 0), unit: "ms" },
    {
      name: `merge: the floor on one thread, the renameSync loop + reading and parsing ${MERGE_MODELS} metadata.json (${round(readMs, 0)} ms)`,
      value: round(mergeMs, 0),
      unit: "ms",
      reference: { name: "loop + reading", value: round(floorMs, 0) },
      ratio: mergeMs / floorMs,
    },
    // What the merge cannot do without, one after the other on one thread: the renames, the reading and the index
    // rows. On this 2-vCPU VM a second thread buys little here (a SQLite thread beside slows each rename ~30 %).
    {
      name: `merge: the same work one step after the other, the loop + reading + writing the ${MERGE_MODELS} index rows (${round(rowsMs, 0)} ms)`,
      value: round(mergeMs, 0),
      unit: "ms",
      reference: { name: "loop + reading + rows", value: round(sequentialMs, 0) },
      ratio: mergeMs / sequentialMs,
    },
    // bench/merge-ceiling.ts: listing, reading, renames and rows with every overlap the work allows, and no plan.
    ...(ceiling
      ? [
          {
            name: `merge: the ceiling, that work overlapped on two threads with no plan (bench/merge-ceiling.ts; ${Object.entries(ceiling.marks).map(([k, v]) => `${k} ${v}`).join(", ")} ms)`,
            value: round(ceiling.ms, 0),
            unit: "ms",
            reference: { name: "fs.renameSync loop", value: round(renameMs, 0) },
            ratio: ceiling.ms / renameMs,
          },
        ]
      : []),
  ];
}

/** src/ compiled with tsc into .bench-data/merge-dist (what `mlib` runs once installed); its folder. */
function compileSrc(): string {
  const out = path.join(benchData, "merge-dist");
  rmSync(out, { recursive: true, force: true });
  const tsc = path.join(repoRoot, "node_modules", "typescript", "bin", "tsc");
  const r = spawnSync(process.execPath, [tsc, "-p", path.join(repoRoot, "tsconfig.build.json"), "--outDir", out], { cwd: repoRoot, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`tsc failed: ${r.stdout}${r.stderr}`);
  return out;
}

/** At SCALE model folders: which mode runs, how many inotify watches it takes, start time and one rescan. */
async function watchAtScale(): Promise<BenchResult[]> {
  const root = path.join(benchData, "watch-scale");
  rmSync(root, { recursive: true, force: true });
  for (let i = 0; i < SCALE; i++) writeModel(path.join(root, "llm", `fam${i % 300}`, `m${i}`), `model ${i}`, i);
  const lib = await ModelLibrary.open(root);
  await lib.reconcile("full");
  let rescanMs = 0;
  let t = performance.now();
  const w = await watchLibrary(lib, { debounceMs: DEBOUNCE_MS, rescanMs: 3_600_000 });
  const startMs = performance.now() - t;
  const mode = w.mode;
  const watches = w.watchedFolders();
  t = performance.now();
  await lib.reconcile("full"); // what the periodic rescan of containers+rescan mode runs
  rescanMs = performance.now() - t;
  await w.close();
  lib.close();
  rmSync(root, { recursive: true, force: true });
  return [
    { name: `watch at ${SCALE} model folders: inotify watches taken (mode ${mode})`, value: watches, unit: "watches", goal: `≤ a quarter of max_user_watches (${defaultWatchBudget()})`, pass: watches <= defaultWatchBudget() },
    { name: `watch at ${SCALE} model folders: start (walk + watches; the first stat pass follows, queued)`, value: round(startMs, 0), unit: "ms" },
    { name: `watch at ${SCALE} model folders: one periodic rescan (stat of every metadata.json)`, value: round(rescanMs, 0), unit: "ms" },
  ];
}

export async function run(): Promise<BenchResult[]> {
  // BENCH_WATCH_PARTS=latency,merge,scale picks the parts; the merge is left out by default, since
  // `npm run bench` runs it as a bench of its own (bench/merge.ts).
  const parts = (process.env.BENCH_WATCH_PARTS ?? "latency,scale").split(",");
  const rows: BenchResult[] = [];
  if (parts.includes("latency")) rows.push(...(await watchLatency()));
  if (parts.includes("merge")) rows.push(...(await mergeSpeed()));
  if (parts.includes("scale")) rows.push(...(await watchAtScale()));
  return rows;
}
