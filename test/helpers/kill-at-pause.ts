// Runs `mlib ARGS` with MLIB_TEST_PAUSE_AT=<moment> (core/atomic-json.ts: the writer of that JSON file stops at that
// moment and says so on stderr) and kills it with SIGKILL the moment it has stopped there. Rejects when the
// command ended on its own first (the moment was never reached).
import { startCli, type RunCliOptions } from "./cli.js";

export async function killAtPause(args: string[], moment: string, options: RunCliOptions = {}): Promise<void> {
  const { child, result } = startCli(args, { ...options, env: { ...options.env, MLIB_TEST_PAUSE_AT: moment } });
  let seen = "";
  child.stderr!.on("data", (d: Buffer | string) => {
    seen += String(d);
    if (seen.includes("MLIB_TEST_PAUSED ")) child.kill("SIGKILL");
  });
  const r = await result;
  if (!seen.includes("MLIB_TEST_PAUSED ")) {
    throw new Error(`mlib ${args.join(" ")} ended (exit ${r.code}) before ${moment}:\n${r.stdout}${r.stderr}`);
  }
}
