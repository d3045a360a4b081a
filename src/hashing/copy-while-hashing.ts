// copyWhileHashing: the importer's copy mode. The kernel copies the file (copy_file_range, as `cp` does) while
// hashFile reads the same file alongside it, so the hasher mostly finds the pages the copy just read in the page
// cache. Measured on this project's 2-core VM with a page-cached 1 GiB file: 1.8 s, against 4.0 s for the
// single-pass copyAndHash (whose user-space writes are slow here) and max(cp + fsync, hash) = 1.0 s.
// The copy is what the source held if the source did not change meanwhile: size and mtime are checked around
// both. The copy is fsync'd before returning, the sync starting as soon as the kernel copy ends, while the
// hash is still running (the copy ends first: ~0.3 s of a 1 GiB file against ~0.8 s of hashing), so the
// disk writes overlap the hashing instead of following it. On any error the copy is removed.
import { constants } from "node:fs";
import { copyFile, open, rm, stat } from "node:fs/promises";
import { ModelLibraryError, ioError } from "../core/errors.js";
import type { FileHashes } from "./file-hashes.js";
import { hashFile, type HashFileOptions } from "./hash-file.js";

/** fsync of a file written by someone else (the kernel copy): its data on disk before we commit it. */
async function syncFile(path: string): Promise<void> {
  try {
    const fh = await open(path, "r");
    try {
      await fh.sync();
    } finally {
      await fh.close();
    }
  } catch (e) {
    throw ioError(path, "sync", e);
  }
}

export async function copyWhileHashing(src: string, dst: string, options: HashFileOptions = {}): Promise<FileHashes> {
  const before = await stat(src).catch((e: unknown) => {
    throw ioError(src, "read", e);
  });
  let created = false;
  try {
    const copying = copyFile(src, dst, constants.COPYFILE_EXCL)
      .then(
        () => void (created = true),
        (e: NodeJS.ErrnoException) => {
          if (e.code !== "EEXIST") created = true; // a partial copy may exist
          if (e.code === "EEXIST") {
            throw new ModelLibraryError("E_EXISTS", `${dst}: already exists; refusing to overwrite it with a copy of ${src}`, { path: dst, cause: e });
          }
          throw ioError(dst, "copy into", e);
        },
      )
      .then(() => syncFile(dst));
    // Both run to their end before anything is cleaned up, so no write lands after the removal.
    const [copyResult, hashed] = await Promise.allSettled([copying, hashFile(src, options)]);
    if (copyResult.status === "rejected") throw copyResult.reason;
    if (hashed.status === "rejected") throw hashed.reason;
    const hashes = hashed.value;
    const [after, copied] = await Promise.all([stat(src), stat(dst)]);
    if (after.size !== before.size || after.mtimeMs !== before.mtimeMs || copied.size !== hashes.size) {
      throw new ModelLibraryError("E_IO", `${src}: changed while being copied; try again when nothing writes to it`, { path: src });
    }
    return hashes;
  } catch (e) {
    if (created) await rm(dst, { force: true }).catch(() => undefined);
    throw e instanceof ModelLibraryError ? e : ioError(dst, "copy into", e);
  }
}
