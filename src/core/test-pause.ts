// TEST ONLY (test/unit/killed/): a process can be stopped at a named moment of a write, so a test kills it with
// SIGKILL exactly there. MLIB_TEST_PAUSE_AT=<moment>:<file name>, e.g. `before-rename:metadata.json`: the writer of
// that file says `MLIB_TEST_PAUSED <path>` on stderr and stops for good at that moment. Never set it otherwise.
import * as path from "node:path";

export type PauseMoment = "before-rename" | "after-rename";

export function pauseForTest(moment: PauseMoment, file: string): void {
  if (process.env.MLIB_TEST_PAUSE_AT !== `${moment}:${path.basename(file)}`) return;
  process.stderr.write(`MLIB_TEST_PAUSED ${file}\n`);
  for (;;) Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 60_000);
}
