// `npm run bench [-- NAME...]`: runs the benchmark modules (all, or those named), prints one table
// with the machine it ran on. Goals are reported as PASS/MISS, not enforced: the exit status is
// non-zero only when a benchmark crashes.
import { machineInfo, type BenchResult } from "./lib.js";

// name -> module exporting `run(): Promise<BenchResult[]>`
const BENCHES: Record<string, string> = {
  hash: "./hash.ts",
  identify: "./identify.ts",
  import: "./import.ts",
  map: "./map.ts",
  search: "./search.ts",
  server: "./server.ts",
  download: "./download.ts",
  watch: "./watch.ts",
  merge: "./merge.ts",
  scale: "./scale.ts",
};

/** At most 3 decimals and 4 significant digits past the point: enough for ms and GiB/s, no float noise. */
function num(x: number): string {
  if (!Number.isFinite(x)) return String(x);
  const abs = Math.abs(x);
  const digits = abs >= 100 ? 1 : abs >= 1 ? 2 : 3;
  return String(Number(x.toFixed(digits)));
}

function cell(r: BenchResult): string[] {
  const value = Number.isNaN(r.value) ? "-" : `${num(r.value)} ${r.unit}`;
  const ref = r.reference ? `${r.reference.name}: ${num(r.reference.value)}` : "";
  const ratio = r.ratio === undefined ? "" : `${num(r.ratio)}x`;
  const goal = r.goal ? `${r.pass ? "PASS" : "MISS"} (${r.goal})` : "";
  return [r.name, value, ref, ratio, goal];
}

function printTable(title: string, rows: BenchResult[]): void {
  const table = [["benchmark", "value", "reference (same run)", "ratio", "goal"], ...rows.map(cell)];
  const widths = table[0].map((_, i) => Math.max(...table.map((row) => row[i].length)));
  console.log(`\n## ${title}`);
  for (const [i, row] of table.entries()) {
    console.log(row.map((c, j) => c.padEnd(widths[j])).join("  ").trimEnd());
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

const wanted = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const unknown = wanted.filter((n) => !(n in BENCHES));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(", ")}; known: ${Object.keys(BENCHES).join(", ")}`);
  process.exit(2);
}

const m = machineInfo();
console.log(`machine: ${m.cpu}, ${m.cores} cores, ${m.ramGiB} GiB RAM, node ${m.node}, disk ${m.disk}, load at start ${m.load}, waiting-for-CPU/IO (PSI, last 60 s) ${m.pressure}`);
let crashed = false;
for (const name of wanted.length ? wanted : Object.keys(BENCHES)) {
  const started = performance.now();
  try {
    const mod = (await import(BENCHES[name])) as { run(): Promise<BenchResult[]> };
    const rows = await mod.run();
    printTable(`${name} (${((performance.now() - started) / 1000).toFixed(0)} s)`, rows);
  } catch (e) {
    crashed = true;
    console.error(`\n## ${name}: CRASHED\n${e instanceof Error ? (e.stack ?? e.message) : String(e)}`);
  }
}
const end = machineInfo();
console.log(`\nload at end: ${end.load}; PSI ${end.pressure} (tens of % = other work competed for the machine: ratios are noisy)`);
process.exit(crashed ? 1 : 0);
