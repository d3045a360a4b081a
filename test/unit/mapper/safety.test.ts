// The mapper's safety guarantees, each a test: nothing that is not ours is ever deleted or overwritten.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks, removeModelLinks, repairLinks, unlinkApp } from "../../../src/mapper/index.js";
import { LinkRegistry, registryPath } from "../../../src/mapper/registry.js";
import { journalPath } from "../../../src/mapper/link-journal.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { nodeArgvFor, runCli } from "../../helpers/cli.js";
import { tinyLibrary, writeTinyModel } from "../../helpers/mapper-fixtures.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";
const CHILD = new URL("../../helpers/mapper-apply-child.ts", import.meta.url).pathname;
const GGUF = "llm/llama/tiny_llama";

function appRoot(base: string, name: string): string {
  const root = join(base, name, "models");
  fs.mkdirSync(root, { recursive: true });
  return root;
}

test("cascade removes our symlink, hardlink and copy of the model, and nothing else (user's own links and copies stay)", async () => {
  const { dir, cleanup } = tempDir("mlib-safe-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const src = join(lib.modelDir(GGUF), "tinyllama.Q4_K_M.gguf");
    const sym = appRoot(dir, "sym");
    const hard = appRoot(dir, "hard");
    const copy = appRoot(dir, "copy");
    await applyMapping(lib, { app: "llamacpp", root: sym, link: "symlink", configDir: NO_USER_CONFIGS });
    await applyMapping(lib, { app: "llamacpp", root: hard, link: "hardlink", configDir: NO_USER_CONFIGS });
    await applyMapping(lib, { app: "llamacpp", root: copy, link: "copy", configDir: NO_USER_CONFIGS });
    // The user's own: a hard link and a copy of the same file, and a symlink to it, none made by us.
    const userDir = join(dir, "sym", "mine");
    fs.mkdirSync(userDir);
    fs.linkSync(src, join(userDir, "my-hardlink.gguf"));
    fs.copyFileSync(src, join(userDir, "my-copy.gguf"));
    fs.symlinkSync(src, join(userDir, "my-symlink.gguf"));
    const r = await removeModelLinks(lib, { modelId: GGUF });
    assert.equal(r.removed, 3);
    assert.deepEqual(r.errors, []);
    for (const root of [sym, hard, copy]) assert.ok(!fs.existsSync(join(root, "tinyllama.Q4_K_M.gguf")));
    assert.deepEqual(fs.readdirSync(userDir).sort(), ["my-copy.gguf", "my-hardlink.gguf", "my-symlink.gguf"]);
    assert.ok(fs.existsSync(src), "the library's file itself is untouched by the cascade");
    assert.ok(fs.existsSync(join(sym, "qwen-big-00001-of-00002.gguf")), "other models' links stay");
    assert.equal(LinkRegistry.load(lib.root).forModel(GGUF).length, 0);
  } finally {
    lib.close();
    cleanup();
  }
});

test("a hardlink whose inode changed and a copy the user edited are reported, not deleted", async () => {
  const { dir, cleanup } = tempDir("mlib-safe-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const hard = appRoot(dir, "hard");
    const copy = appRoot(dir, "copy");
    await applyMapping(lib, { app: "llamacpp", root: hard, link: "hardlink", configDir: NO_USER_CONFIGS });
    await applyMapping(lib, { app: "llamacpp", root: copy, link: "copy", configDir: NO_USER_CONFIGS });
    const h = join(hard, "tinyllama.Q4_K_M.gguf");
    fs.rmSync(h);
    fs.writeFileSync(h, "the user's new file under the same name");
    const c = join(copy, "tinyllama.Q4_K_M.gguf");
    fs.appendFileSync(c, " + user's edit");
    const r = await removeModelLinks(lib, { modelId: GGUF });
    assert.equal(r.removed, 0);
    assert.equal(r.kept, 2);
    assert.ok(r.outcomes.every((o) => o.status === "changed"));
    assert.equal(fs.readFileSync(h, "utf8"), "the user's new file under the same name");
    assert.match(fs.readFileSync(c, "utf8"), /user's edit$/);
  } finally {
    lib.close();
    cleanup();
  }
});

test("the original's link_registry.json is read as it is; cascade removes its links (copies proven by hash) and keeps the shape", async () => {
  const { dir, cleanup } = tempDir("mlib-safe-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const src = join(lib.modelDir(GGUF), "tinyllama.Q4_K_M.gguf");
    const root = appRoot(dir, "orig");
    const t = (n: string) => join(root, n);
    fs.symlinkSync(src, t("a.gguf"));
    fs.linkSync(src, t("b.gguf"));
    fs.copyFileSync(src, t("c.gguf"));
    fs.writeFileSync(t("d.gguf"), "not the same content at all");
    const entry = (target: string, link_type: string) => ({ model_id: GGUF, source: src, target, link_type, created_at: "2024-05-01T10:00:00Z", app_id: "comfyui", app_version: null });
    fs.writeFileSync(
      registryPath(lib.root),
      JSON.stringify({
        by_target: { [t("a.gguf")]: entry(t("a.gguf"), "symlink"), [t("b.gguf")]: entry(t("b.gguf"), "hardlink"), [t("c.gguf")]: entry(t("c.gguf"), "copy"), [t("d.gguf")]: entry(t("d.gguf"), "copy") },
        // The original duplicated re-registered targets in by_model.
        by_model: { [GGUF]: [t("a.gguf"), t("b.gguf"), t("c.gguf"), t("d.gguf"), t("a.gguf")] },
      }),
    );
    const check = await checkLinks(lib);
    assert.equal(check.counts.healthy, 3);
    assert.equal(check.counts.changed, 1, "d: size differs from its source");
    const r = await removeModelLinks(lib, { modelId: GGUF });
    assert.deepEqual(r.outcomes.filter((o) => o.outcome === "removed").map((o) => o.target).sort(), [t("a.gguf"), t("b.gguf"), t("c.gguf")]);
    assert.equal(fs.readFileSync(t("d.gguf"), "utf8"), "not the same content at all");
    const saved = JSON.parse(fs.readFileSync(registryPath(lib.root), "utf8"));
    assert.deepEqual(Object.keys(saved).sort(), ["by_model", "by_target"]);
  } finally {
    lib.close();
    cleanup();
  }
});

test("the registry we write stays readable by the original: its fields and three link_type values", async () => {
  const { dir, cleanup } = tempDir("mlib-safe-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    await applyMapping(lib, { app: "comfyui", root: appRoot(dir, "ComfyUI"), configDir: NO_USER_CONFIGS });
    await applyMapping(lib, { app: "llamacpp", root: appRoot(dir, "llama"), link: "copy", configDir: NO_USER_CONFIGS });
    const saved = JSON.parse(fs.readFileSync(registryPath(lib.root), "utf8"));
    for (const [target, e] of Object.entries<Record<string, unknown>>(saved.by_target)) {
      assert.equal(e.target, target);
      for (const k of ["model_id", "source", "target", "created_at", "app_id"]) assert.equal(typeof e[k], "string", k);
      assert.ok("app_version" in e);
      assert.ok(["symlink", "hardlink", "copy"].includes(e.link_type as string));
      assert.ok(!Number.isNaN(Date.parse(e.created_at as string)));
      assert.ok((saved.by_model[e.model_id as string] as string[]).includes(target));
      assert.equal(e.pending, undefined);
    }
  } finally {
    lib.close();
    cleanup();
  }
});

test("never delete through a symlink: a user's folder or link put where ours was is left, and so is what it points to", async () => {
  const { dir, cleanup } = tempDir("mlib-safe-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = appRoot(dir, "ComfyUI");
    await applyMapping(lib, { app: "comfyui", root, configDir: NO_USER_CONFIGS });
    // Our diffusers folder link becomes a real folder of the user's.
    const folder = join(root, "diffusers", "flux_dev_diffusers");
    fs.rmSync(folder);
    fs.mkdirSync(folder);
    fs.writeFileSync(join(folder, "precious.bin"), "x");
    // Our copy-less symlink becomes the user's symlink to their own important file.
    const important = join(dir, "important.safetensors");
    fs.writeFileSync(important, "keep me");
    const lora = join(root, "loras", "detail.safetensors");
    fs.rmSync(lora);
    fs.symlinkSync(important, lora);
    const r = await unlinkApp(lib, { app: "comfyui", root });
    assert.equal(r.kept, 2);
    assert.ok(fs.existsSync(join(folder, "precious.bin")));
    assert.equal(fs.readlinkSync(lora), important);
    assert.equal(fs.readFileSync(important, "utf8"), "keep me");
    assert.ok(!fs.existsSync(join(root, "checkpoints", "juggernaut.safetensors")), "ours removed");
  } finally {
    lib.close();
    cleanup();
  }
});

test("a registry entry pointing out of the app folder it was made for is never touched (hand-edited registry)", async () => {
  const { dir, cleanup } = tempDir("mlib-safe-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = appRoot(dir, "ComfyUI");
    const outside = join(dir, "outside.gguf");
    const src = join(lib.modelDir(GGUF), "tinyllama.Q4_K_M.gguf");
    fs.symlinkSync(src, outside);
    fs.writeFileSync(
      registryPath(lib.root),
      JSON.stringify({ by_target: { [outside]: { model_id: GGUF, source: src, target: outside, link_type: "symlink", created_at: "2024-01-01T00:00:00Z", app_id: "comfyui", app_version: null, app_root: root } }, by_model: {} }),
    );
    const r = await removeModelLinks(lib, { modelId: GGUF });
    assert.equal(r.removed, 0);
    assert.ok(fs.lstatSync(outside).isSymbolicLink());
  } finally {
    lib.close();
    cleanup();
  }
});

test("mlib rm of a linked model refuses and names the links; --cascade removes them and the model", async () => {
  const { dir, cleanup } = tempDir("mlib-safe-");
  const lib = await tinyLibrary(join(dir, "lib"));
  const root = appRoot(dir, "llama");
  await applyMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS });
  lib.close();
  try {
    const refused = await runCli(["rm", GGUF, "--yes", "--library", join(dir, "lib")]);
    assert.equal(refused.code, 1);
    assert.match(refused.stderr, /linked into apps/);
    assert.ok(refused.stderr.includes(join(root, "tinyllama.Q4_K_M.gguf")));
    assert.ok(fs.existsSync(join(dir, "lib", GGUF, "metadata.json")), "model kept");
    const ok = await runCli(["rm", GGUF, "--yes", "--cascade", "--library", join(dir, "lib")]);
    assert.equal(ok.code, 0, ok.stderr);
    assert.ok(!fs.existsSync(join(root, "tinyllama.Q4_K_M.gguf")));
    assert.ok(!fs.existsSync(join(dir, "lib", GGUF)));
    assert.ok(fs.existsSync(join(root, "qwen-big-00001-of-00002.gguf")));
  } finally {
    cleanup();
  }
});

function runChild(args: string[]): { child: ReturnType<typeof spawn>; done: Promise<{ code: number | null; out: string; err: string }> } {
  const child = spawn(process.execPath, [...nodeArgvFor(CHILD), ...args], { stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  child.stdout!.on("data", (d) => (out += d));
  child.stderr!.on("data", (d) => (err += d));
  const done = new Promise<{ code: number | null; out: string; err: string }>((resolve) => child.on("close", (code) => resolve({ code, out, err })));
  return { child, done };
}

async function manyModels(libRoot: string, n: number): Promise<void> {
  for (let i = 0; i < n; i++) {
    writeTinyModel(libRoot, { id: `llm/bulk/m${i}`, model_type: "llm", family: "bulk", format: "gguf", repo_id: `pub${i % 7}/repo${i}`, files: { [`m${i}.gguf`]: `gguf ${i} `.repeat(50) } });
  }
  (await ModelLibrary.open(libRoot, { reconcile: "full" })).close();
}

function walkFiles(dir: string): string[] {
  const out: string[] = [];
  for (const d of fs.readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, d.name);
    if (d.isDirectory()) out.push(...walkFiles(p));
    else out.push(p);
  }
  return out;
}

test("kill -9 during apply, then links check + links repair: registry and disk agree, nothing half-made", async () => {
  const { dir, cleanup } = tempDir("mlib-kill-");
  try {
    const libRoot = join(dir, "lib");
    await manyModels(libRoot, 300);
    const root = appRoot(dir, "llama");
    const { child, done } = runChild([libRoot, "llamacpp", root, "copy"]);
    // Wait for the write-ahead journal, let some copies land, then kill without warning.
    const journal = journalPath(libRoot);
    const started = Date.now();
    while (!fs.existsSync(journal) && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 5));
    while (fs.readdirSync(root).length < 20 && Date.now() - started < 20_000) await new Promise((r) => setTimeout(r, 2));
    child.kill("SIGKILL");
    const { code } = await done;
    assert.notEqual(code, 0, "killed before it finished (if this fails the machine was too fast: more models)");
    const lib = await ModelLibrary.open(libRoot, { reconcile: "none" });
    try {
      const before = await checkLinks(lib);
      assert.equal(before.ok, false, "an interrupted apply leaves pending entries");
      await repairLinks(lib);
      const after = await checkLinks(lib);
      assert.equal(after.ok, true, JSON.stringify(after.counts));
      const registered = new Set(LinkRegistry.load(libRoot).all().map((e) => e.target));
      const onDisk = walkFiles(root);
      assert.deepEqual(onDisk.filter((p) => !registered.has(p)), [], "every file in the app folder is a registered link (no partial, no orphan)");
      for (const t of registered) assert.ok(fs.existsSync(t));
      const again = await applyMapping(lib, { app: "llamacpp", root, link: "copy", configDir: NO_USER_CONFIGS });
      assert.deepEqual(again.errors, []);
      assert.equal(again.conflicts.length, 0);
      assert.equal(LinkRegistry.load(libRoot).count(), 300);
      assert.equal((await checkLinks(lib)).ok, true);
    } finally {
      lib.close();
    }
  } finally {
    cleanup();
  }
});

test("two processes applying at once (two apps, and the same app twice): nothing lost, no errors", async () => {
  const { dir, cleanup } = tempDir("mlib-conc-");
  try {
    const libRoot = join(dir, "lib");
    await manyModels(libRoot, 150);
    const llama = appRoot(dir, "llama");
    const lms = appRoot(dir, "lms");
    const runs = [runChild([libRoot, "llamacpp", llama, "symlink"]), runChild([libRoot, "lmstudio", lms, "symlink"]), runChild([libRoot, "llamacpp", llama, "symlink"])];
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) {
      assert.equal(r.code, 0, r.err);
      assert.deepEqual(JSON.parse(r.out).errors, []);
    }
    const made = results.map((r) => JSON.parse(r.out).made as number);
    assert.equal(made[0] + made[2], 150, "the two llamacpp runs made each link once between them");
    const reg = LinkRegistry.load(libRoot);
    assert.equal(reg.forApp("llamacpp").length, 150);
    assert.equal(reg.forApp("lmstudio").length, 150);
    const lib = await ModelLibrary.open(libRoot, { reconcile: "none" });
    try {
      assert.equal((await checkLinks(lib)).ok, true);
    } finally {
      lib.close();
    }
  } finally {
    cleanup();
  }
});

test("never follow a link out of the app folder when removing: a folder re-pointed after linking is not followed", async () => {
  const { dir, cleanup } = tempDir("mlib-safe-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = appRoot(dir, "ComfyUI");
    await applyMapping(lib, { app: "comfyui", root, link: "symlink", configDir: NO_USER_CONFIGS });
    // The user moves the loras folder to another disk and puts a symlink in its place; there, a link with the
    // very same text as ours (their own copy of the setup) must not be removed by us.
    const elsewhere = join(dir, "elsewhere", "loras");
    fs.mkdirSync(join(dir, "elsewhere"));
    fs.renameSync(join(root, "loras"), elsewhere);
    fs.symlinkSync(elsewhere, join(root, "loras"));
    const r = await unlinkApp(lib, { app: "comfyui", root });
    const lora = r.outcomes.find((o) => o.target.endsWith("detail.safetensors"))!;
    assert.equal(lora.outcome, "kept");
    assert.match(lora.reason!, /now leads to/);
    assert.ok(fs.lstatSync(join(elsewhere, "detail.safetensors")).isSymbolicLink(), "left where the folder now leads");
    assert.ok(!fs.existsSync(join(root, "checkpoints", "juggernaut.safetensors")), "ours in unchanged folders removed");
  } finally {
    lib.close();
    cleanup();
  }
});
