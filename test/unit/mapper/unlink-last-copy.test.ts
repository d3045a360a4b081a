// `mlib unlink` / `rm --cascade` and a hard link or copy whose library file is gone: that file in the app
// folder is then the only copy of the model's bytes (and, for the original's entries that record no inode,
// cannot even be proven ours). It is kept and reported, as `links repair` keeps it — never deleted.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, unlinkApp } from "../../../src/mapper/index.js";
import { LinkRegistry, registryPath } from "../../../src/mapper/registry.js";
import { runCli } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";
const GGUF = "llm/llama/tiny_llama";
const FILE = "tinyllama.Q4_K_M.gguf";

for (const link of ["hardlink", "copy"] as const) {
  test(`unlink: a ${link} whose library file is gone holds the only copy of the bytes: kept, reported, not deleted`, async () => {
    const { dir, cleanup } = tempDir("mlib-lastcopy-");
    const lib = await tinyLibrary(join(dir, "lib"));
    try {
      const root = join(dir, "llama", "models");
      fs.mkdirSync(root, { recursive: true });
      const r = await applyMapping(lib, { app: "llamacpp", root, link, configDir: NO_USER_CONFIGS });
      assert.deepEqual(r.errors, []);
      // The library's file goes (deleted by hand, a disk of the library lost...).
      fs.rmSync(join(lib.modelDir(GGUF), FILE));
      const u = await unlinkApp(lib, { app: "llamacpp", root });
      assert.equal(fs.readFileSync(join(root, FILE), "utf8"), "gguf-bytes", "the last copy of the bytes is still there");
      const o = u.outcomes.find((x) => x.target === join(root, FILE))!;
      assert.equal(o.outcome, "kept");
      assert.match(o.reason!, /only copy/);
      assert.equal(u.removed, 2, "the other model's links (two shards) are removed");
    } finally {
      lib.close();
      cleanup();
    }
  });
}

test("unlink of the original's hard link (no inode recorded) whose source is gone: not provably ours, kept (CLI)", async () => {
  const { dir, cleanup } = tempDir("mlib-lastcopy-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(join(root, "checkpoints"), { recursive: true });
    // The original recorded a hard link here; the user has since put their own file at that name, and the
    // library's file is gone.
    const target = join(root, "checkpoints", "old.safetensors");
    fs.writeFileSync(target, "the user's own model");
    const entry = { model_id: "diffusion/sdxl/old", source: join(lib.root, "diffusion/sdxl/old/old.safetensors"), target, link_type: "hardlink", created_at: "2025-01-01T00:00:00", app_id: "comfyui", app_version: null };
    fs.writeFileSync(registryPath(lib.root), JSON.stringify({ by_target: { [target]: entry }, by_model: { "diffusion/sdxl/old": [target] } }, null, 2));
    lib.close();
    const cli = await runCli(["unlink", "--app", "comfyui", "--root", root, "--json", "--library", lib.root]);
    assert.equal(cli.code, 0, cli.stderr);
    const j = JSON.parse(cli.stdout);
    assert.equal(j.removed, 0);
    assert.equal(j.kept, 1);
    assert.equal(fs.readFileSync(target, "utf8"), "the user's own model");
    assert.equal(LinkRegistry.load(lib.root).all().length, 0, "the entry is forgotten");
  } finally {
    cleanup();
  }
});

test("rm --cascade of a model whose file is already gone: its hard link, the last copy of the bytes, is kept and the reason shown", async () => {
  const { dir, cleanup } = tempDir("mlib-lastcopy-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "llama", "models");
    fs.mkdirSync(root, { recursive: true });
    await applyMapping(lib, { app: "llamacpp", root, link: "hardlink", configDir: NO_USER_CONFIGS });
    fs.rmSync(join(lib.modelDir(GGUF), FILE));
    lib.close();
    const cli = await runCli(["rm", GGUF, "--cascade", "--yes", "--library", lib.root]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /kept .*tinyllama\.Q4_K_M\.gguf .*only copy of the data/);
    assert.match(cli.stdout, /deleted llm\/llama\/tiny_llama/);
    assert.equal(fs.readFileSync(join(root, FILE), "utf8"), "gguf-bytes");
  } finally {
    cleanup();
  }
});

test("mlib unlink prints why a file is kept (the only copy of the data), not that it is not ours", async () => {
  const { dir, cleanup } = tempDir("mlib-lastcopy-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "llama", "models");
    fs.mkdirSync(root, { recursive: true });
    await applyMapping(lib, { app: "llamacpp", root, link: "copy", configDir: NO_USER_CONFIGS });
    fs.rmSync(join(lib.modelDir(GGUF), FILE));
    lib.close();
    const cli = await runCli(["unlink", "--app", "llamacpp", "--root", root, "--library", lib.root]);
    assert.equal(cli.code, 0, cli.stderr);
    assert.match(cli.stdout, /kept +.*tinyllama\.Q4_K_M\.gguf +\(its source .* is gone: this file holds the only copy of the data; left for you\)\n/);
    assert.doesNotMatch(cli.stdout, /not ours/);
    assert.match(cli.stdout, /2 removed, 0 already gone, 1 kept \(left on disk\), 0 errors/);
  } finally {
    cleanup();
  }
});
