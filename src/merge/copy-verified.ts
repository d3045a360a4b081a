// A model folder copied to another filesystem: every file copied into a staging folder in the destination
// (fsync'd), the copy re-read and its SHA-256 compared with the source's (and with the recorded hash), and only
// then one rename puts the folder in place. The caller deletes the source after that rename, never before.
// A symlink is re-made with its text when it leads, from the folder's place in the library, to what it leads to
// now (one inside the folder, one to a file outside the source: the plan left the others in the source).
import { lstat, mkdir, readlink, realpath, rename, rm, stat, symlink, utimes } from "node:fs/promises";
import { dirname, isAbsolute, join, resolve } from "node:path";
import { syncDir } from "../core/atomic-json.js";
import { ModelLibraryError, throwIfAborted } from "../core/errors.js";
import { walkFolders } from "../core/walk.js";
import { copyAndHash, hashFile } from "../hashing/index.js";
import type { MergeFile } from "./merge-types.js";
import { isInside, staysInside, type FolderLink } from "./model-links.js";

export async function copyVerified(
  srcDir: string,
  destDir: string,
  stagingDir: string,
  recorded: MergeFile[],
  signal: AbortSignal | undefined,
  onBytes: (n: number) => void,
  /** Runs the one write into the library (the rename into place): under the commit lock, which the copy does not need. */
  place: (fn: () => Promise<void>) => Promise<void> = (fn) => fn(),
): Promise<number> {
  await rm(stagingDir, { recursive: true, force: true });
  await mkdir(stagingDir, { recursive: true });
  const expected = new Map(recorded.map((f) => [f.name, f.sha256]));
  let copied = 0;
  const links: FolderLink[] = [];
  // Every entry, hidden ones too (a model folder is copied whole); a folder that cannot be listed is an E_IO.
  await walkFolders(
    srcDir,
    async ({ abs: from, rel, entries }) => {
      if (rel) await mkdir(join(stagingDir, ...rel.split("/")), { recursive: true });
      for (const e of entries) {
        throwIfAborted(signal, "merge");
        if (e.isDirectory()) continue; // (visited next, by the walker)
        const childRel = rel ? `${rel}/${e.name}` : e.name;
        const src = join(from, e.name);
        const dst = join(stagingDir, ...childRel.split("/"));
        if (e.isSymbolicLink()) {
          const link = { rel: childRel, text: await readlink(src) };
          await symlink(link.text, dst);
          links.push(link);
          continue;
        }
        if (!e.isFile()) throw new ModelLibraryError("E_UNSUPPORTED", `${src}: not a regular file, folder or link (a device, a socket?); merge it by hand`, { path: src });
        const h = await copyAndHash(src, dst);
        const again = await hashFile(dst);
        const want = expected.get(childRel);
        if (again.sha256 !== h.sha256 || (want && want !== h.sha256)) {
          throw new ModelLibraryError("E_HASH_MISMATCH", `${src}: the copy in ${dst} does not match (sha256 ${want ?? h.sha256} expected, copy ${again.sha256})`, { path: src });
        }
        // The source's mtime kept: metadata.json records each file's mtime when hashed (doctor compares it).
        const st = await stat(src);
        await utimes(dst, st.atime, st.mtime);
        copied += (await lstat(dst)).size;
        onBytes(copied);
      }
    },
    { skip: () => false },
  );
  for (const link of links) await checkLink(srcDir, destDir, stagingDir, link, expected);
  await place(async () => {
    await mkdir(dirname(destDir), { recursive: true });
    await rename(stagingDir, destDir);
    // Durable before the caller deletes the source: a failed fsync (EIO) is thrown, never taken for done.
    await syncDir(dirname(destDir));
  });
  return copied;
}

/** A re-made link leads where the source's did (checked from the place the folder goes), its bytes as recorded. */
async function checkLink(srcDir: string, destDir: string, stagingDir: string, link: FolderLink, expected: Map<string, string | null>): Promise<void> {
  const src = join(srcDir, ...link.rel.split("/"));
  const copy = join(stagingDir, ...link.rel.split("/"));
  const refuse = (why: string): never => {
    throw new ModelLibraryError("E_UNSUPPORTED", `${src}: a link to ${link.text}, ${why}; merge it by hand`, { path: src });
  };
  if (staysInside(link)) {
    // Inside the folder: it must reach the copied file (or folder), whose bytes are checked like any other file's.
    const st = await stat(copy).catch(() => null);
    if (!st) refuse("which leads nowhere in the copy");
    const want = expected.get(link.rel);
    if (want && st!.isFile()) {
      const h = await hashFile(copy);
      if (want !== h.sha256) refuse(`whose copy does not match (sha256 ${want} expected, copy ${h.sha256})`);
    }
    return;
  }
  // Out of the folder (or back into it by an absolute path): never to what is deleted with the source copy.
  const real = await realpath(src).catch(() => null);
  if (!real || isInside(srcDir, real) || isInside(await realpath(srcDir), real)) refuse("which leads into the source folder that is removed once copied");
  const after = isAbsolute(link.text) ? link.text : resolve(dirname(join(destDir, ...link.rel.split("/"))), link.text);
  const [now, then] = await Promise.all([stat(src).catch(() => null), stat(after).catch(() => null)]);
  if (!now || !then || now.ino !== then.ino || now.dev !== then.dev) refuse(`which would not lead to the same file from ${destDir}`);
}
