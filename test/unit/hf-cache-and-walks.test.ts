// Issue 9 item 9 (Hugging Face cache folders) and item 8's walk side: a snapshot whose files are symlinks into
// its own blobs/ is one model named after its repo; hardlink mode links the blob; a walk that imports nothing
// fails and says why; an unreadable sub-folder is reported while the rest is imported.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { chmodSync, lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { importModels } from "../../src/index.js";
import { identify } from "../../src/identify/identify.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { buildSafetensors } from "../../src/demo/safetensors-writer.js";
import { llamaTensors, tempDir, withLibrary, writeGgufModel } from "../helpers/library-fixtures.js";
import { MLIB_ARGV, REPO_ROOT, runCli } from "../helpers/cli.js";

/** `<hub>/models--acme--tiny-llama/{blobs,refs,snapshots/<rev>}` as huggingface_hub lays it out. */
function writeHfCache(hub: string): { repo: string; snapshot: string } {
  const repo = join(hub, "models--acme--tiny-llama");
  const rev = "0123456789abcdef0123456789abcdef01234567";
  const snapshot = join(repo, "snapshots", rev);
  mkdirSync(join(repo, "blobs"), { recursive: true });
  mkdirSync(join(repo, "refs"), { recursive: true });
  mkdirSync(snapshot, { recursive: true });
  writeFileSync(join(repo, "refs", "main"), rev);
  const blobs: Record<string, Buffer | string> = {
    "config.json": JSON.stringify({ model_type: "llama", architectures: ["LlamaForCausalLM"], torch_dtype: "float16" }),
    "model.safetensors": buildSafetensors(llamaTensors(2, 16, 3), { format: "pt" }),
  };
  let n = 0;
  for (const [name, data] of Object.entries(blobs)) {
    const blob = `b10b${n++}`.padEnd(64, "0");
    writeFileSync(join(repo, "blobs", blob), data);
    symlinkSync(join("..", "..", "blobs", blob), join(snapshot, name));
  }
  return { repo, snapshot };
}

describe("Hugging Face cache folders", () => {
  test.after(() => closeHashWorkers());

  test("a snapshot (symlinks into ../../blobs) is one model, named after its repo; hardlink mode links the blob", () =>
    withLibrary(async (lib, src) => {
      const { repo, snapshot } = writeHfCache(join(src, "hub"));
      const ident = await identify(snapshot);
      assert.equal(ident.folder?.kind, "hf-snapshot");
      assert.equal(ident.format, "safetensors");
      const [r] = await importModels(lib, [snapshot], { mode: "hardlink" });
      assert.equal(r.status, "imported", r.error?.message);
      assert.match(r.modelId!, /\/tiny-llama$/);
      const stored = join(r.path!, "model.safetensors");
      assert.ok(lstatSync(stored).isFile(), "a real file, not a symlink");
      const blob = join(repo, "blobs", readdirBlob(repo, "model.safetensors", snapshot));
      assert.equal(statSync(stored).ino, statSync(blob).ino, "the blob is hard-linked");
      assert.equal((await lib.getMetadata(r.modelId!)).repo_id, "acme/tiny-llama");
    }));

  test("importing the cache's repo folder walks to the snapshot; a symlink out of its blobs/ is not followed", () =>
    withLibrary(async (lib, src) => {
      const { repo, snapshot } = writeHfCache(join(src, "hub"));
      const outside = writeGgufModel(join(src, "elsewhere", "secret.gguf"));
      symlinkSync(outside, join(snapshot, "extra.gguf"));
      const results = await importModels(lib, [repo]);
      assert.deepEqual(results.map((r) => r.status), ["imported"], JSON.stringify(results));
      assert.ok(!results[0].warnings.join().includes("extra.gguf"));
      const m = await lib.getMetadata(results[0].modelId!);
      assert.ok(!m.files!.some((f) => f.name === "extra.gguf"), "the outside link is not part of the model");
    }));
});

function readdirBlob(repo: string, name: string, snapshot: string): string {
  void repo;
  const target = readlinkOf(join(snapshot, name));
  return target.slice(target.lastIndexOf("/") + 1);
}
function readlinkOf(p: string): string {
  return spawnSync("readlink", [p], { encoding: "utf8" }).stdout.trim();
}

describe("walks tell the truth", () => {
  test.after(() => closeHashWorkers());

  test("a folder walk that finds no model fails (exit 1) and says why", async () => {
    const t = tempDir();
    try {
      const dir = join(t.dir, "nothing");
      mkdirSync(join(dir, "sub"), { recursive: true });
      writeFileSync(join(dir, "README.txt"), "hello");
      writeFileSync(join(dir, "sub", "notes.md"), "x");
      const r = await runCli(["import", dir, "--library", join(t.dir, "lib")]);
      assert.equal(r.code, 1, r.stdout + r.stderr);
      assert.match(r.stderr, /no model files/);
    } finally {
      t.cleanup();
    }
  });

  test("an unreadable sub-folder (lost+found) is reported; the rest of the folder is imported", async (t) => {
    const root = process.getuid?.() === 0;
    const hasSetpriv = spawnSync("setpriv", ["--version"]).status === 0;
    if (root && !hasSetpriv) return t.skip("running as root without setpriv: cannot make a folder unreadable");
    const tmp = tempDir();
    try {
      const models = join(tmp.dir, "models");
      writeGgufModel(join(models, "a.gguf"));
      mkdirSync(join(models, "lost+found"));
      chmodSync(join(models, "lost+found"), 0o000);
      const lib = join(tmp.dir, "lib");
      const node = [process.execPath, ...MLIB_ARGV, "import", models, "--library", lib, "--json"];
      // As root, drop the capabilities that bypass file permissions (the child is still uid 0).
      const cmd = root ? ["setpriv", "--bounding-set=-dac_override,-dac_read_search", "--inh-caps=-all", ...node] : node;
      const r = spawnSync(cmd[0], cmd.slice(1), { cwd: REPO_ROOT, encoding: "utf8", env: { ...process.env, NO_COLOR: "1" } });
      chmodSync(join(models, "lost+found"), 0o755);
      assert.equal(r.status, 1, r.stdout + r.stderr);
      const out = JSON.parse(r.stdout) as { results: { source: string; status: string; error: { message: string } | null }[] };
      assert.deepEqual(out.results.map((x) => x.status).sort(), ["failed", "imported"], r.stdout);
      assert.match(out.results.find((x) => x.status === "failed")!.error!.message, /lost\+found/);
      assert.ok(readFileSync(join(models, "a.gguf")).length > 0);
    } finally {
      tmp.cleanup();
    }
  });
});
