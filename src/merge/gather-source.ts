// GATHER: the model folders of the source library, read only (the original opened the source as a library,
// which wrote an index into it). A folder with metadata.json is a model; other folders are walked.
// The one walker lists the containers (a few hundred); each model's metadata.json is opened, fstat'ed and read
// with synchronous calls, yielding to the event loop every YIELD_EVERY models: for many small files they cost a
// fraction of the promise versions (no thread-pool round trip per call), and one open + fstat finds the path
// once where a stat and then a read (which opens and fstats again) walked it twice.
import { realpathSync, statSync, type Stats } from "node:fs";
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { FileTooBigError, readTextFile } from "../core/read-text-file.js";
import { walkFolders } from "../core/walk.js";
import { METADATA_FILE } from "../store/layout.js";
import { MAX_METADATA_BYTES } from "../store/record.js";
import { linksIn, type FolderLink } from "./model-links.js";

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
  /** The symlinks in the folder (model-links.ts), or why it could not be listed. */
  links: FolderLink[];
  linksUnreadable: string | null;
}

/**
 * The source's models, sorted by folder. `onCount(n, then)` is called once when `n` models have been found (the
 * merge starts its index writer thread then, so the thread's start-up overlaps the rest of the reading).
 */
export async function gatherSource(root: string, signal?: AbortSignal, onCount?: { n: number; then: () => void }): Promise<SourceModel[]> {
  const out: SourceModel[] = [];
  let yielded = 0;
  await walkFolders(
    root,
    async ({ abs, rel, entries }) => {
      throwIfAborted(signal, "merge");
      for (const e of entries) if (e.isSymbolicLink()) linkedFolder(abs, rel ? `${rel}/${e.name}` : e.name, out);
      if (out.length - yielded >= YIELD_EVERY) {
        yielded = out.length;
        await new Promise((r) => setImmediate(r));
      }
    },
    {
      // A model is known by its metadata.json opening (read here, never listed); a container is entered
      // down to MAX_DEPTH (models up to that depth); an unreadable folder is as if empty.
      enter: (childDir, _e, childRel) => {
        const metaFile = join(childDir, METADATA_FILE);
        const read = readMetadata(metaFile);
        if (!read) return childRel.split("/").length < MAX_DEPTH;
        const { st, text } = read;
        let parsed: unknown = null;
        let error: string | null = null;
        try {
          if (typeof text !== "string") throw text;
          parsed = JSON.parse(text);
        } catch (err) {
          error = `${metaFile}: ${err instanceof SyntaxError ? "not valid JSON" : (err as Error).message}`;
        }
        // The folder is listed for its links (a rename would move them unchanged): one readdir a model.
        const { links, unreadable } = linksIn(childDir);
        out.push({ rel: childRel, dir: childDir, parsed, error, metaMtimeMs: st.mtimeMs, metaSize: st.size, dev: st.dev, links, linksUnreadable: unreadable });
        if (out.length === onCount?.n) onCount.then();
        return false;
      },
      unreadable: "skip",
    },
  );
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * A symlink to a folder (a model or a container kept elsewhere): not followed (what it points at is not the
 * source's to move), but reported, so it is not silently left behind while the merge says it took everything.
 */
function linkedFolder(container: string, rel: string, out: SourceModel[]): void {
  const dir = join(container, rel.slice(rel.lastIndexOf("/") + 1));
  const st = statSync(dir, { throwIfNoEntry: false });
  if (!st?.isDirectory()) return;
  let target = dir;
  try {
    target = realpathSync(dir);
  } catch {
    // named as it is
  }
  const error = `${dir}: a symlink to the folder ${target}, not followed: left in the source (move what it points at by hand, or merge that folder as a library of its own)`;
  out.push({ rel, dir, parsed: null, error, metaMtimeMs: 0, metaSize: 0, dev: st.dev, links: [], linksUnreadable: null });
}

/**
 * metadata.json's stat and text (or the read error), or null when the folder has no metadata.json file (a
 * container: nothing there, or not a file).
 */
function readMetadata(file: string): { st: Stats; text: string | Error } | null {
  try {
    return readTextFile(file, MAX_METADATA_BYTES);
  } catch (e) {
    // Too big: not read at all (a huge file would otherwise be read whole before it is refused).
    if (e instanceof FileTooBigError) {
      return { st: e.st, text: new Error(`${e.st.size} bytes: too big to be a model's metadata.json (the limit is ${MAX_METADATA_BYTES}); left in the source`) };
    }
    // There but not readable (permissions...): a model whose metadata.json is reported, not a container.
    const st = statSync(file, { throwIfNoEntry: false });
    return st?.isFile() ? { st, text: e as Error } : null;
  }
}
