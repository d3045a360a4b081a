// GATHER: the model folders of the source library, read only (the original opened the source as a library,
// which wrote an index into it). A folder with metadata.json is a model; other folders are walked.
// The one walker lists the containers (a few hundred); each model's metadata.json is stat'ed and read with
// synchronous calls, yielding to the event loop every YIELD_EVERY models: for many small files they cost a
// fraction of the promise versions (no thread-pool round trip per call), which is most of a merge's time.
import { readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { walkFolders } from "../core/walk.js";
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
  let yielded = 0;
  await walkFolders(
    root,
    async () => {
      throwIfAborted(signal, "merge");
      if (out.length - yielded >= YIELD_EVERY) {
        yielded = out.length;
        await new Promise((r) => setImmediate(r));
      }
    },
    {
      // A model is known by one stat of its metadata.json (read here, never listed); a container is entered
      // down to MAX_DEPTH (models up to that depth); an unreadable folder is as if empty.
      enter: (childDir, _e, childRel) => {
        const metaFile = join(childDir, METADATA_FILE);
        const st = statSync(metaFile, { throwIfNoEntry: false });
        if (!st?.isFile()) return childRel.split("/").length < MAX_DEPTH;
        let parsed: unknown = null;
        let error: string | null = null;
        try {
          parsed = JSON.parse(readFileSync(metaFile, "utf8"));
        } catch (err) {
          error = `${metaFile}: ${err instanceof SyntaxError ? "not valid JSON" : (err as Error).message}`;
        }
        out.push({ rel: childRel, dir: childDir, parsed, error, metaMtimeMs: st.mtimeMs, metaSize: st.size, dev: st.dev });
        return false;
      },
      unreadable: "skip",
    },
  );
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
