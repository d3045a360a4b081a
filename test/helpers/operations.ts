// What the operation tests share: a temp library, an AbortController fired from inside an operation's progress
// (so "mid-way" is a real point of the run, not a timer), and the checks that a cancelled run left nothing behind.
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary, type ProgressEvent } from "../../src/index.js";
import { STAGING_DIR } from "../../src/store/layout.js";
import { tempDir } from "./library-fixtures.js";

export async function withTempLibrary<T>(fn: (lib: ModelLibrary, src: string, root: string) => Promise<T>): Promise<T> {
  const t = tempDir("mlib-ops-");
  const root = join(t.dir, "lib");
  const lib = await ModelLibrary.open(root);
  try {
    return await fn(lib, join(t.dir, "src"), root);
  } finally {
    lib.close();
    t.cleanup();
  }
}

/** An AbortController whose `onProgress` fires it on the first event `when` accepts (and records every event). */
export function abortWhen(when: (e: ProgressEvent, seen: ProgressEvent[]) => boolean): {
  signal: AbortSignal;
  onProgress: (e: ProgressEvent) => void;
  events: ProgressEvent[];
  fired: () => boolean;
} {
  const controller = new AbortController();
  const events: ProgressEvent[] = [];
  return {
    signal: controller.signal,
    events,
    fired: () => controller.signal.aborted,
    onProgress: (e) => {
      events.push(e);
      if (!controller.signal.aborted && when(e, events)) controller.abort();
    },
  };
}

/** An already-fired signal: the operation must refuse to start. */
export function abortedSignal(): AbortSignal {
  const c = new AbortController();
  c.abort();
  return c.signal;
}

export async function assertCancelled(run: Promise<unknown>): Promise<void> {
  await assert.rejects(run, (e: Error & { code?: string }) => {
    assert.equal(e.code, "E_CANCELLED", `expected E_CANCELLED, got ${e.code}: ${e.message}`);
    return true;
  });
}

/** Every staging folder or lease under the library's `.model-library/staging/` (none may be left once an operation returns or throws). */
export function stagingLeft(root: string): string[] {
  const dir = join(root, ...STAGING_DIR.split("/"));
  return existsSync(dir) ? readdirSync(dir) : [];
}

/** Model folders (holding metadata.json) under root, up to the layout's depth of 3, as ids. */
export function modelFolders(root: string): string[] {
  const ids: string[] = [];
  const walk = (rel: string[], depth: number) => {
    const abs = join(root, ...rel);
    if (existsSync(join(abs, "metadata.json"))) return void ids.push(rel.join("/"));
    if (depth === 3) return;
    for (const e of readdirSync(abs, { withFileTypes: true })) if (e.isDirectory() && !e.name.startsWith(".")) walk([...rel, e.name], depth + 1);
  };
  walk([], 0);
  return ids.sort();
}

/** The index lists exactly the model folders on disk, and a full reconcile has nothing to fix. */
export async function assertIndexConsistent(lib: ModelLibrary): Promise<void> {
  assert.deepEqual(lib.allIds(), modelFolders(lib.root), "the index lists exactly the model folders");
  const report = await lib.reconcile("full");
  assert.deepEqual([report.added, report.updated, report.removed, report.problems.length], [0, 0, 0, 0], "a full reconcile finds nothing to fix");
}
