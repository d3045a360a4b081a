// downloadModel edge cases found in a defect hunt (a real library, the fake Hub on loopback): each test names the
// symptom a user saw.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readFileSync, writeFileSync, writeSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { llamaTensors } from "../../helpers/library-fixtures.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { importInPlace } from "../../../src/operations/import-in-place.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";
import { downloadsFile, downloadsStagingRoot, listDownloads, saveDownload, type DownloadEntry } from "../../../src/hub/download-state.js";
import { cancelDownloads, pauseDownloads } from "../../../src/hub/control-downloads.js";
import { runCli, startCli, type CliResult } from "../../helpers/cli.js";
import { acquireLock, releaseLock } from "../../../src/core/lock.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

const fast = { retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000, controlPollMs: 50 };
let world: HubWorld;

before(async () => {
  world = await openHubWorld({ repos: [] }, "mlib-dlme-");
});
after(() => world.close());

test("a file already in the library is linked even when the disk could not hold a second copy (no 'not enough free space')", async () => {
  const { lib, hub, client } = world;
  // 8 TiB, sparse: more than this disk has free. The library holds it already (its hashes recorded as a download would).
  const dir = join(lib.root, "llm", "unknown", "huge");
  mkdirSync(dir, { recursive: true });
  const fd = openSync(join(dir, "huge-Q4_K_M.gguf"), "w");
  writeSync(fd, buildTinyLlamaGguf({ name: "Huge", fileType: 15, contextLength: 2048, seed: 1 }));
  ftruncateSync(fd, 2 ** 43);
  closeSync(fd);
  const sha256 = "a".repeat(64);
  await importInPlace(lib, { modelDir: dir, officialName: "huge", knownHashes: { "huge-Q4_K_M.gguf": { sha256, blake3: "b".repeat(64) } } });
  hub.addRepo({ id: "acme/huge-GGUF", files: [{ path: "huge-Q4_K_M.gguf", file: join(dir, "huge-Q4_K_M.gguf"), sha256 }] });
  hub.requests.length = 0;
  const r = await downloadModel(lib, { repoId: "acme/huge-GGUF", client, ...fast });
  assert.deepEqual(r.files.map((f) => f.how), ["linked"]);
  assert.equal(r.fetchedBytes, 0);
  assert.equal(hub.requests.filter((q) => q.origin === "cdn").length, 0, "nothing fetched");
});

test("downloads cancel/pause/resume with a prefix that starts two ids: refused naming both, nothing cancelled (it took the first one)", async () => {
  const root = world.lib.root;
  const entry = (id: string, repo: string): DownloadEntry => ({
    download_id: id,
    repo_id: repo,
    filename: "m.gguf",
    filenames: ["m.gguf"],
    dest_dir: join(downloadsStagingRoot(root), id),
    staging_dir: join(downloadsStagingRoot(root), id),
    total_bytes: 100,
    status: "paused",
    download_request: { repo_id: repo, family: null, official_name: repo, model_type: null, quant: null, filename: null, filenames: null, revision: "main" },
    created_at: new Date().toISOString(),
  });
  const ids = ["4f3a0c1e-0000-4000-8000-000000000001", "4f9b7d2a-0000-4000-8000-000000000002"];
  for (const [i, id] of ids.entries()) {
    await saveDownload(root, entry(id, `acme/m${i}`));
    mkdirSync(join(downloadsStagingRoot(root), id), { recursive: true });
    writeFileSync(join(downloadsStagingRoot(root), id, "m.gguf.part"), "partial");
  }
  await assert.rejects(cancelDownloads(root, ["4f"]), (e: ModelLibraryError) => e.code === "E_USAGE" && /4f3a0c1e/.test(e.message) && /4f9b7d2a/.test(e.message));
  await assert.rejects(pauseDownloads(root, ["4f"]), (e: ModelLibraryError) => e.code === "E_USAGE");
  const cli = await runCli(["downloads", "resume", "4f", "--library", root], { env: { HF_ENDPOINT: world.hub.url, HF_HUB_OFFLINE: undefined } });
  assert.equal(cli.code, 2, cli.stderr);
  assert.match(cli.stderr, /starts several download ids/);
  assert.equal((await listDownloads(root)).length, 2);
  for (const id of ids) assert.ok(existsSync(join(downloadsStagingRoot(root), id, "m.gguf.part")), "no partial file removed");
  // A prefix of one id still names it.
  const r = await cancelDownloads(root, ["4f3"]);
  assert.deepEqual(r.map((x) => x.outcome), ["cancelled"]);
  await cancelDownloads(root, "all");
});

test("two processes running the same download at once: one runs it, the other says it is already running (both ran it in one staging folder)", { timeout: 90_000 }, async () => {
  const { lib, hub, client } = world;
  const content = Buffer.concat([buildTinyLlamaGguf({ name: "Race", fileType: 15, contextLength: 2048, seed: 7 }), Buffer.alloc(6 * 1024 * 1024, 7)]);
  hub.addRepo({ id: "acme/race-GGUF", files: [{ path: "race-Q4_K_M.gguf", content }] });
  // A paused download of it, as Ctrl-C leaves one.
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 1500, times: 1 });
  const ac = new AbortController();
  setTimeout(() => ac.abort(), 300);
  await assert.rejects(downloadModel(lib, { repoId: "acme/race-GGUF", client, ...fast }, { signal: ac.signal }), /paused/);
  hub.faults.length = 0;
  // Both commands read downloads.json before either records itself as the runner (held here: its lock).
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HUB_OFFLINE: undefined, MLIB_CACHE_DIR: join(world.dir, "cache-cli") };
  const args = ["download", "acme/race-GGUF", "--library", lib.root, "--json"];
  hub.requests.length = 0;
  const holder = await acquireLock(`${downloadsFile(lib.root)}.lock`);
  let runs: Promise<CliResult>[] = [];
  try {
    runs = [startCli(args, { env, timeoutMs: 60_000 }).result, startCli(args, { env, timeoutMs: 60_000 }).result];
    const trees = (): number => hub.requests.filter((q) => q.url.includes("/api/models/acme/race-GGUF/tree/")).length;
    for (let i = 0; i < 400 && trees() < 2; i++) await new Promise((r) => setTimeout(r, 25));
    await new Promise((r) => setTimeout(r, 500));
    // The one that gets the lock first is still downloading when the other gets it (however long its wait).
    hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 3000, times: 1 });
  } finally {
    await releaseLock(`${downloadsFile(lib.root)}.lock`, holder);
  }
  const results = await Promise.all(runs);
  const ok = results.filter((r) => r.code === 0);
  const locked = results.filter((r) => r.code !== 0);
  assert.equal(ok.length, 1, results.map((r) => r.stderr).join("\n"));
  assert.equal(locked.length, 1);
  assert.match(locked[0].stderr, /already running/);
  assert.deepEqual(await listDownloads(lib.root), []);
});

test("--complete on a repo with the same shard names in two folders: the missing shard comes from the folder holding ours (it fetched both, then failed with E_EXISTS leaving an untracked file)", async () => {
  const { lib, hub, client } = world;
  const shard = (i: number, seed: number): Buffer => buildSafetensors(llamaTensors(1, 16, seed + i), { format: "pt" });
  hub.addRepo({
    id: "acme/two-encoders",
    files: [
      ...[1, 2].map((i) => ({ path: `text_encoder/model-0000${i}-of-00002.safetensors`, content: shard(i, 60), lfs: true })),
      ...[1, 2].map((i) => ({ path: `text_encoder_2/model-0000${i}-of-00002.safetensors`, content: shard(i, 70), lfs: true })),
    ],
  });
  // The stored set is text_encoder_2's, without its second shard.
  const dir = join(lib.root, "llm", "llama", "encoder2");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model-00001-of-00002.safetensors"), shard(1, 70));
  const stored = await importInPlace(lib, { modelDir: dir, officialName: "encoder2", repoId: "acme/two-encoders", allowIncomplete: true });
  const r = await downloadModel(lib, { repoId: "", completeModelId: stored.modelId, client, ...fast });
  assert.deepEqual(r.files.map((f) => f.path), ["text_encoder_2/model-00002-of-00002.safetensors"]);
  assert.deepEqual(readFileSync(join(dir, "model-00002-of-00002.safetensors")), shard(2, 70));
  assert.equal((await lib.getMetadata(stored.modelId)).files?.length, 2);
});
