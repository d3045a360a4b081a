// cli/signals.ts on its own, in a child process that receives real signals: a long-running command
// (untilInterrupted: watch, serve) ends with status 0 and no message on SIGINT/SIGTERM; an ordinary one
// gets 130/143; the signal is delivered to the operation as an AbortSignal.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { EVAL_LOADER, importPathFor } from "../helpers/cli.js";

const SIGNALS = importPathFor(fileURLToPath(new URL("../../src/cli/signals.ts", import.meta.url)));

// Mimics main.ts: handlers installed, the command run, the exit status taken from signals.ts.
function child(longRunning: boolean): string {
  return `
    import { installSignalHandlers, untilInterrupted, cliSignal, exitStatus, receivedSignal, stoppedLongRunning } from ${JSON.stringify(SIGNALS)};
    installSignalHandlers();
    const work = (signal) => new Promise((resolve, reject) => {
      const keepAlive = setInterval(() => undefined, 1000);
      process.stdout.write("ready\\n");
      signal.addEventListener("abort", () => { clearInterval(keepAlive); ${longRunning ? "resolve()" : 'reject(Object.assign(new Error("x cancelled"), { code: "E_CANCELLED" }))'}; });
    });
    try {
      ${longRunning ? "await untilInterrupted(work);" : "await work(cliSignal());"}
    } catch {}
    if (!stoppedLongRunning()) process.stderr.write("mlib: cancelled\\n");
    process.exitCode = receivedSignal() ? exitStatus(receivedSignal()) : 0;
  `;
}

async function run(longRunning: boolean, sig: NodeJS.Signals): Promise<{ code: number | null; stderr: string }> {
  const p = spawn(process.execPath, [...EVAL_LOADER, "--input-type=module", "-e", child(longRunning)], { stdio: ["ignore", "pipe", "pipe"] });
  let stderr = "";
  p.stderr.setEncoding("utf8").on("data", (d: string) => (stderr += d));
  await new Promise<void>((resolve) => p.stdout.once("data", () => resolve()));
  p.kill(sig);
  const code = await new Promise<number | null>((resolve) => p.on("close", (c) => resolve(c)));
  return { code, stderr };
}

test("a long-running command exits 0 on SIGINT and SIGTERM, without 'cancelled'", async () => {
  for (const sig of ["SIGINT", "SIGTERM"] as const) {
    const r = await run(true, sig);
    assert.equal(r.code, 0, `${sig}: ${r.stderr}`);
    assert.equal(r.stderr, "");
  }
});

test("an ordinary command: 130 on SIGINT, 143 on SIGTERM, 'cancelled'", async () => {
  for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
    const r = await run(false, sig);
    assert.equal(r.code, code, `${sig}: ${r.stderr}`);
    assert.equal(r.stderr, "mlib: cancelled\n");
  }
});
