// Issue 12's merge benchmark on its own (the merge part of bench/watch.ts): 10,000 models merged on one
// filesystem vs an fs.renameSync loop over the same folders, in the same run. BENCH_MERGE_MODELS sets the count.
import type { BenchResult } from "./lib.js";
import { mergeSpeed } from "./watch.js";

export function run(): Promise<BenchResult[]> {
  return mergeSpeed();
}
