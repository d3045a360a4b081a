// GATHER: the model folders of the source library, read only (the original opened the source as a library,
// which wrote an index into it). A folder with metadata.json is a model; other folders are walked.
import { readdir, readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { METADATA_FILE } from "../store/layout.js";

const MAX_DEPTH = 8;

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
    const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
    for (const e of entries) {
      if (!e.isDirectory() || e.name.startsWith(".")) continue;
      const childDir = join(dir, e.name);
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      const metaFile = join(childDir, METADATA_FILE);
      const st = await stat(metaFile).catch(() => null);
      if (st?.isFile()) {
        let parsed: unknown = null;
        let error: string | null = null;
        try {
          parsed = JSON.parse(await readFile(metaFile, "utf8"));
        } catch (err) {
          error = `${metaFile}: ${err instanceof SyntaxError ? "not valid JSON" : (err as Error).message}`;
        }
        out.push({ rel: childRel, dir: childDir, parsed, error, metaMtimeMs: st.mtimeMs, metaSize: st.size, dev: st.dev });
      } else if (depth < MAX_DEPTH) {
        await visit(childDir, childRel, depth + 1);
      }
    }
  }
  await visit(root, "", 1);
  return out.sort((a, b) => (a.rel < b.rel ? -1 : a.rel > b.rel ? 1 : 0));
}
