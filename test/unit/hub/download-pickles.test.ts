// The pickle policy on downloads, against the fake Hub: a pickle beside safe weights is not fetched; a repo whose
// only weights are pickles is refused before any of them is fetched (naming the files and --allow-pickle); the
// name alone decides nothing (a ggml .bin is safe); a pickle under a safe name is caught in staging and nothing
// lands; --allow-pickle downloads it and the model's tier says pickle.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync } from "node:fs";
import { join } from "node:path";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { chooseFiles } from "../../../src/hub/choose-files.js";
import { HubClient } from "../../../src/hub/hub-client.js";
import { listDownloads, downloadsStagingRoot } from "../../../src/hub/download-state.js";
import { cancelDownloads } from "../../../src/hub/control-downloads.js";
import { type FakeHub } from "../../helpers/fake-hub.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";
import { runCli } from "../../helpers/cli.js";
import { llamaTensors } from "../../helpers/library-fixtures.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

/** A real protocol-2 pickle of {"a": "xxx..."}: 0x80 0x02, a dict, a BINUNICODE string, SETITEM, STOP. */
function pickleBytes(n: number): Buffer {
  const len = Buffer.alloc(4);
  len.writeUInt32LE(n);
  return Buffer.concat([Buffer.from("80027d7100580100000061710158", "hex"), len, Buffer.alloc(n, "x"), Buffer.from("7102732e", "hex")]);
}
const pkl = pickleBytes(4000);
const st = buildSafetensors(llamaTensors(), { format: "pt" });
// whisper.cpp's models are `ggml-*.bin`: a pickle's name, safe bytes (the legacy "lmgg" magic).
const ggml = Buffer.concat([Buffer.from("lmgg", "latin1"), Buffer.alloc(4000, 7)]);
const config = Buffer.from('{"architectures":["LlamaForCausalLM"],"model_type":"llama"}');

let hub: FakeHub;
let dir: string;
let world: HubWorld;
let lib: ModelLibrary;
let client: HubClient;
const fast = { retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 5000, controlPollMs: 50 };
const fullFetches = (path: string) => hub.requests.filter((q) => q.origin === "cdn" && q.url.includes(path) && q.range !== "bytes=0-63");

before(async () => {
  world = await openHubWorld({
    repos: [
      {
        id: "acme/both",
        library_name: "transformers",
        files: [
          { path: "config.json", content: config },
          { path: "model.safetensors", content: st, lfs: true },
          { path: "pytorch_model.bin", content: pkl, lfs: true },
        ],
      },
      { id: "acme/only-pickle", library_name: "transformers", files: [{ path: "config.json", content: config }, { path: "pytorch_model.bin", content: pkl, lfs: true }] },
      {
        id: "acme/pipeline",
        library_name: "diffusers",
        files: [
          { path: "model_index.json", content: Buffer.from('{"_class_name":"StableDiffusionPipeline","unet":["diffusers","UNet2DConditionModel"],"vae":["diffusers","AutoencoderKL"]}') },
          { path: "unet/diffusion_pytorch_model.bin", content: pkl, lfs: true },
          { path: "vae/diffusion_pytorch_model.safetensors", content: st, lfs: true },
          { path: "vae/diffusion_pytorch_model.bin", content: pkl, lfs: true },
        ],
      },
      { id: "acme/whisper-ggml", files: [{ path: "ggml-tiny.bin", content: ggml, lfs: true }] },
      { id: "acme/disguised", library_name: "transformers", files: [{ path: "config.json", content: config }, { path: "model.safetensors", content: pkl, lfs: true }] },
    ],
  }, "mlib-dlp-");
  ({ hub, lib, client, dir } = world);
});
after(() => world.close());

const modelFolders = (): string[] => readdirSync(lib.root, { recursive: true }).map(String).filter((p) => p.endsWith("metadata.json") || /\.(bin|safetensors)$/.test(p));

test("a pickle named beside safe weights is not fetched; the result says so", async () => {
  hub.requests.length = 0;
  const r = await downloadModel(lib, { repoId: "acme/both", files: ["config.json", "model.safetensors", "pytorch_model.bin"], client, ...fast });
  assert.deepEqual(r.files.map((f) => f.path).sort(), ["config.json", "model.safetensors"]);
  assert.equal(fullFetches("pytorch_model.bin").length, 0);
  assert.match(r.warnings.join("\n"), /pytorch_model\.bin.*--allow-pickle/);
  assert.equal(existsSync(join(lib.modelDir(r.modelId!), "pytorch_model.bin")), false);
});

test("a repo whose only weights are pickles is refused before they are fetched, naming the files and the flag", async () => {
  hub.requests.length = 0;
  const before = modelFolders();
  await assert.rejects(downloadModel(lib, { repoId: "acme/only-pickle", client, ...fast }), (e: ModelLibraryError) =>
    e.code === "E_PICKLE" && /pytorch_model\.bin/.test(e.message) && /--allow-pickle/.test(e.message) && /Nothing was downloaded/.test(e.message));
  assert.equal(fullFetches("pytorch_model.bin").length, 0);
  assert.deepEqual(await listDownloads(lib.root), []);
  assert.deepEqual(modelFolders(), before);
});

test("a diffusers unet shipped only as .bin refuses the pipeline (it is not silently dropped); the vae's .bin copy is never chosen", async () => {
  const { files } = chooseFiles({ files: (await client.info("acme/pipeline")).files, repoId: "acme/pipeline" });
  assert.deepEqual(files.map((f) => f.path).sort(), ["model_index.json", "unet/diffusion_pytorch_model.bin", "vae/diffusion_pytorch_model.safetensors"]);
  await assert.rejects(downloadModel(lib, { repoId: "acme/pipeline", client, ...fast }), (e: ModelLibraryError) =>
    e.code === "E_PICKLE" && /unet\/diffusion_pytorch_model\.bin/.test(e.message) && !/vae/.test(e.message));
});

test("the name decides nothing: a ggml .bin is safe and downloads", async () => {
  const r = await downloadModel(lib, { repoId: "acme/whisper-ggml", client, ...fast });
  assert.deepEqual(r.files.map((f) => f.path), ["ggml-tiny.bin"]);
  assert.deepEqual(r.warnings, []);
});

test("a pickle under a safe name is caught in staging: removed, the download fails, nothing lands", async () => {
  const before = modelFolders();
  await assert.rejects(downloadModel(lib, { repoId: "acme/disguised", client, ...fast }), (e: ModelLibraryError) =>
    e.code === "E_PICKLE" && /model\.safetensors/.test(e.message) && /once downloaded/.test(e.message) && /--allow-pickle/.test(e.message));
  assert.deepEqual(modelFolders(), before);
  const [d] = await listDownloads(lib.root);
  assert.equal(d.status, "error");
  assert.equal(existsSync(join(d.staging_dir!, "model.safetensors")), false);
  assert.equal(existsSync(join(d.staging_dir!, "model.safetensors.part.json")), false);
  await cancelDownloads(lib.root, [d.download_id]);
  assert.deepEqual(readdirSync(downloadsStagingRoot(lib.root)), []);
});

test("--allow-pickle downloads the pickle and the model's tier says pickle", async () => {
  const r = await downloadModel(lib, { repoId: "acme/only-pickle", allowPickle: true, client, ...fast });
  assert.deepEqual(r.files.map((f) => f.path).sort(), ["config.json", "pytorch_model.bin"]);
  const m = await lib.getMetadata(r.modelId!);
  assert.equal(m.security_tier, "pickle");
});

test("the CLI: mlib download refuses a pickle-only repo naming --allow-pickle, and takes it with the flag", async () => {
  const root = join(dir, "cli-lib");
  const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(dir, "hf"), MLIB_CACHE_DIR: join(dir, "cli-cache"), HF_HUB_OFFLINE: undefined };
  const refused = await runCli(["download", "acme/only-pickle", "--library", root], { env });
  assert.notEqual(refused.code, 0);
  assert.match(refused.stderr, /pytorch_model\.bin.*--allow-pickle/s);
  const ok = await runCli(["download", "acme/only-pickle", "--allow-pickle", "--library", root, "--json"], { env });
  assert.equal(ok.code, 0, ok.stderr);
  assert.deepEqual((JSON.parse(ok.stdout) as { files: { path: string }[] }).files.map((f) => f.path).sort(), ["config.json", "pytorch_model.bin"]);
});
