// GATHER: the model folders of the source library, read only (the original opened the source as a library,
// which wrote an index into it). A folder with metadata.json is a model; other folders are walked.
// Synchronous calls, yielding to the event loop every YIELD_EVERY models: for many small files they cost a
// fraction of the promise versions (no thread-pool round trip per call), which is most of a merge's time.
import { readdirSync, readFileSync, statSync, type Dirent } from "node:fs";
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { METADATA_FILE } from "../store/layout.js";

const MAX_DEPTH = 8;
const YIELD_EVERY = 256;

export interface SourceModel {
  rel: string;
  dir: string;
  /** metadata.json as parsed, or the parse error. */
  parsed: unknown;
  error: string | null;
  metaMtimeMs: number;
  metaSize: number;
  dev: number;
}

export async function gatherSource(root: string, signal?: AbortSignal): Promise<SourceModel[]> {
  const out: SourceModel[] = [];
  async function visit(dir: string, rel: string, depth: number): Promise<void> {
    throwIfAborted(signal, "merge");
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const childDir = join(dir, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const metaFile = join(childDir, METADATA_FILE);
      const st = statSync(metaFile, { throwIfNoEntry: false });
      if (st?.isFile()) {
        let parsed: unknown = null;
        let error: string | null = null;
        try {
          parsed = JSON.parse(readFileSync(metaFile, "utf8"));
        } catch (err) {
          error = `${metaFile}: ${err instanceof SyntaxError ? "not valid JSON" : (err as Error).message}`;
        }
        out.push({ rel: childRel, dir: childDir, parsed, error, metaMtimeMs: st.mtimeMs, metaSize: st.size, dev: st.dev });
        if (out.length % YIELD_EVERY === 0) await new Promise((r) => setImmediate(r));
      } else if (depth < MAX_DEPTH) {
        await visit(childDir, childRel, depth + 1);
      }
    }
  }
  await visit(root, "", 1);
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
