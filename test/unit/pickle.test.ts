import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import zlib from "node:zlib";
import { listZipEntries, summarizePickle } from "../../src/formats/pickle.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import { buildStoredZip, crc32 } from "../helpers/zip-writer.js";

const isError = (codes: string[], re?: RegExp) => (e: unknown) =>
  e instanceof ModelLibraryError && codes.includes(e.code) && (!re || re.test(e.message));

const TORCH_ENTRIES = [
  { name: "model/data.pkl", data: Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]) },
  { name: "model/byteorder", data: Buffer.from("little") },
  { name: "model/data/0", data: Buffer.alloc(16, 7) },
  { name: "model/version", data: Buffer.from("3\n") },
];
const EOCD_LEN = 22;

let dir: string;
before(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
});
after(() => fs.rmSync(dir, { recursive: true, force: true }));

let n = 0;
function write(bytes: Buffer, name = `f${n++}.pt`): string {
  const p = path.join(dir, name);
  fs.writeFileSync(p, bytes);
  return p;
}

describe("buildStoredZip", () => {
  test("CRC-32 matches zlib's", () => {
    const data = Buffer.from("The quick brown fox jumps over the lazy dog");
    assert.equal(crc32(data), 0x414fa339);
    if (typeof zlib.crc32 === "function") assert.equal(crc32(data), zlib.crc32(data));
  });
  test("unzip reads what it builds (when unzip is installed)", async (t) => {
    const { spawnSync } = await import("node:child_process");
    const p = write(buildStoredZip(TORCH_ENTRIES), "check.zip");
    const res = spawnSync("unzip", ["-tq", p], { encoding: "utf8" });
    if (res.error) return t.skip("unzip not installed");
    assert.equal(res.status, 0, res.stdout + res.stderr);
  });
});

describe("listZipEntries", () => {
  test("lists entry names in central-directory order", async () => {
    const p = write(buildStoredZip(TORCH_ENTRIES));
    assert.deepEqual(await listZipEntries(p), TORCH_ENTRIES.map((e) => e.name));
  });

  test("an empty archive has no entries", async () => {
    assert.deepEqual(await listZipEntries(write(buildStoredZip([]))), []);
  });

  test("finds the end record behind an archive comment", async () => {
    const zip = buildStoredZip(TORCH_ENTRIES);
    const comment = Buffer.from("PK\x05\x06 fake end record inside the comment", "latin1");
    zip.writeUInt16LE(comment.length, zip.length - 2);
    assert.deepEqual(await listZipEntries(write(Buffer.concat([zip, comment]))), TORCH_ENTRIES.map((e) => e.name));
  });

  test("non-UTF-8 names without the UTF-8 flag are read as latin1", async () => {
    const zip = buildStoredZip([{ name: "x", data: Buffer.alloc(1) }]);
    const cdStart = zip.readUInt32LE(zip.length - 6);
    zip.writeUInt16LE(0, cdStart + 8); // clear the UTF-8 flag
    zip[cdStart + 46] = 0xe9;
    assert.deepEqual(await listZipEntries(write(zip)), ["é"]);
  });

  test("ZIP64: counts and offsets come from the ZIP64 record", async () => {
    const plain = buildStoredZip(TORCH_ENTRIES);
    const cdSize = plain.readUInt32LE(plain.length - 10);
    const cdOffset = plain.readUInt32LE(plain.length - 6);
    const body = plain.subarray(0, cdOffset + cdSize);
    const rec = Buffer.alloc(56);
    rec.writeUInt32LE(0x06064b50, 0);
    rec.writeBigUInt64LE(44n, 4);
    rec.writeUInt16LE(45, 12);
    rec.writeUInt16LE(45, 14);
    rec.writeBigUInt64LE(BigInt(TORCH_ENTRIES.length), 24);
    rec.writeBigUInt64LE(BigInt(TORCH_ENTRIES.length), 32);
    rec.writeBigUInt64LE(BigInt(cdSize), 40);
    rec.writeBigUInt64LE(BigInt(cdOffset), 48);
    const loc = Buffer.alloc(20);
    loc.writeUInt32LE(0x07064b50, 0);
    loc.writeBigUInt64LE(BigInt(body.length), 8);
    loc.writeUInt32LE(1, 16);
    const eocd = Buffer.alloc(22);
    eocd.writeUInt32LE(0x06054b50, 0);
    eocd.writeUInt16LE(0xffff, 8);
    eocd.writeUInt16LE(0xffff, 10);
    eocd.writeUInt32LE(0xffffffff, 12);
    eocd.writeUInt32LE(0xffffffff, 16);
    const p = write(Buffer.concat([body, rec, loc, eocd]));
    assert.deepEqual(await listZipEntries(p), TORCH_ENTRIES.map((e) => e.name));

    // The same archive with its ZIP64 locator pointing past the file.
    const badLoc = Buffer.from(loc);
    badLoc.writeBigUInt64LE(1n << 40n, 8);
    await assert.rejects(listZipEntries(write(Buffer.concat([body, rec, badLoc, eocd]))), isError(["E_TRUNCATED", "E_INVALID"], /ZIP64/));
    // ...and with a ZIP64 count no directory of that size can hold.
    const badRec = Buffer.from(rec);
    badRec.writeBigUInt64LE(1n << 50n, 32);
    await assert.rejects(listZipEntries(write(Buffer.concat([body, badRec, loc, eocd]))), isError(["E_INVALID", "E_TOO_LARGE"]));
  });

  test("truncated at every offset: a clear E_TRUNCATED/E_INVALID naming the file, never a crash", async () => {
    const zip = buildStoredZip(TORCH_ENTRIES);
    const full = zip.length;
    let truncatedErrors = 0;
    for (let cut = 0; cut < full; cut++) {
      const p = write(zip.subarray(0, cut), "cut.pt");
      const err = await listZipEntries(p).then(
        () => assert.fail(`cut at ${cut}: listed entries of a truncated archive`),
        (e: unknown) => e,
      );
      assert.ok(isError(["E_TRUNCATED", "E_INVALID"])(err) && (err as Error).message.startsWith(p), `cut at ${cut}: ${String(err)}`);
      if ((err as ModelLibraryError).code === "E_TRUNCATED") truncatedErrors++;
    }
    // Every cut loses the end record: the PK start makes each of them "truncated".
    assert.equal(truncatedErrors, full);
  });

  describe("hostile end records", () => {
    const zip = buildStoredZip(TORCH_ENTRIES);
    const eocd = zip.length - EOCD_LEN;
    const cdSize = zip.readUInt32LE(eocd + 12);
    const cdOffset = zip.readUInt32LE(eocd + 16);
    const mutate = (f: (b: Buffer) => void): Buffer => {
      const b = Buffer.from(zip);
      f(b);
      return b;
    };
    const cases: [string, Buffer, string[], RegExp][] = [
      ["directory offset past the file", mutate((b) => b.writeUInt32LE(0xfffffff0, eocd + 16)), ["E_TRUNCATED"], /runs past the end/],
      ["directory size past the file", mutate((b) => b.writeUInt32LE(0x7fffffff, eocd + 12)), ["E_TRUNCATED"], /runs past the end/],
      ["directory overlapping the end record", mutate((b) => b.writeUInt32LE(cdSize + 10, eocd + 12)), ["E_INVALID"], /overlaps/],
      ["count too large for the directory", mutate((b) => { b.writeUInt16LE(60000, eocd + 8); b.writeUInt16LE(60000, eocd + 10); }), ["E_INVALID"], /declares 60000 entries/],
      ["name length past the directory", mutate((b) => b.writeUInt16LE(0xffff, cdOffset + 28)), ["E_TRUNCATED"], /runs past/],
      ["bad entry signature", mutate((b) => b.writeUInt32LE(0x12345678, cdOffset)), ["E_INVALID"], /bad signature/],
      ["split archive", mutate((b) => b.writeUInt16LE(1, eocd + 4)), ["E_UNSUPPORTED"], /multi-disk/],
      ["UTF-8 flag on a bad name", mutate((b) => { b[cdOffset + 46] = 0xff; }), ["E_INVALID"], /UTF-8/],
    ];
    for (const [label, bytes, codes, re] of cases) {
      test(label, async () => {
        const p = write(bytes);
        await assert.rejects(listZipEntries(p), (e: unknown) => isError(codes, re)(e) && (e as Error).message.includes(p));
      });
    }
    test("not a ZIP at all → E_INVALID", async () => {
      await assert.rejects(listZipEntries(write(Buffer.alloc(100, 0x41))), isError(["E_INVALID"], /not a ZIP/));
    });
    test("a missing file → E_IO", async () => {
      await assert.rejects(listZipEntries(path.join(dir, "missing.pt")), isError(["E_IO"]));
    });
  });
});

describe("summarizePickle", () => {
  test("zip: entries, tier pickle, a warning that loading runs code", async () => {
    const bytes = buildStoredZip(TORCH_ENTRIES);
    const s = await summarizePickle(write(bytes), bytes.subarray(0, 64));
    assert.equal(s.format, "pickle");
    assert.equal(s.securityTier, "pickle");
    assert.deepEqual(s.pickleEntries, TORCH_ENTRIES.map((e) => e.name));
    assert.equal(s.warnings?.length, 1);
    assert.match(s.warnings![0], /runs .*code/);
  });
  test("zip without data.pkl: says so, nothing more", async () => {
    const bytes = buildStoredZip([{ name: "readme.txt", data: Buffer.from("hi") }]);
    const s = await summarizePickle(write(bytes), bytes.subarray(0, 64));
    assert.deepEqual(s.pickleEntries, ["readme.txt"]);
    assert.ok(s.warnings?.some((w) => /without a data\.pkl/.test(w)));
    assert.equal(s.modelType, undefined);
  });
  test("raw pickle: no entries, the protocol in the warning", async () => {
    const bytes = Buffer.from([0x80, 0x04, 0x95, 0x00, 0x2e]);
    const s = await summarizePickle(write(bytes), bytes);
    assert.equal(s.format, "pickle");
    assert.equal(s.pickleEntries, null);
    assert.match(s.warnings![0], /protocol 4/);
  });
  test("neither zip nor pickle → E_BAD_MAGIC naming the file", async () => {
    const p = write(Buffer.from("GGUF"));
    await assert.rejects(summarizePickle(p, Buffer.from("GGUF")), (e: unknown) => isError(["E_BAD_MAGIC"])(e) && (e as Error).message.includes(p));
  });
});
