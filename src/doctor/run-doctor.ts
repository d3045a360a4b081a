// runDoctor: one report of everything that can be wrong with a library, each problem with its remedy;
// with `fix`, the safe fixes are applied (removing only what is ours and dead, or adding data: hashes, a
// metadata.json for adopted files, a restored backup, index rows) and the checks run again, so the result
// lists what remains. `checks` is where other features add theirs (the mapper: broken or changed links).
import { isCancelled, throwIfAborted } from "../core/errors.js";
import type { OperationOptions } from "../operations/types.js";
import type { ModelLibrary } from "../store/model-library.js";
import { checkHousekeeping } from "./check-housekeeping.js";
import { checkModels } from "./check-models.js";
import { checkOrphans } from "./check-orphans.js";
import type { DoctorCheck, DoctorFixed, DoctorProblem, DoctorResult } from "./doctor-types.js";

export interface DoctorParams {
  /** Apply the safe fixes. */
  fix?: boolean;
  /** More checks (extension point: the mapper's link registry adds broken/changed links here). */
  checks?: DoctorCheck[];
}

export async function runDoctor(lib: ModelLibrary, params: DoctorParams = {}, options: OperationOptions = {}): Promise<DoctorResult> {
  const { signal } = options;
  let found = await findProblems(lib, params.checks ?? [], options);
  const fixed: DoctorFixed[] = [];
  const fixErrors: DoctorResult["fixErrors"] = [];
  if (params.fix) {
    // The index last: the other fixes write metadata.json files it must then agree with.
    const order = [...found.problems].sort((a, b) => Number(a.kind === "index-out-of-step") - Number(b.kind === "index-out-of-step"));
    let done = 0;
    for (const p of order) {
      if (!p.fix) continue;
      throwIfAborted(signal, "doctor");
      options.onProgress?.({ op: "doctor", phase: "fix", item: p.path, done: done++, unit: "items" });
      try {
        fixed.push({ kind: p.kind, path: p.path, did: await p.fix(signal) });
      } catch (e) {
        if (isCancelled(e)) throw e; // stopped half-way through a fix (a long hash): nothing of it was recorded
        fixErrors.push({ kind: p.kind, path: p.path, error: (e as Error).message });
      }
    }
    if (fixed.length > 0) found = await findProblems(lib, params.checks ?? [], options);
  }
  return {
    problems: found.problems.map(({ fix: _fix, ...rest }) => rest),
    notices: found.notices,
    fixed,
    fixErrors,
    fixable: found.problems.filter((p) => p.fix).length,
    modelsChecked: found.models,
  };
}

async function findProblems(lib: ModelLibrary, checks: DoctorCheck[], options: OperationOptions): Promise<{ problems: DoctorProblem[]; notices: DoctorProblem[]; models: number }> {
  const progress = (phase: string) => options.onProgress?.({ op: "doctor", phase });
  progress("housekeeping");
  const notices: DoctorProblem[] = [];
  const problems = await checkHousekeeping(lib.root, notices);
  progress("models");
  const models = await checkModels(lib, options.signal);
  notices.push(...models.notices);
  problems.push(...models.problems);
  progress("orphans");
  problems.push(...(await checkOrphans(lib)));
  for (const c of checks) {
    throwIfAborted(options.signal, "doctor");
    progress(c.name);
    problems.push(...(await c.run(options.signal)));
  }
  return { problems, notices, models: models.models };
}
