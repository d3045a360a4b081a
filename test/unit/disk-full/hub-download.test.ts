// A Hub download on a full disk (the fake Hub on loopback; a small tmpfs holds the .part): the download stops
// with E_IO "no space left" naming the .part, the resume record on disk lists only parts whose bytes are there,
// and once space is freed the same download resumes (not from zero), finishes and verifies.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { open } from "node:fs/promises";
import { join } from "node:path";
import { startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { smallDisk } from "../../helpers/small-disk.js";
import { downloadFile, type DownloadFileParams } from "../../../src/hub/download-file.js";
import { partLayout } from "../../../src/hub/part-layout.js";
import { PrefixHasher } from "../../../src/hub/prefix-hasher.js";
import { isModelLibraryError } from "../../../src/core/errors.js";

const MiB = 1024 * 1024;
// Real safetensors files (the library identifies what lands) of random weights: one of 6 MiB fetched in parts of
// 1 MiB, and one of 21 MiB for downloadModel, which fetches a file below 16 MiB whole (no parts to resume).
function safetensors(bytes: number): Buffer {
  const header = Buffer.from(JSON.stringify({ "model.embed_tokens.weight": { dtype: "F16", shape: [bytes / 2 / 64, 64], data_offsets: [0, bytes] } }));
  const size = Buffer.alloc(8);
  size.writeBigUInt64LE(BigInt(header.length));
  return Buffer.concat([size, header, randomBytes(bytes)]);
}
const content = safetensors(6 * MiB);
const large = safetensors(21 * MiB);
const sha = createHash("sha256").update(content).digest("hex");
let hub: FakeHub;

before(async () => {
  hub = await startFakeHub({
    repos: [
      { id: "acme/full", files: [{ path: "full.safetensors", content }] },
      { id: "acme/large", files: [{ path: "large.safetensors", content: large }] },
    ],
  });
});
after(async () => {
  await hub.close();
});

function params(dir: string, over: Partial<DownloadFileParams> = {}): DownloadFileParams {
  return {
    config: { endpoint: hub.url, token: null, tokenSource: null, offline: false, cacheDir: dir },
    url: `${hub.url}/acme/full/resolve/main/full.safetensors`,
    partialPath: join(dir, "dl", "full.safetensors.part"),
    expectedSize: content.length,
    expectedSha256: sha,
    retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 },
    stallMs: 5000,
    ...over,
  };
}

test("a download that fails while the hasher reads its prefix back (the disk filled): no unhandled rejection", async (t) => {
  const disk = smallDisk(t, 10);
  if (!disk) return;
  try {
    const file = join(disk.dir, "prefix.part");
    writeFileSync(file, content.subarray(0, 8 * MiB > content.length ? content.length : 8 * MiB));
    const fh = await open(file, "r");
    const hasher = await PrefixHasher.create(fh, () => content.length);
    hasher.written(MiB, content.subarray(MiB, MiB + 1024)); // ahead of the prefix: a read-back starts
    await fh.close(); // the download ends on its write error and closes the file under the read-back
    await new Promise((r) => setTimeout(r, 50)); // an unhandled rejection, if any, fails this test
  } finally {
    disk.cleanup();
  }
});

for (const connections of [3]) {
  test(`full disk mid-download (${connections} connection${connections > 1 ? "s" : ""}): E_IO 'no space left'; resumed after space is freed, verified`, async (t) => {
    const disk = smallDisk(t, 10);
    if (!disk) return;
    try {
      const give = disk.fill(3 * MiB + 512 * 1024); // room for half the file
      const p = params(disk.dir, { connections, partSize: MiB, wholeBelow: 0 });
      const e = await downloadFile(p).then(() => null, (x: unknown) => x);
      assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
      assert.match(e.message, /no space left/);
      assert.ok(e.message.includes(p.partialPath), e.message);
      assert.ok(existsSync(p.partialPath), "the .part is kept for a resume");
      const rec = JSON.parse(readFileSync(`${p.partialPath}.json`, "utf8")) as { completed: number[]; partSize: number; lead: number };
      const parts = partLayout(content.length, rec.partSize, rec.lead);
      const part = readFileSync(p.partialPath);
      assert.ok(rec.completed.length > 0, "parts were recorded before the disk filled");
      for (const i of rec.completed) {
        const { start, length } = parts[i];
        assert.ok(part.subarray(start, start + length).equals(content.subarray(start, start + length)), `recorded part ${i} holds its bytes`);
      }
      assert.deepEqual(readdirSync(join(disk.dir, "dl")).filter((n) => n.endsWith(".tmp")), [], "no temp record left");
      give();
      const r = await downloadFile(p);
      assert.equal(r.sha256, sha);
      assert.ok(r.resumedBytes > 0, `resumed, not started over (resumed ${r.resumedBytes})`);
      assert.ok(readFileSync(p.partialPath).equals(content));
    } finally {
      disk.cleanup();
    }
  });
}

test("downloadModel into a library on a full disk: E_IO; the download is listed and resumes into a verified model once space is freed", async (t) => {
  const disk = smallDisk(t, 96); // room for the pre-flight check (the file + a 64 MiB margin): filled once it passed
  if (!disk) return;
  const { ModelLibrary } = await import("../../../src/store/model-library.js");
  const { HubClient } = await import("../../../src/hub/hub-client.js");
  const { downloadModel } = await import("../../../src/hub/download-model.js");
  const { listDownloads } = await import("../../../src/hub/download-state.js");
  const { verifyModels } = await import("../../../src/operations/verify-models.js");
  const { fakeHubConfig } = await import("../../helpers/fake-hub.js");
  const lib = await ModelLibrary.open(join(disk.dir, "lib"));
  const client = new HubClient(fakeHubConfig(hub, join(disk.dir, "cache")));
  try {
    let give: (() => void) | null = null;
    const tuning = { client, connections: 3, partSize: 2 * MiB, retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000 };
    const fillOnFirstBytes = (ev: { phase: string }): void => {
      if (ev.phase === "download" && !give) give = disk.fill(10 * MiB); // room for half the file
    };
    const e = await downloadModel(lib, { repoId: "acme/large", ...tuning }, { onProgress: fillOnFirstBytes }).then(() => null, (x: unknown) => x);
    assert.ok(give, "filled mid-download");
    assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
    assert.match(e.message, /no space left/);
    const [entry] = await listDownloads(lib.root);
    assert.ok(entry, "the download is listed, to resume");
    // Its last state could not be written (the disk is full): it must not read as running in this process.
    assert.notEqual(entry.status, "downloading", JSON.stringify(entry));
    assert.equal(lib.count(), 0, "nothing stored");
    (give as () => void)();
    const r = await downloadModel(lib, { repoId: "acme/large", downloadId: entry.download_id, ...tuning });
    assert.ok(r.modelId, JSON.stringify(r));
    assert.ok(r.files.some((f) => f.how === "resumed"), JSON.stringify(r.files));
    const v = await verifyModels(lib, { ids: [r.modelId] });
    assert.equal(v.ok, 1, JSON.stringify(v));
  } finally {
    client.close();
    lib.close();
    disk.cleanup();
  }
});

test("a download whose lease in downloads.json cannot be renewed (the disk is full) stops, so no other process takes it over while it runs", async (t) => {
  const disk = smallDisk(t, 96);
  if (!disk) return;
  const { ModelLibrary } = await import("../../../src/store/model-library.js");
  const { HubClient } = await import("../../../src/hub/hub-client.js");
  const { downloadModel } = await import("../../../src/hub/download-model.js");
  const { fakeHubConfig } = await import("../../helpers/fake-hub.js");
  const lib = await ModelLibrary.open(join(disk.dir, "lib"));
  const client = new HubClient(fakeHubConfig(hub, join(disk.dir, "cache")));
  let give: (() => void) | null = null;
  try {
    // The body stalls after 1 MiB for 2 s: no byte is written meanwhile, only the lease renewals (every 20 ms).
    hub.faults.push({ kind: "stall", afterBytes: MiB, stallMs: 2000, times: 1 });
    let timer: NodeJS.Timeout | null = null;
    const started = Date.now();
    const e = await downloadModel(
      lib,
      { repoId: "acme/large", client, connections: 1, controlPollMs: 20, leaseMs: 600, retry: { attempts: 2, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 10_000 },
      { onProgress: (ev) => void (ev.phase === "download" && !timer && (timer = setTimeout(() => (give = disk.fill()), 300))) },
    ).then(() => null, (x: unknown) => x);
    const tookMs = Date.now() - started;
    assert.ok(give, "filled during the stall");
    assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
    assert.match(e.message, /downloads\.json/);
    assert.match(e.message, /lease/);
    assert.ok(tookMs < 1800, `stopped before the stall ended (${tookMs} ms)`);
  } finally {
    hub.faults.length = 0;
    (give as (() => void) | null)?.();
    client.close();
    lib.close();
    disk.cleanup();
  }
});
