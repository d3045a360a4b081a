// The write-ahead journal of `map apply` (link-journal.ts): a killed apply's links are found through it, as
// pending entries, by links check, links repair and the next apply; a journal already recorded, or cut short
// while written, is only removed. The registry keeps the original's shape.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks, repairLinks } from "../../../src/mapper/index.js";
import { JOURNAL_DONE_KEY, journalPath, readJournal } from "../../../src/mapper/link-journal.js";
import { LinkRegistry, registryPath } from "../../../src/mapper/registry.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { writeTinyModel } from "../../helpers/mapper-fixtures.js";
import { nodeArgvFor } from "../../helpers/cli.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";
const CHILD = new URL("../../helpers/mapper-apply-child.ts", import.meta.url).pathname;
const MODELS = 600;

async function library(root: string, n: number): Promise<ModelLibrary> {
  for (let i = 0; i < n; i++) writeTinyModel(root, { id: `llm/bulk/m${i}`, model_type: "llm", family: "bulk", format: "gguf", repo_id: null, files: { [`m${i}.gguf`]: `gguf ${i}` } });
  return ModelLibrary.open(root, { reconcile: "full" });
}

/** Runs an apply in a child process that kills itself (SIGKILL) once its first links are made. */
function killedApply(libRoot: string, root: string, link: string): Promise<number | null> {
  const child = spawn(process.execPath, [...nodeArgvFor(CHILD), libRoot, "llamacpp", root, link, "kill-at-link"], { stdio: ["ignore", "ignore", "inherit"] });
  return new Promise((resolve) => child.on("close", (code, signal) => resolve(signal === "SIGKILL" ? null : code)));
}

test("kill -9 mid-apply (symlinks): the journal holds the run; check sees it, repair records what was made, the next apply makes the rest", async () => {
  const { dir, cleanup } = tempDir("mlib-journal-");
  const lib = await library(join(dir, "lib"), MODELS);
  try {
    const root = join(dir, "llama", "models");
    fs.mkdirSync(root, { recursive: true });
    assert.equal(await killedApply(lib.root, root, "symlink"), null, "the child killed itself mid-run");
    const made = fs.readdirSync(root).length;
    assert.ok(made > 0 && made < MODELS, `some links made before the kill: ${made}`);
    const j = readJournal(lib.root);
    assert.ok(j !== null && j !== "torn" && j.links.length === MODELS, "the journal lists every link of the run");
    assert.equal(fs.existsSync(registryPath(lib.root)), false, "the registry was never written (its first save is the final one)");

    const before = await checkLinks(lib);
    assert.equal(before.ok, false);
    assert.equal(LinkRegistry.load(lib.root).all().filter((e) => e.pending).length, MODELS, "read as pending entries");
    const rep = await repairLinks(lib);
    assert.equal(rep.actions.filter((a) => a.action === "recorded").length, made);
    assert.equal(rep.actions.filter((a) => a.action === "forgotten").length, MODELS - made);
    assert.equal(fs.existsSync(journalPath(lib.root)), false, "the journal is removed once the registry holds its links");
    const reg = LinkRegistry.load(lib.root);
    assert.equal(reg.count(), made);
    assert.ok(reg.all().every((e) => !e.pending && e.link_type === "symlink"));
    assert.equal((await checkLinks(lib)).ok, true);

    const again = await applyMapping(lib, { app: "llamacpp", root, link: "symlink", configDir: NO_USER_CONFIGS });
    assert.deepEqual(again.errors, []);
    assert.equal(again.conflicts.length, 0);
    assert.equal(again.made.length, MODELS - made);
    assert.equal(again.existing, made);
    assert.equal(LinkRegistry.load(lib.root).count(), MODELS);
    assert.equal((await checkLinks(lib)).ok, true);
    assert.equal(fs.existsSync(journalPath(lib.root)), false);
    // The original's shape, plus the id of the last journal recorded.
    const saved = JSON.parse(fs.readFileSync(registryPath(lib.root), "utf8")) as Record<string, unknown>;
    assert.deepEqual(Object.keys(saved).sort(), ["by_model", "by_target", JOURNAL_DONE_KEY]);
  } finally {
    lib.close();
    cleanup();
  }
});

test("an apply after a killed one: the killed run's links are saved into the registry before the new journal replaces its own", async () => {
  const { dir, cleanup } = tempDir("mlib-journal-");
  const lib = await library(join(dir, "lib"), MODELS);
  try {
    const root = join(dir, "llama", "models");
    const other = join(dir, "other", "models");
    fs.mkdirSync(root, { recursive: true });
    fs.mkdirSync(other, { recursive: true });
    assert.equal(await killedApply(lib.root, root, "symlink"), null);
    const made = fs.readdirSync(root).length;
    // Another app's apply, not a repair: it must not lose the killed run's trace.
    const r = await applyMapping(lib, { app: "llamacpp", root: other, link: "symlink", configDir: NO_USER_CONFIGS });
    assert.equal(r.made.length, MODELS);
    assert.equal(fs.existsSync(journalPath(lib.root)), false);
    const reg = LinkRegistry.load(lib.root);
    assert.equal(reg.all().filter((e) => e.pending && e.app_root === root).length, MODELS, "the killed run's entries, still pending");
    await repairLinks(lib);
    const after = LinkRegistry.load(lib.root);
    assert.equal(after.count(), MODELS + made);
    assert.equal((await checkLinks(lib)).ok, true);
  } finally {
    lib.close();
    cleanup();
  }
});

test("a journal the registry already records (killed between the final save and its removal) is removed, nothing re-read", async () => {
  const { dir, cleanup } = tempDir("mlib-journal-");
  const lib = await library(join(dir, "lib"), 5);
  try {
    const root = join(dir, "llama", "models");
    fs.mkdirSync(root, { recursive: true });
    await applyMapping(lib, { app: "llamacpp", root, link: "symlink", configDir: NO_USER_CONFIGS });
    const saved = JSON.parse(fs.readFileSync(registryPath(lib.root), "utf8")) as Record<string, unknown>;
    const id = saved[JOURNAL_DONE_KEY] as string;
    assert.equal(typeof id, "string");
    // The journal as the run wrote it, back in place.
    const targets = Object.keys(saved.by_target as object);
    const journal = { mlib_link_journal: 1, id, created_at: new Date().toISOString(), app_id: "llamacpp", app_version: null, app_root: root, link_type: "symlink", links: targets.map((t) => [t, "/x", "llm/bulk/m0", 0, null, null]) };
    fs.writeFileSync(journalPath(lib.root), JSON.stringify(journal));
    const reg = LinkRegistry.load(lib.root);
    assert.ok(reg.all().every((e) => !e.pending && e.source !== "/x"), "a recorded journal is not read again");
    assert.equal((await checkLinks(lib)).ok, true);
    await repairLinks(lib);
    assert.equal(fs.existsSync(journalPath(lib.root)), false, "removed by the next change under the lock");
    assert.equal(LinkRegistry.load(lib.root).count(), 5);
  } finally {
    lib.close();
    cleanup();
  }
});

test("a journal cut short while written (before any link of its run) is ignored and removed", async () => {
  const { dir, cleanup } = tempDir("mlib-journal-");
  const lib = await library(join(dir, "lib"), 3);
  try {
    const root = join(dir, "llama", "models");
    fs.mkdirSync(root, { recursive: true });
    await applyMapping(lib, { app: "llamacpp", root, link: "symlink", configDir: NO_USER_CONFIGS });
    const regText = fs.readFileSync(registryPath(lib.root), "utf8");
    fs.writeFileSync(journalPath(lib.root), '{"mlib_link_journal":1,"id":"abc","links":[["/some/where","/x"');
    assert.equal(readJournal(lib.root), "torn");
    assert.equal(LinkRegistry.load(lib.root).count(), 3);
    assert.equal((await checkLinks(lib)).ok, true);
    const r = await applyMapping(lib, { app: "llamacpp", root, link: "symlink", configDir: NO_USER_CONFIGS });
    assert.equal(r.existing, 3);
    assert.equal(fs.existsSync(journalPath(lib.root)), false);
    assert.equal(fs.readFileSync(registryPath(lib.root), "utf8"), regText, "nothing to record: the registry is not rewritten");
  } finally {
    lib.close();
    cleanup();
  }
});
