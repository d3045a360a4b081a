import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { blankMetadata, serializeMetadata } from "../../../src/store/metadata.js";
import { watchLibrary, type WatchEvent } from "../../../src/watcher/watch-library.js";
import { tempDir, writeGgufModel, writeShardSet } from "../../helpers/library-fixtures.js";
import { buildStoredZip } from "../../../src/demo/zip-writer.js";
import { MLIB_ARGV, REPO_ROOT } from "../../helpers/cli.js";

function writeMeta(dir: string, name: string, extra: Record<string, unknown> = {}): void {
  fs.mkdirSync(dir, { recursive: true });
  const m = blankMetadata();
  m.official_name = name;
  m.model_type = "llm";
  m.family = "llama";
  Object.assign(m, extra);
  fs.writeFileSync(path.join(dir, "metadata.json"), JSON.stringify(serializeMetadata(m)));
}

async function until(cond: () => boolean, ms = 5000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) throw new Error("condition not met in time");
    await new Promise((r) => setTimeout(r, 20));
  }
}

async function setup(opts: Parameters<typeof watchLibrary>[1] = {}) {
  const t = tempDir("mlib-watch-");
  const lib = await ModelLibrary.open(t.dir);
  const events: WatchEvent[] = [];
  const w = await watchLibrary(lib, { debounceMs: 50, settleMs: 300, ...opts, onEvent: (e) => events.push(e) });
  return {
    root: t.dir, lib, w, events,
    done: async () => {
      await w.close();
      lib.close();
      t.cleanup();
    },
  };
}

describe("watchLibrary", () => {
  test("an edited metadata.json is reloaded, a removed model folder leaves the index", async () => {
    const s = await setup();
    try {
      assert.equal(s.w.mode, "all-folders");
      const dir = path.join(s.root, "llm", "llama", "alpha");
      writeMeta(dir, "Alpha One");
      await until(() => s.lib.get("llm/llama/alpha") !== null);
      writeMeta(dir, "Zebrafish Renamed");
      await until(() => s.lib.search("zebrafish").totalCount === 1);
      fs.rmSync(dir, { recursive: true });
      await until(() => s.lib.get("llm/llama/alpha") === null);
      assert.ok(s.events.some((e) => e.type === "removed" && e.id === "llm/llama/alpha"));
      // a whole family folder removed takes its models with it
      writeMeta(path.join(s.root, "llm", "qwen", "b1"), "B1");
      writeMeta(path.join(s.root, "llm", "qwen", "b2"), "B2");
      await until(() => s.lib.stats().count === 2);
      fs.rmSync(path.join(s.root, "llm", "qwen"), { recursive: true });
      await until(() => s.lib.stats().count === 0);
    } finally {
      await s.done();
    }
  });

  test("a folder made first and its metadata.json written later is still indexed", async () => {
    const s = await setup();
    try {
      const dir = path.join(s.root, "llm", "llama", "later");
      fs.mkdirSync(dir, { recursive: true });
      await new Promise((r) => setTimeout(r, 200)); // the folder is looked at (empty) before the file arrives
      await s.w.flush();
      writeMeta(dir, "Written Later");
      await until(() => s.lib.get("llm/llama/later") !== null);
    } finally {
      await s.done();
    }
  });

  test("300 rapid edits of one metadata.json end with the index holding the last", async () => {
    const s = await setup();
    try {
      const dir = path.join(s.root, "llm", "llama", "rapid");
      writeMeta(dir, "rapid v0");
      await until(() => s.lib.get("llm/llama/rapid") !== null);
      for (let i = 1; i <= 300; i++) {
        // the way other programs write: in place, not atomically (torn reads are possible mid-way)
        writeMeta(dir, `rapid v${i}`);
      }
      await s.w.flush();
      await until(() => s.lib.get("llm/llama/rapid")?.officialName === "rapid v300");
    } finally {
      await s.done();
    }
  });

  test("no event is missed: 400 model folders made and 200 removed in a burst", async () => {
    const s = await setup();
    try {
      for (let i = 0; i < 400; i++) writeMeta(path.join(s.root, "llm", `fam${i % 7}`, `m${i}`), `burst model ${i}`);
      await until(() => s.lib.stats().count === 400, 15000);
      for (let i = 0; i < 400; i += 2) fs.rmSync(path.join(s.root, "llm", `fam${i % 7}`, `m${i}`), { recursive: true });
      await until(() => s.lib.stats().count === 200, 15000);
      for (let i = 1; i < 400; i += 2) writeMeta(path.join(s.root, "llm", `fam${i % 7}`, `m${i}`), `edited ${i}`);
      await until(() => s.lib.search("edited").totalCount === 200, 15000);
    } finally {
      await s.done();
    }
  });

  test("the library's own writes trigger nothing", async () => {
    const s = await setup();
    try {
      const dir = path.join(s.root, "llm", "llama", "quiet");
      writeMeta(dir, "Quiet");
      await until(() => s.lib.get("llm/llama/quiet") !== null);
      await s.w.flush();
      const before = s.events.length;
      await s.lib.updateMetadata("llm/llama/quiet", (m) => { m.notes = "x"; }); // index updated by the writer itself
      for (const name of [".model-library/index.db", ".staging/1-abc/x.gguf", "models.db-wal", "link_registry.json"]) {
        fs.mkdirSync(path.dirname(path.join(s.root, name)), { recursive: true });
        fs.writeFileSync(path.join(s.root, name), "x");
      }
      for (const name of ["x.gguf.part", "metadata.json.bak", ".metadata.json.1.ab.tmp", "notes.tmp"]) fs.writeFileSync(path.join(dir, name), "x");
      await new Promise((r) => setTimeout(r, 300));
      await s.w.flush();
      const after = s.events.slice(before).filter((e) => e.type !== "indexed" || e.id !== "llm/llama/quiet");
      assert.deepEqual(after, []);
      // at most one re-read of our own metadata.json write, never a loop
      assert.ok(s.events.slice(before).length <= 1);
    } finally {
      await s.done();
    }
  });

  test("a model file copied into a new folder is adopted only once it stops growing", async () => {
    const s = await setup({ settleMs: 400 });
    try {
      const src = path.join(s.root, "..", `${path.basename(s.root)}-src.gguf`);
      writeGgufModel(src, "Slow Copy", 7);
      const bytes = fs.readFileSync(src);
      fs.rmSync(src);
      const dir = path.join(s.root, "llm", "llama", "slow_copy");
      fs.mkdirSync(dir, { recursive: true });
      const fd = fs.openSync(path.join(dir, "slow.gguf"), "w");
      const chunk = Math.ceil(bytes.length / 6);
      for (let off = 0; off < bytes.length; off += chunk) {
        fs.writeSync(fd, bytes, off, Math.min(chunk, bytes.length - off));
        await new Promise((r) => setTimeout(r, 150)); // slower than the debounce, faster than the settle time
        assert.equal(fs.existsSync(path.join(dir, "metadata.json")), false, "adopted half-way");
      }
      fs.closeSync(fd);
      // The event, not the index row: the adoption writes its row before it lets the commit lock go (another
      // process's import must see it), so the row can be there a moment before the watcher reports it.
      await until(() => s.events.some((e) => e.type === "adopted"));
      assert.notEqual(s.lib.get("llm/llama/slow_copy"), null);
      const meta = JSON.parse(fs.readFileSync(path.join(dir, "metadata.json"), "utf8"));
      assert.equal(meta.files[0].size, bytes.length);
      assert.match(meta.files[0].sha256, /^[0-9a-f]{64}$/);
    } finally {
      await s.done();
    }
  });

  test("an incomplete shard set is reported, a pickle refused; neither adopted", async () => {
    const s = await setup();
    try {
      writeShardSet(path.join(s.root, "llm", "llama", "sharded"), "model", 3, [2]);
      const pk = path.join(s.root, "checkpoint", "sd", "pickled");
      fs.mkdirSync(pk, { recursive: true });
      const pickle = Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
      fs.writeFileSync(path.join(pk, "model.ckpt"), buildStoredZip([{ name: "archive/data.pkl", data: pickle }]));
      await until(() => s.events.some((e) => e.type === "incomplete") && s.events.some((e) => e.type === "refused"));
      assert.equal(fs.existsSync(path.join(s.root, "llm", "llama", "sharded", "metadata.json")), false);
      assert.equal(fs.existsSync(path.join(pk, "metadata.json")), false);
      const inc = s.events.find((e) => e.type === "incomplete");
      assert.ok(inc && inc.type === "incomplete" && inc.missing.some((m) => m.includes("00002-of-00003")));
    } finally {
      await s.done();
    }
  });

  test("over the watch budget: containers+rescan, new folders still at once, in-place edits by the rescan", async () => {
    const t = tempDir("mlib-watch-");
    const lib = await ModelLibrary.open(t.dir);
    for (let i = 0; i < 6; i++) writeMeta(path.join(t.dir, "llm", "llama", `m${i}`), `model ${i}`);
    await lib.reconcile("full");
    const events: WatchEvent[] = [];
    const w = await watchLibrary(lib, { debounceMs: 50, maxWatches: 5, rescanMs: 300, onEvent: (e) => events.push(e) });
    try {
      assert.equal(w.mode, "containers+rescan");
      assert.ok(w.watchedFolders() <= 3, `watches ${w.watchedFolders()}`);
      writeMeta(path.join(t.dir, "llm", "llama", "fresh"), "fresh one");
      await until(() => lib.get("llm/llama/fresh") !== null, 2000);
      writeMeta(path.join(t.dir, "llm", "llama", "m3"), "edited in place");
      await until(() => lib.search("edited").totalCount === 1, 3000);
      assert.ok(events.some((e) => e.type === "rescan"));
    } finally {
      await w.close();
      lib.close();
      t.cleanup();
    }
  });

  test("another process importing meanwhile: nothing adopted twice, the index consistent", async () => {
    const s = await setup({ settleMs: 200 });
    try {
      const { importModels } = await import("../../../src/operations/import-models.js");
      const other = await ModelLibrary.open(s.root); // another connection, as another process would hold
      const files = [];
      for (let i = 0; i < 4; i++) files.push(writeGgufModel(path.join(s.root, "..", `${path.basename(s.root)}-imp`, `m${i}.gguf`), `Imported ${i}`, 20 + i));
      const results = await importModels(other, files);
      other.close();
      fs.rmSync(path.dirname(files[0]), { recursive: true });
      assert.ok(results.every((r) => r.status === "imported"));
      await new Promise((r) => setTimeout(r, 400));
      await s.w.flush();
      for (const r of results) assert.ok(s.lib.get(r.modelId!), `${r.modelId} not in the index`);
      assert.equal(s.events.filter((e) => e.type === "adopted").length, 0, "an import was adopted as an orphan");
      const rec = await s.lib.reconcile("full");
      assert.deepEqual([rec.added, rec.updated, rec.removed], [0, 0, 0]);
    } finally {
      await s.done();
    }
  });

  test("mlib watch runs until SIGTERM and exits 0", async () => {
    const t = tempDir("mlib-watch-cli-");
    const child = spawn(process.execPath, [...MLIB_ARGV, "watch", "--library", t.dir, "--debounce", "50"], { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
    const exited = new Promise<number | null>((resolve) => child.on("exit", (c) => resolve(c)));
    let stdout = "";
    child.stdout.on("data", (d) => (stdout += d));
    try {
      await until(() => stdout.includes("mode all-folders"), 15000);
      writeMeta(path.join(t.dir, "llm", "llama", "cli"), "cli model");
      // (generous: a child process under tsx on a loaded 2-core CI machine; the latency is the bench's to measure)
      await until(() => stdout.includes("indexed     llm/llama/cli"), 15000).catch((e: Error) => {
        throw new Error(`${e.message}; mlib watch printed:\n${stdout}`);
      });
      child.kill("SIGTERM");
      assert.equal(await exited, 0);
    } finally {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill("SIGKILL"); // a failed wait must not leave the watcher running (it would hold the test run open)
        await exited;
      }
      t.cleanup();
    }
  });
});
