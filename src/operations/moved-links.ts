// `import --mode move` of a source that is a symbolic link (a link the user made, a Hugging Face snapshot's file,
// which is a link into the repo's blobs/): what "move" removes is the link; the file it points to was not named
// by the user, may be shared (a blob serves every revision that has the same bytes), and is never deleted. That
// file then still holds its space — none is used twice when the library's file is a hard link to it (same
// filesystem: it is the library's file under another name), its whole size when the library holds a copy — and
// the result says so instead of letting the user believe the space was freed.
import { lstat, realpath, stat } from "node:fs/promises";
import { basename, dirname } from "node:path";

export interface LinkedSource {
  /** The source path the user gave (the symbolic link). */
  link: string;
  /** The file it leads to. */
  target: string;
  size: number;
  /** The library's file is a hard link to the target (one copy of the data on disk). */
  shared: boolean;
}

/** The file a source symbolic link leads to, or null when the source is no symbolic link (or is gone). */
export async function symlinkTarget(source: string): Promise<string | null> {
  const st = await lstat(source).catch(() => null);
  if (!st?.isSymbolicLink()) return null;
  return realpath(source).catch(() => null);
}

/** What became of a link's target once the model is stored at `stored`. */
export async function linkedSource(link: string, target: string, stored: string): Promise<LinkedSource | null> {
  const [t, s] = await Promise.all([stat(target).catch(() => null), stat(stored).catch(() => null)]);
  if (!t) return null;
  return { link, target, size: t.size, shared: s !== null && s.ino === t.ino && s.dev === t.dev };
}

/** `<cache>/models--org--name/blobs/<hash>`: a file of a Hugging Face cache. */
function isHubBlob(p: string): boolean {
  return basename(dirname(p)) === "blobs" && basename(dirname(dirname(p))).startsWith("models--");
}

function bytes(n: number): string {
  const units = ["bytes", "KiB", "MiB", "GiB", "TiB"];
  let v = n;
  let u = 0;
  while (v >= 1024 && u < units.length - 1) {
    v /= 1024;
    u++;
  }
  return u === 0 ? `${n} bytes` : `${v.toFixed(1)} ${units[u]}`;
}

/** One warning for a unit whose moved sources were links: what was removed, what was left and the space it holds. */
export function linkedSourcesWarning(sources: LinkedSource[]): string | null {
  if (sources.length === 0) return null;
  const one = sources.length === 1;
  const first = sources[0];
  const what = one
    ? `${first.link} was a symbolic link to ${first.target}: the link was removed, the file it points to is left where it is`
    : `${sources.length} source files were symbolic links (${first.link} to ${first.target}...): the links were removed, the files they point to are left where they are`;
  const shared = sources.filter((s) => s.shared);
  const copied = sources.filter((s) => !s.shared);
  const space: string[] = [];
  if (shared.length > 0) {
    // Same inode: deleting the target later frees nothing, the data is the library's file.
    const n = shared.reduce((a, s) => a + s.size, 0);
    space.push(`${bytes(n)} ${one ? "is" : "of them are"} the library's own file${one ? "" : "s"} under another name (a hard link): no space is held twice`);
  }
  if (copied.length > 0) {
    const n = copied.reduce((a, s) => a + s.size, 0);
    space.push(`${bytes(n)} ${one ? "is" : "of them are"} still held there beside the library's copy (another filesystem): only deleting ${one ? "it" : "them"} frees that space`);
  }
  const them = one ? "it" : "them";
  const hub = sources.some((s) => isHubBlob(s.target))
    ? `; ${one ? "it is a Hugging Face cache blob" : "they are Hugging Face cache blobs"}: \`huggingface-cli delete-cache\` removes ${them} with the rest of that repo's cache`
    : `; delete ${them} yourself if nothing else uses ${them}`;
  return `${what}; ${space.join(", ")}${hub}`;
}
