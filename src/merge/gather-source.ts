// GATHER: the model folders of the source library, read only (the original opened the source as a library,
// which wrote an index into it). A folder with metadata.json is a model; other folders are walked.
// The one walker lists the containers (a few hundred); each model's metadata.json is opened, fstat'ed and read
// with synchronous calls, yielding to the event loop every YIELD_EVERY models: for many small files they cost a
// fraction of the promise versions (no thread-pool round trip per call), and one open + fstat finds the path
// once where a stat and then a read (which opens and fstats again) walked it twice.
import { closeSync, fstatSync, openSync, readSync, statSync, type Stats } from "node:fs";
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

/**
 * The source's models, sorted by folder. `onCount(n, then)` is called once when `n` models have been found (the
 * merge starts its index writer thread then, so the thread's start-up overlaps the rest of the reading).
 */
export async function gatherSource(root: string, signal?: AbortSignal, onCount?: { n: number; then: () => void }): Promise<SourceModel[]> {
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
        out.push({ rel: childRel, dir: childDir, parsed, error, metaMtimeMs: st.mtimeMs, metaSize: st.size, dev: st.dev });
        if (out.length === onCount?.n) onCount.then();
        return false;
      },
      unreadable: "skip",
    },
  );
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}

/**
 * metadata.json's stat and text (or the read error), or null when the folder has no metadata.json file (a
 * container: nothing there, or not a file).
 */
function readMetadata(file: string): { st: Stats; text: string | Error } | null {
  let fd: number;
  try {
    fd = openSync(file, "r");
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    // There but not readable (permissions...): a model whose metadata.json is reported, not a container.
    const st = statSync(file, { throwIfNoEntry: false });
    return st?.isFile() ? { st, text: e as Error } : null;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    try {
      return { st, text: readAll(fd, st.size) };
    } catch (e) {
      return { st, text: e as Error };
    }
  } finally {
    closeSync(fd);
  }
}

/**
 * The whole file as UTF-8: `size` bytes expected, one byte more asked so that one read normally sees the end;
 * otherwise (a short read, a file that grew meanwhile) read on until a read returns nothing.
 */
function readAll(fd: number, size: number): string {
  let buf = Buffer.allocUnsafe(size + 1);
  let n = 0;
  for (;;) {
    const want = buf.length - n;
    const got = readSync(fd, buf, n, want, null);
    n += got;
    // The common end: all the bytes fstat counted, in a read that came back short (so at the end of the file).
    if (got === 0 || (got < want && n === size)) return buf.toString("utf8", 0, n);
    if (n < buf.length) continue;
    const bigger = Buffer.allocUnsafe(buf.length * 2);
    buf.copy(bigger, 0, 0, n);
    buf = bigger;
  }
}
