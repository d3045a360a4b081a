// A model folder copied to another filesystem: every file copied into a staging folder in the destination
// (fsync'd), the copy re-read and its SHA-256 compared with the source's (and with the recorded hash), and only
// then one rename puts the folder in place. The caller deletes the source after that rename, never before.
import { lstat, mkdir, rename, rm, stat, utimes } from "node:fs/promises";
import { dirname, join } from "node:path";
import { syncDir } from "../core/atomic-json.js";
import { ModelLibraryError, throwIfAborted } from "../core/errors.js";
import { walkFolders } from "../core/walk.js";
import { copyAndHash, hashFile } from "../hashing/index.js";
import type { MergeFile } from "./merge-types.js";

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
        if (!e.isFile()) throw new ModelLibraryError("E_UNSUPPORTED", `${src}: not a regular file or folder (a link?); merge it by hand`, { path: src });
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
  await place(async () => {
    await mkdir(dirname(destDir), { recursive: true });
    await rename(stagingDir, destDir);
    // Durable before the caller deletes the source: a failed fsync (EIO) is thrown, never taken for done.
    await syncDir(dirname(destDir));
  });
  return copied;
}
