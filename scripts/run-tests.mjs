#!/usr/bin/env node
// Runs every *.test.ts under the given folders (default: test/) with node's test runner and tsx.
// Node 20's `--test` does not glob .ts files by itself, so the list is made here.
// Before the run, src/ and test/helpers/ are transpiled once (build-test-cli.mjs) for the tests that start
// `mlib` or a helper child as a process;
// after it, the slowest files and tests are listed (slowest-reporter.mjs), to see where the time goes.
import { spawnSync } from "node:child_process";
import { readdirSync, rmSync, statSync } from "node:fs";
import { join } from "node:path";
import { buildTestCli } from "./build-test-cli.mjs";

function collect(dir, out) {
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) collect(p, out);
    else if (name.endsWith(".test.ts")) out.push(p);
  }
  return out;
}

const args = process.argv.slice(2);
const roots = args.filter((a) => !a.startsWith("-"));
const flags = args.filter((a) => a.startsWith("-"));
const files = (roots.length ? roots : ["test"]).flatMap((r) => (statSync(r).isDirectory() ? collect(r, []) : [r]));
if (files.length === 0) {
  console.error("no test files found");
  process.exit(1);
}

let cli = null;
try {
  cli = await buildTestCli();
} catch (e) {
  // The tests then run the CLI under tsx, as they do when a file is run on its own: slower, same tests.
  console.error(`could not transpile src/ for the CLI tests (${e instanceof Error ? e.message : e}): they use tsx`);
}
// Ctrl-C reaches the tests too (one process group): this process waits for them to end, then removes the build.
process.on("SIGINT", () => {});
const reporters = flags.some((f) => f.startsWith("--test-reporter"))
  ? []
  : ["--test-reporter=spec", "--test-reporter-destination=stdout", "--test-reporter=./scripts/slowest-reporter.mjs", "--test-reporter-destination=stdout"];
const concurrency = flags.some((f) => f.startsWith("--test-concurrency")) ? [] : ["--test-concurrency=2"];
const res = spawnSync(process.execPath, ["--import", "tsx", "--test", ...concurrency, ...reporters, ...flags, ...files], {
  stdio: "inherit",
  env: cli ? { ...process.env, MLIB_TEST_BUILD: cli.dir } : process.env,
});
if (cli) rmSync(cli.dir, { recursive: true, force: true });
process.exit(res.status ?? 1);
