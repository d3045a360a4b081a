// downloadModel end to end: a real library, the fake Hub on loopback. Files chosen by quant (every shard),
// snapshot repos with their runtime files, the model landing in the layout with provenance, content already
// in the library linked instead of fetched, hostile names refused, free space, pause through downloads.json
// and resume, cancel, and --complete for a shard set with a missing shard.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { closeSync, existsSync, ftruncateSync, mkdirSync, openSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { HubClient } from "../../../src/hub/hub-client.js";
import { listDownloads, downloadsStagingRoot } from "../../../src/hub/download-state.js";
import { pauseDownloads, cancelDownloads } from "../../../src/hub/control-downloads.js";
import { type FakeHub } from "../../helpers/fake-hub.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";
import { llamaTensors } from "../../helpers/library-fixtures.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

const q4 = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 15, contextLength: 4096, seed: 1 });
const q8 = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 7, contextLength: 4096, seed: 2 });
const q2a = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 10, contextLength: 4096, seed: 3 });
const q2b = buildTinyLlamaGguf({ name: "Tiny Llama", fileType: 10, contextLength: 4096, seed: 4 });
const st = buildSafetensors(llamaTensors(), { format: "pt" });
const shard = (i: number): Buffer => buildSafetensors(llamaTensors(1, 16, 20 + i), { format: "pt" });

let hub: FakeHub;
let dir: string;
let world: HubWorld;
let lib: ModelLibrary;
let client: HubClient;
const fast = { retry: { attempts: 4, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000, controlPollMs: 50 };

before(async () => {
  world = await openHubWorld({
    repos: [
      {
        id: "acme/Tiny-Llama-GGUF",
        tags: ["gguf", "llama"],
        pipeline_tag: "text-generation",
        files: [
          { path: "README.md", content: Buffer.from("# tiny") },
          { path: "tiny-llama-Q4_K_M.gguf", content: q4 },
          { path: "tiny-llama-Q8_0.gguf", content: q8 },
          { path: "Q2_K/tiny-llama-Q2_K-00001-of-00002.gguf", content: q2a },
          { path: "Q2_K/tiny-llama-Q2_K-00002-of-00002.gguf", content: q2b },
        ],
      },
      {
        id: "acme/tiny-llama-hf",
        library_name: "transformers",
        pipeline_tag: "text-generation",
        tags: ["transformers", "safetensors"],
        config: { architectures: ["LlamaForCausalLM"], model_type: "llama" },
        cardData: { base_model: "acme/base" },
        files: [
          { path: "config.json", content: Buffer.from('{"architectures":["LlamaForCausalLM"],"model_type":"llama"}') },
          { path: "tokenizer.json", content: Buffer.from("{}") },
          { path: "README.md", content: Buffer.from("# card") },
          { path: "model.safetensors", content: st, lfs: true },
          { path: "pytorch_model.bin", content: Buffer.alloc(4096, 1), lfs: true },
        ],
      },
      { id: "evil/traversal", files: [{ path: "../../evil.gguf", content: q4 }] },
      { id: "evil/backslash", files: [{ path: "sub\\evil.gguf", content: q4 }] },
      {
        id: "acme/sharded",
        files: [1, 2, 3].map((i) => ({ path: `model-0000${i}-of-00003.safetensors`, content: shard(i), lfs: true })),
      },
    ],
  }, "mlib-dlm-");
  ({ hub, lib, client, dir } = world);
});
after(() => world.close());

test("a quant lands in the library with provenance, hashes from the download, no staging left", async () => {
  const r = await downloadModel(lib, { repoId: "acme/Tiny-Llama-GGUF", quant: "Q4_K_M", client, ...fast });
  assert.equal(r.status, "completed");
  assert.deepEqual(r.files.map((f) => f.path), ["tiny-llama-Q4_K_M.gguf"]);
  assert.ok(r.modelId);
  const m = await lib.getMetadata(r.modelId!);
  assert.equal(m.repo_id, "acme/Tiny-Llama-GGUF");
  assert.equal(m.match_source, "download");
  assert.match(String(m.source_revision), /^[0-9a-f]{40}$/);
  assert.equal(m.files?.[0].sha256, r.files[0].sha256);
  assert.equal(m.files?.[0].blake3, r.files[0].blake3);
  assert.deepEqual(readFileSync(join(lib.modelDir(r.modelId!), "tiny-llama-Q4_K_M.gguf")), q4);
  assert.equal(lib.get(r.modelId!)?.id, r.modelId);
  assert.deepEqual(await listDownloads(lib.root), []);
  assert.deepEqual(readdirSync(downloadsStagingRoot(lib.root)), []);
});

test("the same content again is linked from the library, not fetched", async () => {
  hub.requests.length = 0;
  const r = await downloadModel(lib, { repoId: "acme/Tiny-Llama-GGUF", files: ["tiny-llama-Q4_K_M.gguf"], name: "copy", client, ...fast });
  assert.equal(r.files[0].how, "linked");
  assert.equal(hub.requests.filter((q) => q.origin === "cdn").length, 0);
});

test("several quants and none chosen: a usage error naming them", async () => {
  await assert.rejects(downloadModel(lib, { repoId: "acme/Tiny-Llama-GGUF", client, ...fast }), (e: ModelLibraryError) =>
    e.code === "E_USAGE" && /Q4_K_M/.test(e.message) && /Q8_0/.test(e.message) && /Q2_K/.test(e.message));
});

test("a split quant brings every shard", async () => {
  const r = await downloadModel(lib, { repoId: "acme/Tiny-Llama-GGUF", quant: "Q2_K", client, ...fast });
  assert.deepEqual(r.files.map((f) => f.path).sort(), ["Q2_K/tiny-llama-Q2_K-00001-of-00002.gguf", "Q2_K/tiny-llama-Q2_K-00002-of-00002.gguf"]);
  assert.ok(existsSync(join(lib.modelDir(r.modelId!), "Q2_K", "tiny-llama-Q2_K-00002-of-00002.gguf")));
});

test("a transformers snapshot: safetensors weights plus the runtime files, not the .bin copy or the README", async () => {
  const r = await downloadModel(lib, { repoId: "acme/tiny-llama-hf", client, ...fast });
  assert.deepEqual(r.files.map((f) => f.path).sort(), ["config.json", "model.safetensors", "tokenizer.json"]);
  const m = await lib.getMetadata(r.modelId!);
  assert.deepEqual(m.base_model, ["acme/base"]);
  assert.equal(m.model_type, "llm");
});

test("hostile Hub names are refused before anything is fetched", async () => {
  for (const repoId of ["evil/traversal", "evil/backslash"]) {
    hub.requests.length = 0;
    await assert.rejects(downloadModel(lib, { repoId, files: [repoId === "evil/traversal" ? "../../evil.gguf" : "sub\\evil.gguf"], client, ...fast }), (e: ModelLibraryError) => e.code === "E_INVALID");
    assert.equal(hub.requests.filter((q) => q.origin === "cdn").length, 0);
  }
  assert.equal(existsSync(join(dir, "evil.gguf")), false);
  assert.equal(existsSync(join(lib.root, "..", "evil.gguf")), false);
});

test("pause through downloads.json, then the same call resumes it", async () => {
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 2000, times: 1 });
  const run = downloadModel(lib, { repoId: "acme/Tiny-Llama-GGUF", quant: "Q8_0", client, ...fast });
  let entries = await listDownloads(lib.root);
  for (let i = 0; i < 100 && !entries.some((d) => d.status === "downloading"); i++) {
    await new Promise((r) => setTimeout(r, 20));
    entries = await listDownloads(lib.root);
  }
  const res = await pauseDownloads(lib.root, "all");
  assert.equal(res[0].outcome, "asked");
  await assert.rejects(run, (e: ModelLibraryError) => e.code === "E_CANCELLED" && /paused/.test(e.message));
  entries = await listDownloads(lib.root);
  assert.equal(entries.length, 1);
  assert.equal(entries[0].status, "paused");
  const r = await downloadModel(lib, { repoId: "acme/Tiny-Llama-GGUF", quant: "Q8_0", client, ...fast });
  assert.equal(r.downloadId, entries[0].download_id);
  assert.deepEqual(await listDownloads(lib.root), []);
});

test("cancel of a download nobody runs removes its entry and partial files", async () => {
  const ac = new AbortController();
  // The file itself (not the 64-byte look at a .bin's first bytes that the pickle policy takes first).
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 2000, times: 1, matchRange: "bytes=0-4095" });
  const run = downloadModel(lib, { repoId: "acme/tiny-llama-hf", files: ["pytorch_model.bin"], name: "again", client, ...fast }, { signal: ac.signal });
  setTimeout(() => ac.abort(), 200);
  await assert.rejects(run, (e: ModelLibraryError) => e.code === "E_CANCELLED");
  const [d] = await listDownloads(lib.root);
  assert.equal(d.status, "paused");
  assert.ok(existsSync(d.staging_dir!));
  const res = await cancelDownloads(lib.root, [d.download_id.slice(0, 8)]);
  assert.equal(res[0].outcome, "cancelled");
  assert.equal(existsSync(d.staging_dir!), false);
  assert.deepEqual(await listDownloads(lib.root), []);
});

test("--complete fetches only the missing shard of a stored set", async () => {
  const dir = join(lib.root, "llm", "llama", "sharded");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model-00001-of-00003.safetensors"), shard(1));
  writeFileSync(join(dir, "model-00003-of-00003.safetensors"), shard(3));
  const { importInPlace } = await import("../../../src/operations/import-in-place.js");
  const r0 = await importInPlace(lib, { modelDir: dir, officialName: "sharded", repoId: "acme/sharded", allowIncomplete: true });
  hub.requests.length = 0;
  const r = await downloadModel(lib, { repoId: "", completeModelId: r0.modelId, client, ...fast });
  assert.deepEqual(r.files.map((f) => f.path), ["model-00002-of-00003.safetensors"]);
  assert.deepEqual(readFileSync(join(dir, "model-00002-of-00003.safetensors")), shard(2));
  const m = await lib.getMetadata(r0.modelId);
  assert.equal(m.files?.length, 3);
});

test("not enough free space: refused before any byte is fetched, with the numbers", async () => {
  const sparse = join(dir, "huge.gguf");
  const fd = openSync(sparse, "w");
  ftruncateSync(fd, 2 ** 43); // 8 TiB, sparse: more than this disk has free
  closeSync(fd);
  hub.addRepo({ id: "acme/huge-GGUF", files: [{ path: "huge-Q4_K_M.gguf", file: sparse, sha256: "0".repeat(64) }] });
  hub.requests.length = 0;
  await assert.rejects(downloadModel(lib, { repoId: "acme/huge-GGUF", client, ...fast }), (e: ModelLibraryError) =>
    e.code === "E_IO" && /not enough free space/.test(e.message) && /8796093022208 bytes/.test(e.message));
  assert.equal(hub.requests.filter((q) => q.origin === "cdn").length, 0);
  const [d] = await listDownloads(lib.root);
  assert.equal(d.status, "error");
  await cancelDownloads(lib.root, [d.download_id]);
});
