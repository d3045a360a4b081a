// A small file's stat and whole text through one descriptor (open, fstat, read): the stat is of the bytes read,
// and the file is opened once instead of a stat and then a read that opens it again. For the metadata.json of
// every model a reindex or a merge reads.
import { closeSync, constants, fstatSync, openSync, readSync, type Stats } from "node:fs";

/** Thrown by readTextFile for a file larger than the caller's limit: nothing of it was read. */
export class FileTooBigError extends Error {
  constructor(
    file: string,
    readonly st: Stats,
    readonly maxBytes: number,
  ) {
    super(`${file}: ${st.size} bytes, more than the ${maxBytes} expected`);
  }
}

/**
 * The file's stat and its text (UTF-8, read to the end even if it grew since the fstat), or null when there is
 * no such file or it is not a regular file. A file over `maxBytes` is not read (FileTooBigError). Other errors
 * (permissions, I/O) are thrown as Node gives them.
 */
export function readTextFile(file: string, maxBytes = Infinity): { st: Stats; text: string } | null {
  let fd: number;
  try {
    // O_NONBLOCK: a FIFO put in a file's place opens at once (and is then refused as not a file) instead of
    // waiting forever for a writer. On a regular file the flag changes nothing.
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    if (code === "ENOENT" || code === "ENOTDIR") return null;
    throw e;
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) return null;
    if (st.size > maxBytes) throw new FileTooBigError(file, st, maxBytes);
    const text = readAll(fd, st.size, maxBytes);
    if (text === null) throw new FileTooBigError(file, st, maxBytes);
    return { st, text };
  } finally {
    closeSync(fd);
  }
}

/**
 * The whole file as UTF-8: `size` bytes expected, one byte more asked so that one read normally sees the end;
 * otherwise (a short read, a file that grew meanwhile) read on until a read returns nothing, or null once it
 * passed maxBytes (a file growing without end is not read forever).
 */
function readAll(fd: number, size: number, maxBytes: number): string | null {
  let buf = Buffer.allocUnsafe(size + 1);
  let n = 0;
  for (;;) {
    const want = buf.length - n;
    const got = readSync(fd, buf, n, want, null);
    n += got;
    // The common end: all the bytes fstat counted, in a read that came back short (so at the end of the file).
    if (got === 0 || (got < want && n === size)) return buf.toString("utf8", 0, n);
    if (n > maxBytes) return null;
    if (n < buf.length) continue;
    const bigger = Buffer.allocUnsafe(buf.length * 2);
    buf.copy(bigger, 0, 0, n);
    buf = bigger;
  }
}

/** What a file that is not a regular one is, in words (for "not a regular file (a FIFO)"). */
export function fileKind(st: Stats): string {
  if (st.isDirectory()) return "a folder";
  if (st.isFIFO()) return "a FIFO";
  if (st.isCharacterDevice() || st.isBlockDevice()) return "a device";
  if (st.isSocket()) return "a socket";
  return st.isFile() ? "a file" : "not a file";
}
