// Runs the real `mlib` CLI as a child process, the way a user would: src/cli/main.ts under tsx, or, under
// `npm test`, the same sources transpiled once for the run (scripts/build-test-cli.mjs; MLIB_TEST_BUILD names
// the folder), which spares each process the tsx loader's start-up. nodeArgvFor does the same for a helper child.
// stdin is a closed pipe (never a terminal), so commands that would prompt must refuse instead.
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

export const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
export const CLI_MAIN = fileURLToPath(new URL("../../src/cli/main.ts", import.meta.url));
const TSX = import.meta.resolve("tsx");
const BUILD = process.env.MLIB_TEST_BUILD;

/** The node arguments that run a TypeScript file of this repository: its transpiled copy if any, else under tsx. */
export function nodeArgvFor(tsFile: string): string[] {
  if (BUILD) {
    const js = path.join(BUILD, path.relative(REPO_ROOT, tsFile)).replace(/\.ts$/, ".js");
    if (existsSync(js)) return [js];
  }
  return ["--import", TSX, tsFile];
}

/** Where a child's script (`node -e`) imports a TypeScript module of this repository from: its transpiled copy
 * under `npm test` (then run it with EVAL_LOADER, which is empty), else the .ts itself (EVAL_LOADER: tsx). */
export function importPathFor(tsFile: string): string {
  if (!BUILD) return tsFile;
  const js = path.join(BUILD, path.relative(REPO_ROOT, tsFile)).replace(/\.ts$/, ".js");
  if (!existsSync(js)) throw new Error(`${tsFile} is not in the test build ${BUILD} (only src/ and test/helpers/ are)`);
  return js;
}

/** The node arguments that let a `node -e` script import what importPathFor names. */
export const EVAL_LOADER: readonly string[] = BUILD ? [] : ["--import", TSX];

/** The node arguments that start `mlib` (then its own arguments): `[main.js]` or `[--import, tsx, main.ts]`. */
export const MLIB_ARGV: readonly string[] = nodeArgvFor(CLI_MAIN);

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunCliOptions {
  /** Added to the environment (MODEL_LIBRARY_HOME, say); undefined values remove a variable. */
  env?: Record<string, string | undefined>;
  cwd?: string;
  /** Kill the child after this long (default 30 s). */
  timeoutMs?: number;
}

export function runCli(args: string[], options: RunCliOptions = {}): Promise<CliResult> {
  return startCli(args, options).result;
}

/** Starts `mlib` and returns the child (to signal it: `child.kill("SIGINT")`) and its result once it exits. */
export function startCli(args: string[], options: RunCliOptions = {}): { child: ChildProcess; result: Promise<CliResult> } {
  const env: NodeJS.ProcessEnv = { ...process.env, NO_COLOR: "1" };
  // Never touch the user's library: without an explicit home the tests must pass --library.
  delete env.MODEL_LIBRARY_HOME;
  for (const [k, v] of Object.entries(options.env ?? {})) {
    if (v === undefined) delete env[k];
    else env[k] = v;
  }
  const child = spawn(process.execPath, [...MLIB_ARGV, ...args], {
    cwd: options.cwd ?? REPO_ROOT,
    env,
    stdio: ["pipe", "pipe", "pipe"],
  });
  const result = new Promise<CliResult>((resolve, reject) => {
    child.stdin!.end();
    let stdout = "";
    let stderr = "";
    child.stdout!.setEncoding("utf8").on("data", (d: string) => (stdout += d));
    child.stderr!.setEncoding("utf8").on("data", (d: string) => (stderr += d));
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeoutMs ?? 30_000);
    child.on("error", (e) => {
      clearTimeout(timer);
      reject(e);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      resolve({ code: code ?? (signal ? 128 : 1), stdout, stderr });
    });
  });
  return { child, result };
}

/** runCli + JSON.parse of stdout, with the output in the error when it is not JSON. */
export async function runCliJson<T = unknown>(args: string[], options: RunCliOptions = {}): Promise<CliResult & { json: T }> {
  const r = await runCli(args, options);
  try {
    return { ...r, json: JSON.parse(r.stdout) as T };
  } catch {
    throw new Error(`mlib ${args.join(" ")}: stdout is not JSON (exit ${r.code})\nstdout: ${r.stdout}\nstderr: ${r.stderr}`);
  }
}

/** True when the text holds a JavaScript stack frame (`    at fn (file:line:col)`). */
export function hasStackTrace(text: string): boolean {
  return /^\s+at .+(:\d+:\d+\)?|\(native\))$/m.test(text);
}
