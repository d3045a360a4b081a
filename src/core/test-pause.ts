// TEST ONLY (test/unit/killed/): a process can be stopped at a named moment of a write, so a test kills it with
// SIGKILL exactly there. MLIB_TEST_PAUSE_AT=<moment>:<file name>, e.g. `before-rename:metadata.json`: the writer of
// that file says `MLIB_TEST_PAUSED <path>` on stderr and stops for good at that moment. Never set it otherwise.
// With MLIB_TEST_PAUSE_RESUMABLE=1 it stops itself with SIGSTOP instead, and goes on when the test sends SIGCONT
// (a two-process test holds it in the middle of a step; stderr is a pipe, written synchronously before the stop).
import * as path from "node:path";

export type PauseMoment = "before-rename" | "after-rename";

let resumed = false;

export function pauseForTest(moment: PauseMoment, file: string): void {
  if (resumed || process.env.MLIB_TEST_PAUSE_AT !== `${moment}:${path.basename(file)}`) return;
  process.stderr.write(`MLIB_TEST_PAUSED ${file}\n`);
  if (process.env.MLIB_TEST_PAUSE_RESUMABLE === "1") {
    resumed = true; // once: the writes after it go on
    process.kill(process.pid, "SIGSTOP");
    return;
  }
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
