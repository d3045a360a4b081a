// Importing from inside the library, or a folder the library is in, would take stored files as new sources
// (with --mode move --allow-duplicate: moving them out of their models). Both are refused before anything is read.
import { realpath } from "node:fs/promises";
import { relative, resolve, sep } from "node:path";
import { ModelLibraryError } from "../core/errors.js";

const inside = (rel: string) => rel !== "" && !rel.startsWith("..") && !rel.startsWith(sep) && rel !== "..";

/** The reason `path` may not be imported into the library at `root`, or null. */
export async function libraryOverlap(root: string, path: string): Promise<ModelLibraryError | null> {
  const real = async (p: string) => realpath(p).catch(() => resolve(p));
  const [lib, src] = await Promise.all([real(root), real(path)]);
  if (src === lib || inside(relative(lib, src))) {
    return new ModelLibraryError(
      "E_INVALID",
      `${path}: is inside the library (${root}): its files are already stored; nothing was imported ` +
        `(for a folder there without metadata.json, use \`mlib adopt\`)`,
      { path },
    );
  }
  const down = relative(src, lib);
  // A walk skips hidden folders: a library under ~/.local/share is not reached from ~ and is no reason to refuse.
  if (inside(down) && !down.split(sep).some((part) => part.startsWith("."))) {
    return new ModelLibraryError(
      "E_INVALID",
      `${path}: contains the library (${root}): importing it would take stored models as new sources; ` +
        `import the folders beside the library instead`,
      { path },
    );
  }
  return null;
}
