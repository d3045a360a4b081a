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
  if (size !== null && out.length > 1) {
    const same = out.filter((f) => statSync(f.abs, { throwIfNoEntry: false })?.size === size);
    if (same.length > 0) return same.map((f) => f.rel);
  }
  return out.map((f) => f.rel);
}
