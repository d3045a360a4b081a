// Transpiles src/ once per test run into a temporary dist/-style folder, so the tests that run `mlib` as a real
// process start plain node on JavaScript (as users do) instead of node + the tsx loader: ~0.1 s of CPU per
// process instead of ~0.4 s, and the suite starts a few hundred of them. The same esbuild that tsx uses does the
// transpiling (per file, no bundling), so the code that runs is what tsx would run.
//
// The folder mirrors the package: <dir>/dist/... (src/ laid out as tsconfig.build.json does), <dir>/package.json
// (the version, "type": "module"), and links to node_modules and build/ (the native copy_range addon), so every
// path the code finds relative to itself (../../package.json, ../../build/Release, ./web/) is where dist/ has it.
import { cpSync, mkdtempSync, readdirSync, rmSync, statSync, symlinkSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

const repo = fileURLToPath(new URL("..", import.meta.url));

function tsFiles(dir, out = []) {
  for (const name of readdirSync(dir)) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) tsFiles(p, out);
    else if (name.endsWith(".ts") && !name.endsWith(".d.ts")) out.push(p);
  }
  return out;
}

/** Builds the CLI; returns { dir, main } (remove dir when done). Throws when esbuild is not there. */
export async function buildTestCli() {
  // esbuild comes with tsx (a dev dependency); found through tsx so it is tsx's own copy.
  const esbuildPath = createRequire(createRequire(join(repo, "package.json")).resolve("tsx")).resolve("esbuild");
  const esbuild = await import(pathToFileURL(esbuildPath).href);
  const dir = mkdtempSync(join(tmpdir(), "mlib-test-cli-"));
  try {
    const out = join(dir, "dist");
    await esbuild.build({
      entryPoints: tsFiles(join(repo, "src")),
      outdir: out,
      outbase: join(repo, "src"),
      format: "esm",
      platform: "node",
      target: "node20",
      tsconfig: join(repo, "tsconfig.json"),
      logLevel: "error",
    });
    cpSync(join(repo, "src", "server", "web"), join(out, "server", "web"), { recursive: true });
    cpSync(join(repo, "package.json"), join(dir, "package.json"));
    symlinkSync(join(repo, "node_modules"), join(dir, "node_modules"));
    symlinkSync(join(repo, "build"), join(dir, "build"));
    return { dir, main: join(out, "cli", "main.js") };
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
}
