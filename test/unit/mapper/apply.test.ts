import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks, previewMapping, repairLinks } from "../../../src/mapper/index.js";
import { LinkRegistry } from "../../../src/mapper/registry.js";
import type { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary, writeTinyModel } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

async function setup(app = "ComfyUI"): Promise<{ base: string; lib: ModelLibrary; root: string; done: () => void }> {
  const { dir, cleanup } = tempDir("mlib-map-");
  const lib = await tinyLibrary(join(dir, "lib"));
  const root = join(dir, app, "models");
  fs.mkdirSync(root, { recursive: true });
  return { base: dir, lib, root, done: () => (lib.close(), cleanup()) };
}

const rel = (root: string, p: string) => p.slice(root.length + 1);

test("comfyui: preview lists the creates; apply makes them; a second apply finds them all in place", async () => {
  const { lib, root, done } = await setup();
  try {
    const p = await previewMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.deepEqual(p.creates.map((c) => rel(root, c.target)).sort(), [
      "checkpoints/juggernaut.safetensors",
      "diffusers/flux_dev_diffusers",
      "embeddings/easyneg.safetensors",
      "loras/detail.safetensors",
    ]);
    assert.equal(p.conflicts.length, 0);
    const r = await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.equal(r.made.length, 4);
    assert.deepEqual(r.errors, []);
    assert.equal(fs.readlinkSync(join(root, "checkpoints/juggernaut.safetensors")), join(lib.root, "diffusion/sdxl/juggernaut/juggernaut.safetensors"));
    // The diffusers folder is one folder link.
    assert.ok(fs.lstatSync(join(root, "diffusers/flux_dev_diffusers")).isSymbolicLink());
    assert.ok(fs.existsSync(join(root, "diffusers/flux_dev_diffusers/unet/diffusion_pytorch_model.safetensors")));
    const again = await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.equal(again.made.length, 0);
    assert.equal(again.existing, 4);
    const c = await checkLinks(lib);
    assert.equal(c.ok, true);
    assert.equal(c.counts.healthy, 4);
  } finally {
    done();
  }
});

test("a1111 embeddings go to <webui>/embeddings (inside the app folder); llamacpp flat with both shards; lmstudio publisher/repo", async () => {
  const { base, lib, done } = await setup("webui");
  try {
    const webui = join(base, "webui", "models");
    await applyMapping(lib, { app: "a1111", root: webui, configDir: NO_USER_CONFIGS });
    assert.ok(fs.lstatSync(join(base, "webui", "embeddings", "easyneg.safetensors")).isSymbolicLink());
    assert.ok(fs.lstatSync(join(webui, "Stable-diffusion", "juggernaut.safetensors")).isSymbolicLink());
    const llama = join(base, "llama", "models");
    fs.mkdirSync(llama, { recursive: true });
    const r = await applyMapping(lib, { app: "llamacpp", root: llama, configDir: NO_USER_CONFIGS });
    assert.deepEqual(fs.readdirSync(llama).sort(), ["qwen-big-00001-of-00002.gguf", "qwen-big-00002-of-00002.gguf", "tinyllama.Q4_K_M.gguf"]);
    assert.equal(r.made.length, 3);
    const lms = join(base, "lms", "models");
    fs.mkdirSync(lms, { recursive: true });
    await applyMapping(lib, { app: "lmstudio", root: lms, configDir: NO_USER_CONFIGS });
    assert.ok(fs.existsSync(join(lms, "TheBloke", "TinyLlama-GGUF", "tinyllama.Q4_K_M.gguf")));
    assert.ok(fs.existsSync(join(lms, "local", "qwen", "qwen-big-00002-of-00002.gguf")));
  } finally {
    done();
  }
});

test("conflicts: skip leaves the user's file; rename gives ours stem_N; overwrite moves the user's file aside, never deletes it", async () => {
  const { lib, root, done } = await setup();
  try {
    const user = join(root, "loras", "detail.safetensors");
    fs.mkdirSync(join(root, "loras"), { recursive: true });
    fs.writeFileSync(user, "USER DATA");
    const p = await previewMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.equal(p.conflicts.length, 1);
    assert.match(p.conflicts[0].reason!, /regular file/);

    const skip = await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.equal(skip.conflicts.length, 1);
    assert.equal(fs.readFileSync(user, "utf8"), "USER DATA");

    const ren = await applyMapping(lib, { app: "comfyui", root, onConflict: "rename", configDir: NO_USER_CONFIGS });
    assert.deepEqual(ren.made.map((m) => rel(root, m.target)), ["loras/detail_1.safetensors"]);
    assert.equal(fs.readFileSync(user, "utf8"), "USER DATA");
    // A second rename run finds its own renamed link rather than making detail_2.
    const ren2 = await applyMapping(lib, { app: "comfyui", root, onConflict: "rename", configDir: NO_USER_CONFIGS });
    assert.equal(ren2.made.length, 0);
    assert.ok(!fs.existsSync(join(root, "loras", "detail_2.safetensors")));

    const ow = await applyMapping(lib, { app: "comfyui", root, onConflict: "overwrite", configDir: NO_USER_CONFIGS });
    assert.equal(ow.made.length, 1);
    const aside = ow.made[0].movedAside!;
    assert.match(aside, /detail\.safetensors\.mlib-replaced-\d{8}T\d{6}Z$/);
    assert.equal(fs.readFileSync(aside, "utf8"), "USER DATA");
    assert.ok(fs.lstatSync(user).isSymbolicLink());
  } finally {
    done();
  }
});

test("a shard set is one unit: rename keeps the set's naming, both shards or none", async () => {
  const { base, lib, done } = await setup();
  try {
    const llama = join(base, "llama", "models");
    fs.mkdirSync(llama, { recursive: true });
    fs.writeFileSync(join(llama, "qwen-big-00002-of-00002.gguf"), "someone else's shard");
    const skip = await applyMapping(lib, { app: "llamacpp", root: llama, configDir: NO_USER_CONFIGS });
    assert.ok(!fs.existsSync(join(llama, "qwen-big-00001-of-00002.gguf")), "no half set");
    assert.equal(skip.conflicts.length, 1);
    const ren = await applyMapping(lib, { app: "llamacpp", root: llama, onConflict: "rename", configDir: NO_USER_CONFIGS });
    assert.deepEqual(ren.made.map((m) => rel(llama, m.target)).sort(), ["qwen-big_1-00001-of-00002.gguf", "qwen-big_1-00002-of-00002.gguf"]);
  } finally {
    done();
  }
});

test("a dangling link we made is broken and replaced; a dangling link we did not make is foreign and left", async () => {
  const { lib, root, done } = await setup();
  try {
    // Not ours: a dangling link the user left where the embedding goes, before we ever linked anything.
    fs.mkdirSync(join(root, "embeddings"), { recursive: true });
    fs.symlinkSync("/nowhere/lost.safetensors", join(root, "embeddings", "easyneg.safetensors"));
    const first = await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.equal(first.conflicts.length, 1);
    assert.match(first.conflicts[0].reason, /dangling link we did not make/);
    assert.equal(fs.readlinkSync(join(root, "embeddings", "easyneg.safetensors")), "/nowhere/lost.safetensors");
    // Ours goes dangling: the model moves to a new folder (its old path is gone).
    fs.renameSync(join(lib.root, "diffusion/sdxl/juggernaut"), join(lib.root, "diffusion/sdxl/juggernaut_v2"));
    await lib.reconcile("full");
    // And the user re-points one of ours somewhere else: changed, not ours any more.
    fs.rmSync(join(root, "loras", "detail.safetensors"));
    fs.symlinkSync("/elsewhere/mine.safetensors", join(root, "loras", "detail.safetensors"));
    const check = await checkLinks(lib);
    assert.equal(check.counts.broken, 1);
    assert.equal(check.counts.changed, 1);
    const p = await previewMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.equal(p.replaces.length, 1);
    assert.match(p.replaces[0].target, /juggernaut\.safetensors$/);
    const r = await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.ok(r.made.some((m) => m.action === "replaced" && m.target.endsWith("juggernaut.safetensors")));
    assert.equal(fs.readlinkSync(join(root, "checkpoints", "juggernaut.safetensors")), join(lib.root, "diffusion/sdxl/juggernaut_v2/juggernaut.safetensors"));
    assert.equal(fs.readlinkSync(join(root, "embeddings", "easyneg.safetensors")), "/nowhere/lost.safetensors", "foreign dangling link left");
    assert.equal(fs.readlinkSync(join(root, "loras", "detail.safetensors")), "/elsewhere/mine.safetensors", "the user's re-pointed link left");
    const repaired = await repairLinks(lib);
    assert.ok(repaired.actions.some((a) => a.was === "changed" && a.action === "forgotten"));
    const after = await checkLinks(lib);
    assert.equal(after.ok, true, JSON.stringify(after.counts));
    assert.equal(fs.readlinkSync(join(root, "loras", "detail.safetensors")), "/elsewhere/mine.safetensors");
  } finally {
    done();
  }
});

test("a target folder that is itself a symlink (to another disk) is written through, never replaced", async () => {
  const { base, lib, root, done } = await setup();
  try {
    const other = join(base, "other-disk", "loras");
    fs.mkdirSync(other, { recursive: true });
    fs.writeFileSync(join(other, "keep.safetensors"), "user");
    fs.symlinkSync(other, join(root, "loras"));
    await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    assert.ok(fs.lstatSync(join(root, "loras")).isSymbolicLink(), "the folder link stays");
    assert.ok(fs.lstatSync(join(other, "detail.safetensors")).isSymbolicLink(), "ours went through it");
    const { unlinkApp } = await import("../../../src/mapper/index.js");
    await unlinkApp(lib, { app: "comfyui", root });
    assert.ok(fs.lstatSync(join(root, "loras")).isSymbolicLink(), "still there after unlink");
    assert.deepEqual(fs.readdirSync(other), ["keep.safetensors"]);
  } finally {
    done();
  }
});

test("nothing is made outside the app folder: a user rule leaving it and a hostile file name are excluded", async () => {
  const { base, lib, root, done } = await setup();
  try {
    const cfg = join(base, "cfg");
    fs.mkdirSync(cfg);
    fs.writeFileSync(join(cfg, "evil.json"), JSON.stringify({ app: "evil", version: "*", mappings: [{ target_dir: "../../escape", model_types: ["diffusion"] }, { target_dir: "ok", model_types: ["llm"] }] }));
    writeTinyModel(lib.root, { id: "llm/x/hostile", model_type: "llm", family: "x", format: "gguf", files: { "a.gguf": "x" } });
    // metadata.json naming a file outside the model folder
    const metaFile = join(lib.root, "llm/x/hostile/metadata.json");
    const meta = JSON.parse(fs.readFileSync(metaFile, "utf8"));
    meta.files = [{ name: "../../../../etc/passwd.gguf", size: 1 }];
    fs.writeFileSync(metaFile, JSON.stringify(meta));
    await lib.reconcile("full");
    const before = fs.readdirSync(base).sort();
    const r = await applyMapping(lib, { app: "evil", root, configDir: cfg });
    assert.ok(r.excluded.some((x) => /leaves the app folder/.test(x.reason)));
    assert.ok(r.excluded.some((x) => x.modelId === "llm/x/hostile" && /not a safe relative path/.test(x.reason)));
    assert.deepEqual(fs.readdirSync(base).sort(), before, "nothing new beside the app folder");
    for (const m of r.made) assert.ok(m.target.startsWith(join(base, "ComfyUI") + "/"));
  } finally {
    done();
  }
});

test("overrides.json version_ranges decides per app version (the original loaded it but never looked)", async () => {
  const { lib, root, done } = await setup();
  try {
    fs.writeFileSync(join(lib.modelDir("diffusion/sdxl/juggernaut"), "overrides.json"), JSON.stringify({ version_ranges: { comfyui: ">=0.3 <0.4" } }));
    const old = await previewMapping(lib, { app: "comfyui", root, appVersion: "0.2.5", configDir: NO_USER_CONFIGS });
    assert.ok(old.excluded.some((x) => x.modelId === "diffusion/sdxl/juggernaut" && /version_ranges/.test(x.reason)));
    assert.ok(!old.creates.some((c) => c.modelId === "diffusion/sdxl/juggernaut"));
    const ok = await previewMapping(lib, { app: "comfyui", root, appVersion: "0.3.7", configDir: NO_USER_CONFIGS });
    assert.ok(ok.creates.some((c) => c.modelId === "diffusion/sdxl/juggernaut"));
  } finally {
    done();
  }
});

test("the app folder must exist (nothing is created outside --root's parent)", async () => {
  const { base, lib, done } = await setup();
  try {
    await assert.rejects(applyMapping(lib, { app: "comfyui", root: join(base, "typo", "models"), configDir: NO_USER_CONFIGS }), /does not exist/);
    assert.ok(!fs.existsSync(join(base, "typo")));
  } finally {
    done();
  }
});

test("--link hardlink and copy record inode/size; check sees an edited copy as changed", async () => {
  const { base, lib, done } = await setup();
  try {
    const hl = join(base, "hl", "models");
    fs.mkdirSync(hl, { recursive: true });
    await applyMapping(lib, { app: "llamacpp", root: hl, link: "hardlink", configDir: NO_USER_CONFIGS });
    const src = fs.statSync(join(lib.root, "llm/llama/tiny_llama/tinyllama.Q4_K_M.gguf"));
    assert.equal(fs.statSync(join(hl, "tinyllama.Q4_K_M.gguf")).ino, src.ino);
    const cp = join(base, "cp", "models");
    fs.mkdirSync(cp, { recursive: true });
    await applyMapping(lib, { app: "llamacpp", root: cp, link: "copy", configDir: NO_USER_CONFIGS });
    const reg = LinkRegistry.load(lib.root);
    const e = reg.get(join(cp, "tinyllama.Q4_K_M.gguf"))!;
    assert.equal(e.link_type, "copy");
    assert.equal(typeof e.target_inode, "number");
    assert.equal(e.source_size, src.size);
    fs.appendFileSync(join(cp, "tinyllama.Q4_K_M.gguf"), "edited");
    const c = await checkLinks(lib, { app: "llamacpp" });
    assert.equal(c.counts.changed, 1);
    assert.equal(c.ok, false);
  } finally {
    done();
  }
});

test("cancel during apply: E_CANCELLED, what was made is recorded, nothing pending, check healthy", async () => {
  const { lib, base, done } = await setup();
  try {
    for (let i = 0; i < 600; i++) writeTinyModel(lib.root, { id: `llm/many/m${i}`, model_type: "llm", family: "many", format: "gguf", files: { [`m${i}.gguf`]: "x" } });
    await lib.reconcile("full");
    const root = join(base, "llama", "models");
    fs.mkdirSync(root, { recursive: true });
    const ac = new AbortController();
    await assert.rejects(
      applyMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS }, { signal: ac.signal, onProgress: (e) => e.phase === "link" && (e.done ?? 0) > 0 && ac.abort() }),
      (e: { code?: string }) => e.code === "E_CANCELLED",
    );
    const reg = LinkRegistry.load(lib.root);
    assert.ok(reg.count() > 0 && reg.count() < 603, `some made: ${reg.count()}`);
    assert.ok(reg.all().every((e) => !e.pending));
    assert.equal(fs.readdirSync(root).length, reg.count());
    assert.equal((await checkLinks(lib)).ok, true);
  } finally {
    done();
  }
});

test("repair: a hard link whose library file was re-written is re-made; a dangling link of a deleted model is removed", async () => {
  const { lib, base, done } = await setup();
  try {
    const hard = join(base, "hard", "models");
    const sym = join(base, "sym", "models");
    fs.mkdirSync(hard, { recursive: true });
    fs.mkdirSync(sym, { recursive: true });
    await applyMapping(lib, { app: "llamacpp", root: hard, link: "hardlink", configDir: NO_USER_CONFIGS });
    await applyMapping(lib, { app: "llamacpp", root: sym, link: "symlink", configDir: NO_USER_CONFIGS });
    // The library file gets a new inode (re-downloaded): our hard link now holds the old bytes.
    const src = join(lib.modelDir("llm/llama/tiny_llama"), "tinyllama.Q4_K_M.gguf");
    fs.rmSync(src);
    fs.writeFileSync(src, "gguf-bytes-v2");
    // Another model is deleted through the API, without the cascade: its symlinks dangle.
    await lib.remove("llm/qwen/qwen_big");
    const before = await checkLinks(lib);
    // The re-written file's hard link, and the deleted model's 2 symlinks and 2 hard links.
    assert.equal(before.counts.broken, 5, JSON.stringify(before.counts));
    const r = await repairLinks(lib);
    assert.ok(r.actions.some((a) => a.action === "remade" && a.target === join(hard, "tinyllama.Q4_K_M.gguf")));
    assert.equal(fs.statSync(join(hard, "tinyllama.Q4_K_M.gguf")).ino, fs.statSync(src).ino);
    assert.ok(!fs.existsSync(join(sym, "qwen-big-00001-of-00002.gguf")) && !isLink(join(sym, "qwen-big-00001-of-00002.gguf")), "dangling link of ours removed");
    // The hard links of the deleted model still hold its bytes: kept for the user, forgotten by the registry.
    assert.equal(fs.readFileSync(join(hard, "qwen-big-00001-of-00002.gguf"), "utf8"), "shard1");
    assert.equal((await checkLinks(lib)).ok, true);
  } finally {
    done();
  }
});

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}

test("the model list comes from the index; a metadata.json edited since indexed is read again, one listing no files falls back to the folder", async () => {
  const { base, lib, done } = await setup("llama");
  try {
    const llama = join(base, "llama", "models");
    // A model whose metadata.json lists no files: its weight files in the folder are linked (the original's rule).
    writeTinyModel(lib.root, { id: "llm/mistral/bare", model_type: "llm", family: "mistral", format: "gguf", files: { "bare.Q4_0.gguf": "bare" } });
    const bareMeta = join(lib.root, "llm/mistral/bare/metadata.json");
    fs.writeFileSync(bareMeta, JSON.stringify({ ...JSON.parse(fs.readFileSync(bareMeta, "utf8")), files: [] }));
    await lib.reconcile("full");
    assert.deepEqual(lib.index.modelFiles().find((m) => m.id === "llm/mistral/bare")?.files, []);
    // Indexed with tinyllama.Q4_K_M.gguf; then the file is renamed and metadata.json rewritten by hand, after
    // the last reconcile: only apply's stat of metadata.json can see it.
    const dir = lib.modelDir("llm/llama/tiny_llama");
    fs.renameSync(join(dir, "tinyllama.Q4_K_M.gguf"), join(dir, "tinyllama.Q8_0.gguf"));
    const metaFile = join(dir, "metadata.json");
    const meta = JSON.parse(fs.readFileSync(metaFile, "utf8")) as { files: { name: string; size: number }[] };
    meta.files = [{ ...meta.files[0], name: "tinyllama.Q8_0.gguf" }];
    fs.writeFileSync(metaFile, JSON.stringify(meta, null, 2));
    fs.utimesSync(metaFile, new Date(), new Date(Date.now() + 5000)); // a different mtime, whatever the clock's grain
    const r = await applyMapping(lib, { app: "llamacpp", root: llama, configDir: NO_USER_CONFIGS });
    assert.deepEqual(r.errors, []);
    assert.deepEqual(fs.readdirSync(llama).sort(), ["bare.Q4_0.gguf", "qwen-big-00001-of-00002.gguf", "qwen-big-00002-of-00002.gguf", "tinyllama.Q8_0.gguf"]);
    // The size recorded for a symlink comes from the index row.
    assert.equal(LinkRegistry.load(lib.root).get(join(llama, "tinyllama.Q8_0.gguf"))?.source_size, Buffer.byteLength("gguf-bytes"));
  } finally {
    done();
  }
});
