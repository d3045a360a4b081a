// The merge's ceiling on this machine (issue 12): the least any merge that reads each metadata.json, lists each
// model folder (for the links a rename would break) and writes each index row can take, measured with a pipeline
// that does only that, with every overlap the work allows. The main thread lists the folders and renames them; a
// second thread reads and parses the metadata.json files as the list comes in, and writes the rows into one open
// transaction while the main thread waits for the fields and renames; the rows commit after the last rename. Left
// out, so it is a lower bound: the plan's checks (duplicates, shards, pickles, links), the journal's content, the
// error handling, the progress events.
import { mkdirSync, openSync, closeSync, fsyncSync, readdirSync, renameSync, writeFileSync } from "node:fs";
import path from "node:path";
import { Worker } from "node:worker_threads";

export interface CeilingRun {
  ms: number;
  /** Milestones, ms from the start: listed, fields, journal, renamed, rows, committed. */
  marks: Record<string, number>;
}

interface Reply {
  ready?: true;
  fields?: { rel: string }[];
  rowsDone?: number;
  committed?: true;
}

/** Moves every model folder of `source` (a `<type>/<family>/<model>` tree) into `dest`, with `dest`'s index rows. */
export async function mergeCeiling(built: string, source: string, dest: string): Promise<CeilingRun> {
  const t0 = performance.now();
  const marks: Record<string, number> = {};
  const mark = (name: string) => (marks[name] = Math.round(performance.now() - t0));
  const worker = new Worker(new URL("./merge-ceiling-worker.mjs", import.meta.url), { workerData: { built, source, dest }, execArgv: [] });
  let fields = 0;
  let rowsDone = 0;
  let committed = false;
  let failed: Error | null = null;
  let wake: (() => void) | null = null;
  worker.on("message", (m: Reply) => {
    fields += m.fields?.length ?? 0;
    rowsDone += m.rowsDone ?? 0;
    committed ||= m.committed === true;
    wake?.();
  });
  worker.on("error", (e) => {
    failed = e;
    wake?.();
  });
  const until = async (done: () => boolean) => {
    while (!done()) {
      if (failed) throw failed;
      await new Promise<void>((r) => (wake = r));
    }
  };
  // GATHER: each model folder listed here, its metadata.json read in the second thread.
  const rels: string[] = [];
  let batch: string[] = [];
  for (const type of readdirSync(source)) {
    for (const family of readdirSync(path.join(source, type))) {
      for (const e of readdirSync(path.join(source, type, family), { withFileTypes: true })) {
        if (!e.isDirectory()) continue;
        const rel = `${type}/${family}/${e.name}`;
        const entries = readdirSync(path.join(source, rel), { withFileTypes: true });
        if (entries.some((x) => x.isSymbolicLink()) || !entries.some((x) => x.name === "metadata.json")) continue;
        rels.push(rel);
        batch.push(rel);
        if (batch.length === 250) {
          worker.postMessage({ rels: batch });
          batch = [];
        }
      }
    }
  }
  worker.postMessage({ rels: batch });
  mark("listed");
  await until(() => fields === rels.length);
  mark("fields");
  // The plan is the list itself; the journal is written and fsynced once.
  const journal = path.join(dest, "journal.json");
  writeFileSync(journal, JSON.stringify(rels));
  const fd = openSync(journal, "r");
  fsyncSync(fd);
  closeSync(fd);
  mark("journal");
  const parents = new Set<string>();
  for (const rel of rels) {
    const to = path.join(dest, rel);
    const parent = path.dirname(to);
    if (!parents.has(parent)) {
      mkdirSync(parent, { recursive: true });
      parents.add(parent);
    }
    renameSync(path.join(source, rel), to);
  }
  mark("renamed");
  await until(() => rowsDone === rels.length);
  mark("rows");
  worker.postMessage({ commit: true });
  await until(() => committed);
  mark("committed");
  await worker.terminate();
  return { ms: performance.now() - t0, marks };
}
