// Real torch.save archives from ../shared/fixtures/pytorch: their entry names, read from the central
// directory only (expected lists checked against Python's zipfile).
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import { fileURLToPath } from "node:url";
import { listZipEntries, summarizePickle } from "../../src/formats/pickle.js";
import { readHead } from "../../src/formats/file-bytes.js";
import { sniffFormat } from "../../src/formats/sniff.js";

const root = fileURLToPath(new URL("../../../shared/fixtures/pytorch/", import.meta.url));
const skip = fs.existsSync(root) ? false : "../shared/fixtures not found";

const torchEntries = (stem: string, extra: string[] = []) => [
  `${stem}/data.pkl`,
  ...extra,
  `${stem}/byteorder`,
  `${stem}/data/0`,
  `${stem}/version`,
  `${stem}/.data/serialization_id`,
];

const EXPECTED: Record<string, string[]> = {
  "boolean.pt": torchEntries("boolean", ["boolean/.format_version", "boolean/.storage_alignment"]),
  "config.pt": ["config/data.pkl", "config/byteorder", "config/version", "config/.data/serialization_id"],
  "fortran_tensor_3d.pth": torchEntries("fortran_tensor_3d"),
  "lora_kiriko2.textual-inversion.pt": ["archive/data.pkl", "archive/data/0", "archive/version"],
  "test.pt": torchEntries("test"),
  "test_with_key.pt": torchEntries("test_with_key"),
  "xgenmm-attention_mask_4patches.pt": torchEntries("attention_mask_4patches"),
};

for (const [name, entries] of Object.entries(EXPECTED)) {
  test(`pytorch/${name}: lists its zip entries, sniffs and summarizes as pickle`, { skip }, async () => {
    const p = root + name;
    assert.deepEqual(await listZipEntries(p), entries);
    const { bytes, size } = await readHead(p, 64);
    assert.equal(sniffFormat(bytes, size, name), "pickle");
    const s = await summarizePickle(p, bytes);
    assert.equal(s.securityTier, "pickle");
    assert.deepEqual(s.pickleEntries, entries);
    assert.equal(s.warnings?.length, 1); // every one has a data.pkl: only the code-execution warning
  });
}

test("the fixture folder holds exactly the archives listed here", { skip }, () => {
  assert.deepEqual(fs.readdirSync(root).sort(), Object.keys(EXPECTED).sort());
});
