// `mlib merge SRC` and the links mlib made into app folders for SRC's models: after the merge they lead into this
// library (symlinks re-made, hard links kept or re-made), their entries move into this library's registry, and
// nothing that is not ours is touched. Real libraries, real links, the real CLI.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { nodeArgvFor, runCli, REPO_ROOT } from "../helpers/cli.js";
import { otherFilesystemDir, tempDir } from "../helpers/library-fixtures.js";
import { tinyLibrary, writeTinyModel, STANDARD_MODELS, type TinyModel } from "../helpers/mapper-fixtures.js";
import { ModelLibrary } from "../../src/store/model-library.js";
import { mergeLibrary } from "../../src/merge/merge-library.js";
import { LinkRegistry } from "../../src/mapper/registry.js";

const pick = (...ids: string[]): TinyModel[] => STANDARD_MODELS.filter((m) => ids.includes(m.id));

/** A model written with its SHA-256 recorded, so a merge finds SRC's copy of it a duplicate by content. */
function writeHashedModel(root: string, m: TinyModel): void {
  const dir = writeTinyModel(root, m);
  const file = join(dir, "metadata.json");
  const meta = JSON.parse(fs.readFileSync(file, "utf8"));
  for (const f of meta.files) f.sha256 = createHash("sha256").update(m.files[f.name]).digest("hex");
  fs.writeFileSync(file, JSON.stringify(meta, null, 2));
}

interface Setup {
  dir: string;
  srcRoot: string;
  destRoot: string;
  comfy: string;
  llama: string;
  env: Record<string, string>;
}

/**
 * SRC: a checkpoint, a LoRA, a diffusers folder, two GGUF models (one a shard set); linked into ComfyUI with
 * symlinks and into llama.cpp with hard links. DEST: a different model at the checkpoint's place (SRC's is kept
 * under a new name) and TinyLlama's bytes under another model and file name (SRC's copy is a duplicate).
 */
async function setup(cleanupDir: string, srcSide = cleanupDir): Promise<Setup> {
  const srcRoot = join(srcSide, "src");
  const destRoot = join(cleanupDir, "dest");
  (await tinyLibrary(srcRoot, pick("diffusion/sdxl/juggernaut", "diffusion/sdxl/detail_lora", "diffusion/flux/flux_dev_diffusers", "llm/llama/tiny_llama", "llm/qwen/qwen_big"))).close();
  writeTinyModel(destRoot, { id: "diffusion/sdxl/juggernaut", model_type: "diffusion", subtype: "checkpoints", family: "sdxl", format: "safetensors", files: { "juggernaut.safetensors": "another-ckpt" } });
  writeHashedModel(destRoot, { id: "llm/llama/tiny_copy", model_type: "llm", family: "llama", format: "gguf", files: { "renamed.gguf": "gguf-bytes" } });
  (await ModelLibrary.open(destRoot, { reconcile: "full" })).close();
  const env = { XDG_CONFIG_HOME: join(cleanupDir, "config") };
  const comfy = join(cleanupDir, "ComfyUI", "models");
  const llama = join(srcSide, "llama", "models"); // hard links live on SRC's filesystem
  fs.mkdirSync(comfy, { recursive: true });
  fs.mkdirSync(llama, { recursive: true });
  const a = await runCli(["map", "apply", "comfyui", "--root", comfy, "--link", "symlink", "--library", srcRoot], { env });
  assert.equal(a.code, 0, a.stdout + a.stderr);
  const b = await runCli(["map", "apply", "llamacpp", "--root", llama, "--link", "hardlink", "--library", srcRoot], { env });
  assert.equal(b.code, 0, b.stdout + b.stderr);
  return { dir: cleanupDir, srcRoot, destRoot, comfy, llama, env };
}

function inside(dir: string, p: string): boolean {
  return p.startsWith(fs.realpathSync(dir) + "/");
}

test("merge re-points SRC's links into DEST: symlinks re-made, hard links kept or re-made; a re-run changes nothing", async () => {
  const { dir, cleanup } = tempDir("mlib-mergelinks-");
  try {
    const s = await setup(dir);
    const before = LinkRegistry.load(s.srcRoot).all();
    assert.equal(before.length, 3 + 3, "3 ComfyUI symlinks, 3 llama.cpp hard links");
    // A model that stays in SRC: its file no longer has the recorded size (the merge leaves it and says why).
    writeTinyModel(s.srcRoot, { id: "diffusion/sd15/easyneg", model_type: "diffusion", subtype: "embeddings", family: "sd15", format: "safetensors", files: { "easyneg.safetensors": "emb" } });
    const c = await runCli(["map", "apply", "comfyui", "--root", s.comfy, "--link", "symlink", "--library", s.srcRoot], { env: s.env });
    assert.equal(c.code, 0, c.stdout + c.stderr);
    fs.appendFileSync(join(s.srcRoot, "diffusion", "sd15", "easyneg", "easyneg.safetensors"), "!");

    const regText = fs.readFileSync(join(s.srcRoot, "link_registry.json"), "utf8");
    const dry = await runCli(["merge", s.srcRoot, "--dry-run", "--library", s.destRoot], { env: s.env });
    assert.match(dry.stdout, /6 links mlib made into app folders for these models will be re-pointed/);
    assert.equal(fs.readFileSync(join(s.srcRoot, "link_registry.json"), "utf8"), regText, "a dry run writes nothing");
    const merged = await runCli(["merge", s.srcRoot, "--json", "--library", s.destRoot], { env: s.env });
    assert.equal(merged.code, 1, "one model left in SRC: " + merged.stderr);
    const r = JSON.parse(merged.stdout);
    assert.deepEqual(r.counts, { moved: 3, renamed: 1, duplicates: 1, left: 1 });
    assert.equal(r.links.errors.length, 0, JSON.stringify(r.links.errors));
    assert.equal(r.links.links.length, 6);
    assert.ok(!fs.existsSync(join(s.destRoot, ".model-library", "merge-journal.json")), "the merge finished");

    const check = await runCli(["links", "check", "--json", "--library", s.destRoot], { env: s.env });
    assert.equal(check.code, 0, check.stdout + check.stderr);
    const checked = JSON.parse(check.stdout);
    assert.equal(checked.counts.healthy, 6);
    for (const l of checked.links) {
      const st = fs.lstatSync(l.target);
      if (l.link_type === "symlink") {
        assert.ok(st.isSymbolicLink());
        assert.ok(inside(s.destRoot, fs.realpathSync(l.target)), `${l.target} resolves into DEST`);
      } else {
        assert.equal(l.link_type, "hardlink");
        assert.equal(st.ino, fs.statSync(l.source).ino, `${l.target} is the DEST file`);
        assert.ok(inside(s.destRoot, l.source));
      }
    }
    // The renamed checkpoint and the duplicate's file under its other name.
    const dest = LinkRegistry.load(s.destRoot);
    assert.equal(fs.readlinkSync(join(s.comfy, "checkpoints", "juggernaut.safetensors")), join(s.destRoot, "diffusion", "sdxl", "juggernaut-2", "juggernaut.safetensors"));
    assert.equal(dest.get(join(s.comfy, "checkpoints", "juggernaut.safetensors"))?.model_id, "diffusion/sdxl/juggernaut-2");
    const tiny = dest.get(join(s.llama, "tinyllama.Q4_K_M.gguf"))!;
    assert.ok(tiny, JSON.stringify(dest.all().map((e) => e.target)));
    assert.equal(tiny.model_id, "llm/llama/tiny_copy");
    assert.equal(tiny.source, join(s.destRoot, "llm", "llama", "tiny_copy", "renamed.gguf"));
    assert.equal(fs.readFileSync(tiny.target, "utf8"), "gguf-bytes");
    assert.ok(fs.realpathSync(join(s.comfy, "diffusers", "flux_dev_diffusers")).startsWith(fs.realpathSync(s.destRoot)), "the folder link too");

    // SRC keeps only the entry of the model it kept, still healthy.
    const srcLeft = LinkRegistry.load(s.srcRoot).all();
    assert.deepEqual(srcLeft.map((e) => e.model_id), ["diffusion/sd15/easyneg"]);
    const srcCheck = await runCli(["links", "check", "--library", s.srcRoot], { env: s.env });
    assert.equal(srcCheck.code, 0, srcCheck.stdout + srcCheck.stderr);

    // A re-run: nothing moves, no link or registry changes.
    const regBefore = fs.readFileSync(join(s.destRoot, "link_registry.json"), "utf8");
    const inodes = checked.links.map((l: { target: string }) => fs.lstatSync(l.target).ino);
    const again = await runCli(["merge", s.srcRoot, "--json", "--library", s.destRoot], { env: s.env });
    const r2 = JSON.parse(again.stdout);
    assert.deepEqual(r2.counts, { moved: 0, renamed: 0, duplicates: 0, left: 1 });
    assert.equal(r2.links.links.length, 0);
    assert.equal(fs.readFileSync(join(s.destRoot, "link_registry.json"), "utf8"), regBefore);
    assert.deepEqual(checked.links.map((l: { target: string }) => fs.lstatSync(l.target).ino), inodes);
  } finally {
    cleanup();
  }
});

test("a user's file where our link was is left alone; its entry moves and DEST's links check names it", async () => {
  const { dir, cleanup } = tempDir("mlib-mergelinks-");
  try {
    const s = await setup(dir);
    const lora = join(s.comfy, "loras", "detail.safetensors");
    fs.rmSync(lora);
    fs.writeFileSync(lora, "the user's own lora");
    const shard = join(s.llama, "qwen-big-00001-of-00002.gguf");
    fs.rmSync(shard);
    fs.writeFileSync(shard, "shard1"); // the same bytes, but the user's own file (another inode)
    const shardIno = fs.statSync(shard).ino;
    const merged = await runCli(["merge", s.srcRoot, "--library", s.destRoot], { env: s.env });
    assert.equal(merged.code, 0, merged.stdout + merged.stderr);
    assert.match(merged.stdout, /link untouched\s+\S*detail\.safetensors/);
    assert.match(merged.stdout, /link untouched\s+\S*qwen-big-00001-of-00002\.gguf/);
    assert.match(merged.stdout, /3 re-pointed, 1 moved/);
    assert.equal(fs.readFileSync(lora, "utf8"), "the user's own lora");
    assert.ok(fs.lstatSync(lora).isFile());
    assert.equal(fs.statSync(shard).ino, shardIno, "the user's file is not replaced by a link");
    const check = await runCli(["links", "check", "--json", "--library", s.destRoot], { env: s.env });
    const checked = JSON.parse(check.stdout);
    assert.equal(check.code, 1);
    assert.deepEqual({ healthy: checked.counts.healthy, foreign: checked.counts.foreign, changed: checked.counts.changed }, { healthy: 4, foreign: 1, changed: 1 });
    assert.equal(LinkRegistry.load(s.srcRoot).count(), 0, "SRC lists no moved model");
  } finally {
    cleanup();
  }
});

test("killed while re-pointing (or before), the same `mlib merge SRC` finishes it", async () => {
  const { dir, cleanup } = tempDir("mlib-mergelinks-");
  try {
    const s = await setup(dir);
    // A real kill -9 inside the re-pointing step, holding both registry locks, after every model moved.
    const child = spawn(process.execPath, [...nodeArgvFor(join(REPO_ROOT, "test", "helpers", "merge-links-child.ts")), s.destRoot, s.srcRoot], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "inherit"] });
    await new Promise<void>((resolve, reject) => {
      child.stdout!.on("data", (d: Buffer) => {
        if (d.toString().includes("STOP")) resolve();
      });
      child.on("exit", (code) => reject(new Error(`child exited ${code} before stopping`)));
    });
    child.kill("SIGKILL");
    await new Promise((r) => child.once("close", r));
    assert.ok(fs.existsSync(join(s.destRoot, ".model-library", "merge-journal.json")), "the journal says the merge is unfinished");
    assert.ok(!fs.existsSync(join(s.srcRoot, "llm", "qwen", "qwen_big")), "the models had moved");
    // As a kill between re-making a link and saving the registries leaves it: one symlink already re-pointed.
    const ckpt = join(s.comfy, "checkpoints", "juggernaut.safetensors");
    fs.rmSync(ckpt);
    fs.symlinkSync(join(s.destRoot, "diffusion", "sdxl", "juggernaut-2", "juggernaut.safetensors"), ckpt);

    const again = await runCli(["merge", s.srcRoot, "--json", "--library", s.destRoot], { env: s.env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const r = JSON.parse(again.stdout);
    assert.equal(r.resumed, true);
    assert.equal(r.links.links.length, 6);
    assert.ok(!fs.existsSync(join(s.destRoot, ".model-library", "merge-journal.json")));
    const check = await runCli(["links", "check", "--json", "--library", s.destRoot], { env: s.env });
    assert.equal(check.code, 0, check.stdout);
    assert.equal(JSON.parse(check.stdout).counts.healthy, 6);
    assert.equal(LinkRegistry.load(s.srcRoot).count(), 0);
    assert.deepEqual(fs.readdirSync(join(s.comfy, "checkpoints")), ["juggernaut.safetensors"], "no temp link left");
  } finally {
    cleanup();
  }
});

test("a merge step after the moves that fails keeps the journal; the CLI's re-run re-points", async () => {
  const { dir, cleanup } = tempDir("mlib-mergelinks-");
  try {
    const s = await setup(dir);
    const lib = await ModelLibrary.open(s.destRoot);
    try {
      await assert.rejects(mergeLibrary(lib, { source: s.srcRoot, beforeFinish: async () => { throw new Error("stopped"); } }), /stopped/);
    } finally {
      lib.close();
    }
    assert.ok(fs.existsSync(join(s.destRoot, ".model-library", "merge-journal.json")));
    const again = await runCli(["merge", s.srcRoot, "--library", s.destRoot], { env: s.env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /links into the source: 4 re-pointed, 2 moved/);
    const check = await runCli(["links", "check", "--library", s.destRoot], { env: s.env });
    assert.equal(check.code, 0, check.stdout);
  } finally {
    cleanup();
  }
});

test("an apply into SRC killed before recording a link: the link, proven ours, is carried over", async () => {
  const { dir, cleanup } = tempDir("mlib-mergelinks-");
  try {
    const s = await setup(dir);
    const file = join(s.srcRoot, "link_registry.json");
    const reg = JSON.parse(fs.readFileSync(file, "utf8"));
    const lora = join(s.comfy, "loras", "detail.safetensors");
    const shard = join(s.llama, "qwen-big-00002-of-00002.gguf");
    reg.by_target[lora].pending = true; // as a kill between the link and its record leaves it
    reg.by_target[shard] = { ...reg.by_target[shard], pending: true, target_inode: undefined, target_size: undefined };
    fs.writeFileSync(file, JSON.stringify(reg));
    const merged = await runCli(["merge", s.srcRoot, "--library", s.destRoot], { env: s.env });
    assert.equal(merged.code, 0, merged.stdout + merged.stderr);
    const check = await runCli(["links", "check", "--json", "--library", s.destRoot], { env: s.env });
    assert.equal(check.code, 0, check.stdout);
    const links = JSON.parse(check.stdout).links as { target: string; pending?: boolean }[];
    assert.equal(links.length, 6);
    assert.ok(links.every((l) => !l.pending));
    assert.ok(fs.realpathSync(lora).startsWith(fs.realpathSync(s.destRoot)));
  } finally {
    cleanup();
  }
});

test("across filesystems (SRC on /dev/shm): models copied, symlinks re-pointed, hard links kept as copies", async (t) => {
  const { dir, cleanup } = tempDir("mlib-mergelinks-");
  const other = otherFilesystemDir(t, "mlib-mergelinks-", dir);
  if (!other) return cleanup();
  const shm = other.dir;
  try {
    const s = await setup(dir, shm);
    const hardInodes = ["tinyllama.Q4_K_M.gguf", "qwen-big-00001-of-00002.gguf"].map((n) => fs.statSync(join(s.llama, n)).ino);
    const merged = await runCli(["merge", s.srcRoot, "--json", "--library", s.destRoot], { env: s.env });
    assert.equal(merged.code, 0, merged.stdout + merged.stderr);
    const r = JSON.parse(merged.stdout);
    assert.equal(r.sameFilesystem, false);
    // tiny_llama is a duplicate (its SRC copy removed); the other two GGUF files were copied with their model.
    assert.equal(r.links.counts["kept-as-copy"], 3, JSON.stringify(r.links.links));
    assert.equal(r.links.counts.repointed, 3);
    assert.deepEqual(["tinyllama.Q4_K_M.gguf", "qwen-big-00001-of-00002.gguf"].map((n) => fs.statSync(join(s.llama, n)).ino), hardInodes, "the files stay as they are");
    const check = await runCli(["links", "check", "--json", "--library", s.destRoot], { env: s.env });
    assert.equal(check.code, 0, check.stdout);
    const links = JSON.parse(check.stdout).links as { target: string; link_type: string }[];
    assert.deepEqual(links.map((l) => l.link_type).sort(), ["copy", "copy", "copy", "symlink", "symlink", "symlink"]);
    assert.equal(LinkRegistry.load(s.srcRoot).count(), 0);
  } finally {
    cleanup();
    other.cleanup();
  }
});

test("a link that cannot be re-pointed keeps the merge open; once the cause is gone the same command finishes it", async () => {
  const { dir, cleanup } = tempDir("mlib-mergelinks-");
  try {
    const s = await setup(dir);
    // A folder of someone's at the temp name the new link would be made at: not ours to remove.
    const blocker = join(s.comfy, "loras", ".detail.safetensors.mlib-new");
    fs.mkdirSync(blocker);
    fs.writeFileSync(join(blocker, "keep"), "x");
    const merged = await runCli(["merge", s.srcRoot, "--library", s.destRoot], { env: s.env });
    assert.notEqual(merged.code, 0);
    assert.match(merged.stderr, /5 models merged, but 1 links into .* could not be re-pointed: .*detail\.safetensors.*run `mlib merge/s);
    assert.ok(fs.existsSync(join(s.destRoot, ".model-library", "merge-journal.json")), "the merge stays open");
    assert.equal(fs.readFileSync(join(blocker, "keep"), "utf8"), "x");
    assert.deepEqual(LinkRegistry.load(s.srcRoot).all().map((e) => e.model_id), ["diffusion/sdxl/detail_lora"], "only the failed one is still SRC's");
    fs.rmSync(blocker, { recursive: true });
    const again = await runCli(["merge", s.srcRoot, "--library", s.destRoot], { env: s.env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    assert.match(again.stdout, /links into the source: 1 re-pointed, 0 moved/);
    assert.ok(!fs.existsSync(join(s.destRoot, ".model-library", "merge-journal.json")));
    const check = await runCli(["links", "check", "--library", s.destRoot], { env: s.env });
    assert.equal(check.code, 0, check.stdout);
  } finally {
    cleanup();
  }
});

test("a link on a disk that is not mounted during the merge is not taken for removed: once the disk is back, links repair re-points it", async () => {
  const { dir, cleanup } = tempDir("mlib-mergelinks-");
  try {
    const s = await setup(dir);
    // ComfyUI's loras folder is where a disk is mounted, made on it (its device recorded), and now not mounted.
    const loras = join(s.comfy, "loras");
    const lora = join(loras, "detail.safetensors");
    const reg = join(s.srcRoot, "link_registry.json");
    const setDevice = (file: string, dev: number) => {
      const data = JSON.parse(fs.readFileSync(file, "utf8"));
      data.by_target[lora].target_dir_device = dev;
      fs.writeFileSync(file, JSON.stringify(data, null, 2));
    };
    const realDev = fs.statSync(loras).dev;
    setDevice(reg, realDev + 1);
    fs.renameSync(loras, join(dir, "loras-disk"));
    fs.mkdirSync(loras);
    const merged = await runCli(["merge", s.srcRoot, "--json", "--library", s.destRoot], { env: s.env });
    assert.equal(merged.code, 0, merged.stdout + merged.stderr);
    const r = JSON.parse(merged.stdout);
    const l = r.links.links.find((x: { target: string }) => x.target === lora);
    assert.equal(l.action, "untouched");
    assert.match(l.detail, /not mounted.*links repair/);
    assert.deepEqual(fs.readdirSync(loras), [], "nothing made in the empty mount point");
    const during = JSON.parse((await runCli(["links", "check", "--json", "--library", s.destRoot], { env: s.env })).stdout);
    assert.equal(during.links.find((x: { target: string }) => x.target === lora).status, "unreadable");

    // The disk is back (its device as recorded): our link, still to SRC's old place, is broken (ours), not changed.
    fs.rmdirSync(loras);
    fs.renameSync(join(dir, "loras-disk"), loras);
    setDevice(join(s.destRoot, "link_registry.json"), realDev);
    const back = JSON.parse((await runCli(["links", "check", "--json", "--library", s.destRoot], { env: s.env })).stdout);
    const b = back.links.find((x: { target: string }) => x.target === lora);
    assert.equal(b.status, "broken", JSON.stringify(b));
    const rep = await runCli(["links", "repair", "--library", s.destRoot], { env: s.env });
    assert.equal(rep.code, 0, rep.stdout + rep.stderr);
    const after = await runCli(["links", "check", "--library", s.destRoot], { env: s.env });
    assert.equal(after.code, 0, after.stdout + after.stderr);
    assert.ok(inside(s.destRoot, fs.realpathSync(lora)), "re-pointed into DEST");
  } finally {
    cleanup();
  }
});
