// The original's in-place import (after a download, for an orphan folder) lists each file by its bare name, also
// one in a sub-folder (`model.onnx` for `onnx/model.onnx`). Where a listed name is not in the model folder as
// written, these are the files it may mean.
import { readdirSync, statSync, type Dirent } from "node:fs";
import { join } from "node:path";

/**
 * The files named `name` in the sub-folders of `dir`, as `/`-separated paths relative to it (hidden folders
 * skipped, links not followed, four levels at most). With `size`, only those of that size when any has it.
 */
export function filesByBareName(dir: string, name: string, size: number | null = null): string[] {
  const out: { rel: string; abs: string }[] = [];
  const walk = (abs: string, rel: string, depth: number) => {
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.name.startsWith(".")) continue;
      const childRel = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory() && depth < 4) walk(join(abs, e.name), childRel, depth + 1);
      else if (e.isFile() && e.name === name && rel !== "") out.push({ rel: childRel, abs: join(abs, e.name) });
    }
  };
  walk(dir, "", 0);
  return preferSize(out, size, (f) => statSync(f.abs, { throwIfNoEntry: false })?.size).map((f) => f.rel);
}

/** Of the files a bare name may mean, those of the recorded size when several are and any has it; else all of them. */
export function preferSize<T>(candidates: T[], size: number | null, sizeOf: (c: T) => number | undefined): T[] {
  if (size === null || candidates.length < 2) return candidates;
  const same = candidates.filter((c) => sizeOf(c) === size);
  return same.length > 0 ? same : candidates;
}
