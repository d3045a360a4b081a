// What processes leave behind: import staging of dead processes, the original's `.tmp_import_*` folders,
// a stopped merge, `.part` files nobody can resume.
import { readdir, readFile, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { isJsonTempName } from "../core/atomic-json.js";
import { judgeLease, leaseTimings, parseOwner } from "../core/lease.js";
import { ORIGINAL_STAGING_QUIET_MS } from "../store/model-library.js";
import { newestMtime, stagingVerdict } from "../store/staging.js";
import type { DoctorProblem } from "./doctor-types.js";

// The staging layouts: `<root>/.staging/<pid>-<rand>` (before `.model-library/`) and `<root>/.model-library/staging/`
// with a `<name>.lease` renewed every ~10 s by its owner (store/staging.ts). Opening the library already removes
// what is provably dead; doctor reports (and --fix removes) what is left and no longer live, by the same rule.
const STAGING_ROOTS = [".staging", join(".model-library", "staging")];
const LEGACY_STAGING_PREFIX = ".tmp_import_";
// The merge journal (merge/merge-journal.ts): read by path, doctor does not import the merge feature.
const MERGE_JOURNAL = join(".model-library", "merge-journal.json");
const MERGE_STAGING = join(".model-library", "merge-staging");
const MERGE_LOCK = join(".model-library", "merge.lock");

export async function checkHousekeeping(root: string, notices?: DoctorProblem[]): Promise<DoctorProblem[]> {
  const out: DoctorProblem[] = [];
  for (const rel of STAGING_ROOTS) {
    const dir = join(root, rel);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const name of names) {
      // A lease, or its temp file (opening the library judges those: store/staging.ts).
      if (name.endsWith(".lease") || name.endsWith(".lease.tmp")) continue;
      const path = join(dir, name);
      // The rule opening a library applies (store/staging.ts): a lease, else the age of the newest entry.
      const verdict = stagingVerdict(path, names.includes(`${name}.lease`) ? `${path}.lease` : null);
      if (verdict.state === "live") continue;
      out.push({
        kind: "staging-dead",
        path,
        message: `import staging nobody owns any more: ${verdict.why}`,
        remedy: "remove it (nothing in it was committed to the library)",
        fix: async () => {
          await rm(path, { recursive: true, force: true });
          await rm(`${path}.lease`, { force: true });
          return `removed ${path}`;
        },
      });
    }
  }
  for (const name of await readdir(root).catch(() => [] as string[])) {
    if (!name.startsWith(LEGACY_STAGING_PREFIX)) continue;
    const path = join(root, name);
    // Changed within the hour: most likely an import the original is doing now, which is nothing wrong (doctor
    // exited 1 whenever the original was importing); a notice, as opening the library keeps quiet about it.
    const fresh = Date.now() - newestMtime(path) < ORIGINAL_STAGING_QUIET_MS;
    (fresh && notices ? notices : out).push({
      kind: "original-staging",
      path,
      message: fresh
        ? `${path}: staging folder of the original model library, changed within the hour: an import it is doing now, most likely`
        : "staging folder of the original model library (an import it did not finish, or one it is doing now)",
      remedy: "left alone (it is the original's): once the original is not running, remove it by hand if you do not need it",
    });
  }
  // Temp files of our own JSON files (downloads.json, link_journal.json, ...); those in the root and the model
  // folders are found by the walk of check-models.
  for (const name of await readdir(join(root, ".model-library")).catch(() => [] as string[])) {
    const problem = await jsonTempProblem(join(root, ".model-library", name), name);
    if (problem) out.push(problem);
  }
  const journal = await readFile(join(root, MERGE_JOURNAL), "utf8").catch(() => null);
  if (journal !== null) {
    let source = "the source";
    try {
      source = (JSON.parse(journal) as { source?: string }).source ?? source;
    } catch {
      // reported anyway
    }
    // Its lock held by a live process: the merge is running now, not stopped (its lock: core/lock.ts, a lease).
    const running = await readFile(join(root, MERGE_LOCK), "utf8")
      .then(async (text) => judgeLease(parseOwner(text), (await stat(join(root, MERGE_LOCK))).mtimeMs, leaseTimings()).state === "live")
      .catch(() => false);
    out.push({
      kind: "merge-unfinished",
      path: join(root, MERGE_JOURNAL),
      message: running ? `a merge from ${source} is running now` : `a merge from ${source} was stopped before it finished`,
      remedy: running ? "wait for it to finish, then run the doctor again" : `run \`mlib merge ${source}\` to finish it (it follows the recorded plan)`,
    });
  } else if (await stat(join(root, MERGE_STAGING)).catch(() => null)) {
    out.push({
      kind: "staging-dead",
      path: join(root, MERGE_STAGING),
      message: "copies of a merge that has no journal any more",
      remedy: "remove it",
      fix: async () => {
        await rm(join(root, MERGE_STAGING), { recursive: true, force: true });
        return `removed ${join(root, MERGE_STAGING)}`;
      },
    });
  }
  return out;
}

/** `.part` files with no part record (`<file>.part.json`) beside them: no download can resume them. */
export function partProblem(path: string, siblings: Set<string>, name: string): DoctorProblem | null {
  if (!name.endsWith(".part") || siblings.has(`${name}.json`)) return null;
  return {
    kind: "part-without-download",
    path,
    message: "a partial download with no part record: no download can resume it",
    remedy: "download the file again (the partial file is not used), then delete this one by hand",
  };
}

// The temp file of an atomic JSON write (core/atomic-json.ts: `.<name>.json.<pid>.<12 hex>.tmp`, and
// `.<name>.json.bak.<pid>.<12 hex>.tmp` for its backup). A live writer renames it within moments; one older than a
// lease's expiry was left by a process killed mid-write (its content never became the file): nothing else removes it.
/** A temp file a killed JSON write left (older than a lease's expiry), or null. */
export async function jsonTempProblem(path: string, name: string): Promise<DoctorProblem | null> {
  if (!isJsonTempName(name)) return null;
  const st = await stat(path).catch(() => null);
  if (!st?.isFile() || Date.now() - st.mtimeMs < leaseTimings().expireMs) return null;
  return {
    kind: "temp-left",
    path,
    message: "the temp file of a write a killed process never finished (the file it was for is whole without it)",
    remedy: "remove it",
    fix: async () => {
      await rm(path, { force: true });
      return `removed ${path}`;
    },
  };
}
