// The parts of a multi-connection download (part-layout.ts) and the part record that names them
// (part-record.ts): the lead parts grow, every byte is in exactly one part, and a record whose layout
// cannot be rebuilt is not trusted.
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { partLayout } from "../../../src/hub/part-layout.js";
import { bootId, loadPartRecord, recordPathOf, writePartRecord, type PartRecord } from "../../../src/hub/part-record.js";

const MiB = 1024 * 1024;

function assertCovers(size: number, parts: { start: number; length: number }[]): void {
  let pos = 0;
  for (const p of parts) {
    assert.equal(p.start, pos, "parts are contiguous, in order");
    assert.ok(p.length > 0 || size === 0);
    pos += p.length;
  }
  assert.equal(pos, size, "the parts cover the file exactly");
}

test("lead parts grow to the part size, one per connection; the rest are whole parts", () => {
  const parts = partLayout(1024 * MiB, 32 * MiB, 8);
  assertCovers(1024 * MiB, parts);
  assert.deepEqual(parts.slice(0, 8).map((p) => p.length / MiB), [4, 8, 12, 16, 20, 24, 28, 32]);
  assert.ok(parts.slice(8, -1).every((p) => p.length === 32 * MiB));
  assert.equal(parts.length, 36, "4 parts more than 32 equal ones");
  assert.ok(parts.every((p) => p.start % (64 * 1024) === 0), "parts start on 64 KiB boundaries");
});

test("no lead: equal parts, as records written before the lead parts describe", () => {
  const parts = partLayout(100 * MiB + 5, 8 * MiB, 0);
  assertCovers(100 * MiB + 5, parts);
  assert.equal(parts.length, 13);
  assert.equal(parts[12].length, 4 * MiB + 5);
});

test("small files, small parts, odd sizes: always covered, never an empty part", () => {
  for (const [size, partSize, lead] of [
    [1, 1, 4],
    [3 * MiB + 123, 256 * 1024, 4],
    [3 * MiB + 123, 256 * 1024, 64],
    [10 * MiB, 8 * MiB, 8],
    [5000, 1000, 3],
    [0, 1, 0],
  ]) {
    const parts = partLayout(size, partSize, lead);
    assertCovers(size, parts);
    assert.ok(parts.every((p) => p.length <= partSize || size === 0), `${size}/${partSize}/${lead}: no part longer than the part size`);
  }
});

test("the record: written without fsync but whole; its lead rebuilds the same parts; a bad lead is refused", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mlib-parts-"));
  try {
    const partial = join(dir, "f.part");
    const size = 100 * MiB;
    const base: PartRecord = { version: 1, url: "http://h/x", size, sha256: null, partSize: 8 * MiB, lead: 4, completed: [0, 2, 13], synced: [0], bootId: null, verified: null, updatedAt: "" };
    writePartRecord(partial, base);
    const back = await loadPartRecord(partial, { url: "http://h/x", size, sha256: null });
    assert.equal(back?.lead, 4);
    assert.deepEqual(back?.completed, [0, 2, 13], "same boot: every completed part is trusted");
    assert.equal(partLayout(size, 8 * MiB, back!.lead!).length, 14, "2+4+6+8 MiB, then ten of 8 MiB");

    // Part 14 does not exist with 4 lead parts: it is dropped, the rest stands.
    writePartRecord(partial, { ...base, completed: [0, 14] });
    assert.deepEqual((await loadPartRecord(partial, { url: "http://h/x", size, sha256: null }))?.completed, [0]);

    // Another boot: only the synced parts.
    const text = JSON.parse(readFileSync(recordPathOf(partial), "utf8")) as PartRecord;
    assert.equal(text.bootId, bootId());
    writeFileSync(recordPathOf(partial), JSON.stringify({ ...text, completed: [0, 2, 13], bootId: "another-boot" }));
    assert.deepEqual((await loadPartRecord(partial, { url: "http://h/x", size, sha256: null }))?.completed, [0]);

    // A record written before lead parts existed: equal parts.
    writeFileSync(recordPathOf(partial), JSON.stringify({ ...text, lead: undefined }));
    assert.equal((await loadPartRecord(partial, { url: "http://h/x", size, sha256: null }))?.lead, 0);

    for (const lead of [-1, 1.5, 65, "8"]) {
      writeFileSync(recordPathOf(partial), JSON.stringify({ ...text, lead }));
      assert.equal(await loadPartRecord(partial, { url: "http://h/x", size, sha256: null }), null, `lead ${JSON.stringify(lead)} is refused`);
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
