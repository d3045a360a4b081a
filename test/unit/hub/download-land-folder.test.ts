// Which folder a download lands in when one of its name is there already without metadata.json (a real library,
// the fake Hub on loopback). Only the folder this download made itself (recorded in downloads.json) is taken back;
// one holding a file of the same name and size is another's (a download still moving in, a user's), never reused.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { mkdirSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { downloadsStagingRoot, saveDownload } from "../../../src/hub/download-state.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";

const fast = { retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000, controlPollMs: 50 };
const where = { modelType: "llm", family: "llama" };
let world: HubWorld;

before(async () => {
  world = await openHubWorld({ repos: [] }, "mlib-land-folder-");
});
after(() => world.close());

function repo(name: string, seed: number): Buffer {
  const content = buildTinyLlamaGguf({ name, fileType: 15, contextLength: 2048, seed });
  world.hub.addRepo({ id: `acme/${name}`, files: [{ path: "model-Q4_K_M.gguf", content, lfs: true }] });
  return content;
}

test("a folder of the model's name holding a file of the same name and size, no metadata.json: left alone, the model lands beside it", async () => {
  const { lib, client } = world;
  const ours = repo("Same", 1);
  const base = lib.buildModelId("llm", "llama", "same");
  const theirs = buildTinyLlamaGguf({ name: "Same", fileType: 15, contextLength: 2048, seed: 2 });
  assert.equal(theirs.length, ours.length);
  mkdirSync(lib.modelDir(base), { recursive: true });
  writeFileSync(join(lib.modelDir(base), "model-Q4_K_M.gguf"), theirs);
  const r = await downloadModel(lib, { repoId: "acme/Same", name: "same", ...where, client, ...fast });
  assert.equal(r.modelId, `${base}_2`);
  assert.deepEqual(readFileSync(join(lib.modelDir(base), "model-Q4_K_M.gguf")), theirs, "the other file is untouched");
  assert.deepEqual(readdirSync(lib.modelDir(base)), ["model-Q4_K_M.gguf"]);
  assert.deepEqual(readFileSync(join(lib.modelDir(r.modelId!), "model-Q4_K_M.gguf")), ours);
});

test("an empty folder of the model's name that another download claimed: not taken", async () => {
  const { lib, client } = world;
  repo("Claimed", 3);
  const base = lib.buildModelId("llm", "llama", "claimed");
  mkdirSync(lib.modelDir(base), { recursive: true });
  const id = "0a0a0a0a-0000-4000-8000-00000000000c";
  await saveDownload(lib.root, {
    download_id: id,
    repo_id: "other/Claimed",
    filename: "model-Q4_K_M.gguf",
    filenames: ["model-Q4_K_M.gguf"],
    dest_dir: join(downloadsStagingRoot(lib.root), id),
    total_bytes: 1,
    status: "downloading",
    download_request: { repo_id: "other/Claimed", family: null, official_name: "claimed", model_type: null, quant: null, filename: null, filenames: null, revision: "main" },
    created_at: new Date().toISOString(),
    landing: { model_id: base, dev: 0, ino: 0 },
    runner: { pid: process.pid, hostname: "elsewhere", lease_renewed_at: new Date().toISOString() },
  });
  const r = await downloadModel(lib, { repoId: "acme/Claimed", name: "claimed", ...where, client, ...fast });
  assert.equal(r.modelId, `${base}_2`);
  assert.deepEqual(readdirSync(lib.modelDir(base)), []);
});

test("an empty folder of the model's name nobody claims (a run killed just after making it): used", async () => {
  const { lib, client } = world;
  const ours = repo("Empty", 4);
  const base = lib.buildModelId("llm", "llama", "empty");
  mkdirSync(lib.modelDir(base), { recursive: true });
  const r = await downloadModel(lib, { repoId: "acme/Empty", name: "empty", ...where, client, ...fast });
  assert.equal(r.modelId, base);
  assert.deepEqual(readFileSync(join(lib.modelDir(base), "model-Q4_K_M.gguf")), ours);
});
