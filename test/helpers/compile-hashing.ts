// Compiles the hashing layer alone with tsc and the project's options into `out` (laid out as dist/ holds it),
// then makes the folder importable by plain `node`: a package.json marking ES modules and a link to
// node_modules. The compiled-output test and bench/hash.ts both run what users run this way.
import { spawnSync } from "node:child_process";
import { symlinkSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");

/** tsc's exit status and output; on success `indexJs` is the compiled hashing/index.js. */
export function compileHashingLayer(out: string): { status: number | null; output: string; indexJs: string } {
  const res = spawnSync(
    process.execPath,
    [
      path.join(repoRoot, "node_modules/typescript/bin/tsc"),
      ...["--outDir", out, "--rootDir", path.join(repoRoot, "src"), "--module", "NodeNext", "--moduleResolution", "NodeNext"],
      ...["--target", "ES2022", "--lib", "ES2023", "--types", "node", "--strict", "--skipLibCheck", "--esModuleInterop"],
      path.join(repoRoot, "src/hashing/index.ts"),
      path.join(repoRoot, "src/hashing/hash-worker.ts"),
    ],
    { cwd: repoRoot, encoding: "utf8" },
  );
  if (res.status === 0) {
    writeFileSync(path.join(out, "package.json"), '{ "type": "module" }');
    symlinkSync(path.join(repoRoot, "node_modules"), path.join(out, "node_modules"));
  }
  return { status: res.status, output: `${res.stdout}${res.stderr}`, indexJs: path.join(out, "hashing/index.js") };
}
