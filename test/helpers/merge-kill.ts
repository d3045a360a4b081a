// Runs test/helpers/merge-child.ts with `args` and kills it with SIGKILL the moment it prints STOP (its chosen
// point inside a merge); resolves once it is dead, rejects if it ended on its own first.
import { spawn } from "node:child_process";
import path from "node:path";
import { REPO_ROOT, nodeArgvFor } from "./cli.js";

const CHILD = path.join(REPO_ROOT, "test", "helpers", "merge-child.ts");

export function runMergeUntilStopThenKill(args: string[]): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...nodeArgvFor(CHILD), ...args], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let out = "";
    let err = "";
    child.stderr.on("data", (d) => (err += d));
    child.stdout.on("data", (d) => {
      out += d;
      if (out.includes("STOP")) child.kill("SIGKILL");
    });
    child.on("exit", (code, signal) => {
      if (signal === "SIGKILL") resolve();
      else reject(new Error(`the merge child ended before the kill point (${code}): ${out} ${err}`));
    });
  });
}
