// Symlinks inside a source model's folder, and whether the model can move into the library with them.
// A rename keeps a link's text, not what it pointed at: a relative link that leaves the folder
// (`model.gguf -> ../../shared/x.gguf`, as users deduplicate by hand) then points at whatever sits at that place in
// the library (usually nothing), an absolute link back into the folder points into the source the folder has left,
// and a link to another file of the source breaks once that file is moved or removed — the library would hold a
// model with no bytes while the merge reported it moved. So such a model is left in the source, with the reason,
// and the file a link of it points at is not moved or removed either. A link that stays inside the folder moves
// with it (a rename keeps it valid; a copy re-makes it), as does one to a file outside the source that it still
// reaches from the library.
import { readdirSync, readlinkSync, realpathSync, type Dirent } from "node:fs";
import { dirname, isAbsolute, join, posix, resolve, sep } from "node:path";
import { statOrNull } from "../core/stat-or-null.js";

/** A symlink in a model folder: its path from the folder (`/`-separated) and its text. */
export interface FolderLink {
  rel: string;
  text: string;
}

// Model folders are shallow (a diffusers folder: two levels); a deeper tree is not checked, nor moved blind.
const MAX_DEPTH = 8;

/**
 * The symlinks in a model folder, hidden entries too (a rename moves everything), or the reason it cannot be
 * listed: a folder whose links cannot be seen is not moved blind.
 */
export function linksIn(dir: string): { links: FolderLink[]; unreadable: string | null } {
  const links: FolderLink[] = [];
  const walk = (abs: string, rel: string, depth: number): string | null => {
    let entries: Dirent[];
    try {
      entries = readdirSync(abs, { withFileTypes: true });
    } catch (e) {
      return `${abs}: cannot be listed (${(e as NodeJS.ErrnoException).code ?? (e as Error).message}), so its links cannot be checked`;
    }
    for (const e of entries) {
      if (e.isSymbolicLink()) {
        const childRel = rel ? `${rel}/${e.name}` : e.name;
        try {
          links.push({ rel: childRel, text: readlinkSync(join(abs, e.name)) });
        } catch (err) {
          return `${join(abs, e.name)}: a link that cannot be read (${(err as NodeJS.ErrnoException).code})`;
        }
      } else if (e.isDirectory()) {
        // A rename would move what lies deeper too, unchecked: such a folder is not taken blind.
        if (depth + 1 > MAX_DEPTH) return `${join(abs, e.name)}: folders nested more than ${MAX_DEPTH} deep in a model folder, whose links cannot all be checked`;
        const why = walk(join(abs, e.name), rel ? `${rel}/${e.name}` : e.name, depth + 1);
        if (why) return why;
      }
    }
    return null;
  };
  const unreadable = walk(dir, "", 0);
  return { links, unreadable };
}

/** Whether a link's text, read from its place in the folder, stays inside the folder (`sub/../x` does; `../m/x` does not). */
export function staysInside(link: FolderLink): boolean {
  if (isAbsolute(link.text)) return false;
  const p = posix.normalize(posix.join(posix.dirname(link.rel), link.text));
  return p !== ".." && !p.startsWith("../");
}

/** `p` is `dir` or below it (both absolute, normalized). */
export function isInside(dir: string, p: string): boolean {
  return p === dir || p.startsWith(dir.endsWith(sep) ? dir : dir + sep);
}

function realOrNull(p: string): string | null {
  try {
    return realpathSync(p);
  } catch {
    return null;
  }
}

export interface LinkPlace {
  /** The model's folder in the source, its real path. */
  modelDir: string;
  /** The source library's real path (and as given, when that differs). */
  sources: string[];
  /** Where the model's folder goes in the library (the library's real path + its id). */
  destDir: string;
}

/** The file a link leads to (real path) when it leaves its folder into the source: what must then stay where it is. */
export function sourceTargetOf(link: FolderLink, place: Omit<LinkPlace, "destDir">): string | null {
  if (staysInside(link)) return null;
  const abs = join(place.modelDir, ...link.rel.split("/"));
  const real = realOrNull(abs) ?? resolve(dirname(abs), link.text);
  if (isInside(place.modelDir, real)) return null;
  return place.sources.some((s) => isInside(s, real)) ? real : null;
}

/** Why the model cannot move into the library with this link in it, or null when it can. */
export function linkProblem(link: FolderLink, place: LinkPlace): string | null {
  const abs = join(place.modelDir, ...link.rel.split("/"));
  const left = "left in the source";
  if (staysInside(link)) {
    // Inside the folder, it moves with it; it must lead somewhere now (no dangling link is taken into the library).
    return statOrNull(abs) ? null : `${left}: ${abs} is a link to ${link.text}, which leads nowhere`;
  }
  const real = realOrNull(abs);
  if (!real) return `${left}: ${abs} is a link to ${link.text}, which leads nowhere (no dangling link is taken into the library)`;
  if (isInside(place.modelDir, real)) {
    // (Absolute, or relative out of the folder and back in by its name: neither leads there once it is moved.)
    return `${left}: ${abs} is a link into its own folder by a path from outside it (${link.text}), which would not lead there once the folder is moved; make it relative within the folder (ln -sfr)`;
  }
  const lexical = resolve(dirname(abs), link.text);
  if (place.sources.some((s) => isInside(s, real) || isInside(s, lexical))) {
    return `${left}: it holds a link to ${real} outside its folder (${abs} -> ${link.text}), in the source, which would break once that file is moved or removed; put the file itself in the folder (or merge the two by hand)`;
  }
  if (!isAbsolute(link.text)) {
    // A relative link out of the folder reaches the same file from the library only by chance (the same depth
    // below a common folder): checked, not assumed.
    const after = resolve(dirname(join(place.destDir, ...link.rel.split("/"))), link.text);
    const now = statOrNull(abs);
    const then = statOrNull(after);
    if (!now || !then || now.ino !== then.ino || now.dev !== then.dev) {
      return `${left}: it holds a link to ${real} outside its folder (${abs} -> ${link.text}), which would lead to ${after} once moved; make it absolute (or put the file itself in the folder)`;
    }
  }
  return null;
}
