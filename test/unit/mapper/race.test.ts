// A name taken between planning and linking: apply classifies each target once (a readdir of its folder), then
// records and makes the links without looking again. What appears meanwhile must still never be replaced: the
// link call itself refuses an existing name (EEXIST), the unit is left, reported and not recorded as ours.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks } from "../../../src/mapper/index.js";
import { LinkRegistry } from "../../../src/mapper/registry.js";
import type { LinkChoice } from "../../../src/mapper/types.js";
import type { ModelLibrary } from "../../../src/store/model-library.js";
import type { ProgressEvent } from "../../../src/operations/types.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

/** Runs `fn` once, when apply has recorded its plan and is about to make the first link. */
function atLinkStart(fn: () => void): (e: ProgressEvent) => void {
  let fired = false;
  return (e) => {
    if (e.phase === "link" && e.done === 0 && !fired) {
      fired = true;
      fn();
    }
  };
}

async function setup(): Promise<{ lib: ModelLibrary; llama: string; done: () => void }> {
  const { dir, cleanup } = tempDir("mlib-race-");
  const lib = await tinyLibrary(join(dir, "lib"));
  const llama = join(dir, "llama", "models");
  fs.mkdirSync(llama, { recursive: true });
  return { lib, llama, done: () => (lib.close(), cleanup()) };
}

for (const link of ["symlink", "hardlink", "copy", "auto"] as LinkChoice[]) {
  test(`--link ${link}: a file the user puts at a target after planning is never replaced; the rest is linked`, async () => {
    const { lib, llama, done } = await setup();
    try {
      const taken = join(llama, "tinyllama.Q4_K_M.gguf");
      const r = await applyMapping(lib, { app: "llamacpp", root: llama, link, configDir: NO_USER_CONFIGS }, { onProgress: atLinkStart(() => fs.writeFileSync(taken, "the user's own file")) });
      assert.equal(fs.readFileSync(taken, "utf8"), "the user's own file", "left exactly as the user wrote it");
      assert.ok(fs.lstatSync(taken).isFile());
      assert.deepEqual(
        r.errors.map((e) => [e.target, e.code]),
        [[taken, "E_EXISTS"]],
      );
      assert.match(r.errors[0].message, /appeared/);
      // The other unit (both shards of qwen) is linked; nothing of ours is recorded at the user's name.
      assert.deepEqual(r.made.map((m) => m.target.slice(llama.length + 1)).sort(), ["qwen-big-00001-of-00002.gguf", "qwen-big-00002-of-00002.gguf"]);
      const reg = LinkRegistry.load(lib.root);
      assert.equal(reg.get(taken), null);
      assert.ok(reg.all().every((e) => !e.pending), "no pending entry left behind");
      assert.deepEqual(fs.readdirSync(llama).filter((n) => n.includes("mlib")), [], "no temp file left");
      assert.equal((await checkLinks(lib)).ok, true);
    } finally {
      done();
    }
  });
}

test("a shard set is all or nothing when one shard's name is taken meanwhile: the other shard is removed again, the user's file stays", async () => {
  const { lib, llama, done } = await setup();
  try {
    const second = join(llama, "qwen-big-00002-of-00002.gguf");
    const r = await applyMapping(lib, { app: "llamacpp", root: llama, link: "symlink", configDir: NO_USER_CONFIGS }, { onProgress: atLinkStart(() => fs.symlinkSync("/somewhere/else", second)) });
    assert.equal(fs.readlinkSync(second), "/somewhere/else", "the user's link is untouched");
    assert.ok(!fs.existsSync(join(llama, "qwen-big-00001-of-00002.gguf")) && !isLink(join(llama, "qwen-big-00001-of-00002.gguf")), "the first shard was taken back");
    assert.deepEqual(r.errors.map((e) => e.target), [second]);
    assert.deepEqual(r.made.map((m) => m.target), [join(llama, "tinyllama.Q4_K_M.gguf")]);
    const reg = LinkRegistry.load(lib.root);
    assert.deepEqual(reg.all().map((e) => e.target), [join(llama, "tinyllama.Q4_K_M.gguf")]);
  } finally {
    done();
  }
});

test("a folder that appears as a file where apply must create a folder: that unit fails clearly, the file stays", async () => {
  const { dir, cleanup } = tempDir("mlib-race-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    const loras = join(root, "loras");
    const r = await applyMapping(lib, { app: "comfyui", root, link: "symlink", configDir: NO_USER_CONFIGS }, { onProgress: atLinkStart(() => fs.writeFileSync(loras, "not a folder")) });
    assert.equal(fs.readFileSync(loras, "utf8"), "not a folder");
    assert.deepEqual(r.errors.map((e) => [e.target, e.code]), [[join(loras, "detail.safetensors"), "E_EXISTS"]]);
    assert.equal(r.made.length, 3);
    assert.equal((await checkLinks(lib)).ok, true);
  } finally {
    lib.close();
    cleanup();
  }
});

function isLink(p: string): boolean {
  try {
    return fs.lstatSync(p).isSymbolicLink();
  } catch {
    return false;
  }
}
