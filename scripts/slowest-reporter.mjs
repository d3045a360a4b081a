// A node:test reporter that prints, after the run, the slowest test files (the summed time of their top-level
// tests and suites) and the slowest single tests, so a test that grows slow is seen before the suite is.
import { relative } from "node:path";

const SHOWN = 12;

export default async function* slowest(source) {
  const perFile = new Map();
  const tests = [];
  for await (const event of source) {
    if (event.type !== "test:pass" && event.type !== "test:fail") continue;
    const { name, nesting, file, details } = event.data;
    const ms = details?.duration_ms ?? 0;
    const where = file ? relative(process.cwd(), file) : "?";
    if (nesting === 0) perFile.set(where, (perFile.get(where) ?? 0) + ms);
    if (details?.type !== "suite") tests.push({ ms, name, where });
  }
  const sec = (ms) => `${(ms / 1000).toFixed(1).padStart(6)} s`;
  const files = [...perFile].sort((a, b) => b[1] - a[1]).slice(0, SHOWN);
  yield `\nslowest files (their tests' time):\n${files.map(([f, ms]) => `${sec(ms)}  ${f}`).join("\n")}\n`;
  tests.sort((a, b) => b.ms - a.ms);
  yield `slowest tests:\n${tests.slice(0, SHOWN).map((t) => `${sec(t.ms)}  ${t.where}: ${t.name}`).join("\n")}\n`;
}
