// Pickle checkpoints (.pt/.pth/.ckpt/.bin): PyTorch's zip archives and raw pickles. We list what a zip
// holds by reading its central directory only, bounded: nothing is inflated and nothing is unpickled,
// because unpickling runs code the file chooses.
// ZIP layout: https://pkware.cachefly.net/webdocs/casestudies/APPNOTE.TXT (4.3.12, 4.3.14-4.3.16).
import type { FileHandle } from "node:fs/promises";
import { ModelLibraryError } from "../core/errors.js";
import { readExactly } from "./file-bytes.js";
import type { Identification } from "./types.js";
import { openForReading } from "../core/open-for-reading.js";

const EOCD_SIG = 0x06054b50;
const EOCD_LEN = 22;
const ZIP64_LOCATOR_SIG = 0x07064b50;
const ZIP64_LOCATOR_LEN = 20;
const ZIP64_EOCD_SIG = 0x06064b50;
const ZIP64_EOCD_LEN = 56;
const CD_ENTRY_SIG = 0x02014b50;
const CD_ENTRY_LEN = 46;
const MAX_COMMENT = 0xffff;
/** A central directory this big would list millions of entries: no checkpoint has that. */
export const MAX_CENTRAL_DIRECTORY = 256 * 1024 * 1024;

interface CentralDirectory {
  offset: number;
  size: number;
  count: number;
  /** Where the record that points at the directory starts: the directory must end before it. */
  end: number;
}

/** Lists the entry names of a ZIP archive from its central directory. */
export async function listZipEntries(path: string): Promise<string[]> {
  const fh = await openForReading(path);
  try {
    const size = (await fh.stat()).size;
    const cd = await findCentralDirectory(fh, path, size);
    const bytes = await readExactly(fh, path, cd.offset, cd.size, "ZIP central directory");
    return parseCentralDirectory(bytes, cd.count, path);
  } finally {
    await fh.close();
  }
}

async function findCentralDirectory(fh: FileHandle, path: string, size: number): Promise<CentralDirectory> {
  const fail = (code: "E_INVALID" | "E_TRUNCATED" | "E_TOO_LARGE" | "E_UNSUPPORTED", why: string): never => {
    throw new ModelLibraryError(code, `${path}: ${why}`, { path });
  };
  if (size < EOCD_LEN) fail("E_TRUNCATED", `only ${size} bytes: too short for a ZIP archive`);
  const tailLen = Math.min(size, EOCD_LEN + MAX_COMMENT);
  const tailStart = size - tailLen;
  const tail = await readExactly(fh, path, tailStart, tailLen, "ZIP end of central directory");

  // The end record sits at the end, after a comment of up to 64 KiB: take the last signature whose
  // comment fits in the file.
  let at = -1;
  for (let i = tailLen - EOCD_LEN; i >= 0; i--) {
    if (tail.readUInt32LE(i) === EOCD_SIG && i + EOCD_LEN + tail.readUInt16LE(i + 20) <= tailLen) {
      at = i;
      break;
    }
  }
  if (at < 0) {
    const startsAsZip = tailStart === 0 && tail.readUInt32LE(0) === 0x04034b50;
    const isZip = startsAsZip || (await readExactly(fh, path, 0, 4, "ZIP signature")).readUInt32LE(0) === 0x04034b50;
    if (isZip) fail("E_TRUNCATED", "ZIP archive with no end-of-central-directory record: the file is truncated");
    fail("E_INVALID", "not a ZIP archive: no end-of-central-directory record");
  }
  const eocdPos = tailStart + at;
  const disk = tail.readUInt16LE(at + 4);
  const cdDisk = tail.readUInt16LE(at + 6);
  const diskCount = tail.readUInt16LE(at + 8);
  let count = tail.readUInt16LE(at + 10);
  let cdSize = tail.readUInt32LE(at + 12);
  let cdOffset = tail.readUInt32LE(at + 16);
  let end = eocdPos;

  // ZIP64: a locator right before the end record points at a record with 64-bit counts and offsets.
  const locPos = at - ZIP64_LOCATOR_LEN;
  if (locPos >= 0 && tail.readUInt32LE(locPos) === ZIP64_LOCATOR_SIG) {
    const recPos = Number(tail.readBigUInt64LE(locPos + 8));
    const locatorAbs = tailStart + locPos;
    if (recPos + ZIP64_EOCD_LEN > locatorAbs) {
      fail(recPos >= size ? "E_TRUNCATED" : "E_INVALID", `ZIP64 locator points at offset ${recPos}, outside the archive's directory area`);
    }
    const rec = await readExactly(fh, path, recPos, ZIP64_EOCD_LEN, "ZIP64 end of central directory");
    if (rec.readUInt32LE(0) !== ZIP64_EOCD_SIG) fail("E_INVALID", `no ZIP64 end-of-central-directory record at offset ${recPos}`);
    if (rec.readUInt32LE(16) !== 0 || rec.readUInt32LE(20) !== 0) fail("E_UNSUPPORTED", "multi-disk (split) ZIP archives are not supported");
    const count64 = rec.readBigUInt64LE(32);
    const size64 = rec.readBigUInt64LE(40);
    const offset64 = rec.readBigUInt64LE(48);
    if (count64 > BigInt(Number.MAX_SAFE_INTEGER) || size64 > BigInt(Number.MAX_SAFE_INTEGER) || offset64 > BigInt(Number.MAX_SAFE_INTEGER)) {
      fail("E_TOO_LARGE", "ZIP64 record declares sizes beyond any file");
    }
    count = Number(count64);
    cdSize = Number(size64);
    cdOffset = Number(offset64);
    end = recPos;
  } else if (disk !== 0 || cdDisk !== 0 || diskCount !== count) {
    fail("E_UNSUPPORTED", "multi-disk (split) ZIP archives are not supported");
  }

  if (cdOffset + cdSize > size) {
    fail("E_TRUNCATED", `central directory declared at offset ${cdOffset} (${cdSize} bytes) runs past the end of the file (${size} bytes)`);
  }
  if (cdOffset + cdSize > end) {
    fail("E_INVALID", `central directory declared at offset ${cdOffset} (${cdSize} bytes) overlaps the end record at ${end}`);
  }
  if (cdSize > MAX_CENTRAL_DIRECTORY) fail("E_TOO_LARGE", `central directory of ${cdSize} bytes is beyond the ${MAX_CENTRAL_DIRECTORY}-byte cap`);
  if (count * CD_ENTRY_LEN > cdSize) {
    fail("E_INVALID", `declares ${count} entries, but its ${cdSize}-byte central directory holds at most ${Math.floor(cdSize / CD_ENTRY_LEN)}`);
  }
  return { offset: cdOffset, size: cdSize, count, end };
}

function parseCentralDirectory(cd: Buffer, count: number, path: string): string[] {
  const names: string[] = [];
  const utf8 = new TextDecoder("utf-8", { fatal: true });
  let pos = 0;
  for (let i = 0; i < count; i++) {
    if (pos + CD_ENTRY_LEN > cd.length) {
      throw new ModelLibraryError("E_TRUNCATED", `${path}: ZIP central directory ends inside entry ${i} of ${count}`, { path });
    }
    if (cd.readUInt32LE(pos) !== CD_ENTRY_SIG) {
      throw new ModelLibraryError("E_INVALID", `${path}: ZIP central directory entry ${i} has a bad signature`, { path });
    }
    const nameLen = cd.readUInt16LE(pos + 28);
    const extraLen = cd.readUInt16LE(pos + 30);
    const commentLen = cd.readUInt16LE(pos + 32);
    const next = pos + CD_ENTRY_LEN + nameLen + extraLen + commentLen;
    if (next > cd.length) {
      throw new ModelLibraryError("E_TRUNCATED", `${path}: ZIP entry ${i}'s name runs past the end of the central directory`, { path });
    }
    const raw = cd.subarray(pos + CD_ENTRY_LEN, pos + CD_ENTRY_LEN + nameLen);
    let name: string;
    try {
      name = utf8.decode(raw);
    } catch {
      // Without the UTF-8 flag, names are in the DOS code page; latin1 keeps every byte visible.
      if (cd.readUInt16LE(pos + 8) & 0x800) {
        throw new ModelLibraryError("E_INVALID", `${path}: ZIP entry ${i}'s name is flagged UTF-8 but is not`, { path });
      }
      name = raw.toString("latin1");
    }
    names.push(name);
    pos = next;
  }
  return names;
}

const PICKLE_WARNING =
  "pickle checkpoint: loading it runs whatever Python code the file holds; load it only if you trust its source, or prefer a safetensors version";

/** What the bytes of a pickle checkpoint tell: zip entry names, or the pickle protocol of a raw pickle. */
export async function summarizePickle(path: string, head: Buffer): Promise<Partial<Identification>> {
  if (head.length >= 4 && head.readUInt32LE(0) === 0x04034b50) {
    const entries = await listZipEntries(path);
    const warnings = [PICKLE_WARNING];
    if (!entries.some((e) => e === "data.pkl" || e.endsWith("/data.pkl"))) {
      warnings.push("ZIP archive without a data.pkl entry: not a PyTorch checkpoint as far as its entry names tell");
    }
    return { format: "pickle", securityTier: "pickle", pickleEntries: entries, warnings };
  }
  if (head.length >= 2 && head[0] === 0x80 && head[1] >= 2 && head[1] <= 5) {
    return {
      format: "pickle",
      securityTier: "pickle",
      pickleEntries: null,
      warnings: [`${PICKLE_WARNING} (raw pickle, protocol ${head[1]})`],
    };
  }
  throw new ModelLibraryError("E_BAD_MAGIC", `${path}: neither a ZIP archive nor a pickle (no PK or 0x80 protocol marker)`, { path });
}
