import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { mergeLibrary } from "../../../src/merge/merge-library.js";
import { buildStoredZip } from "../../../src/demo/zip-writer.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { runCli } from "../../helpers/cli.js";
import { runMergeUntilStopThenKill } from "../../helpers/merge-kill.js";


async function importAs(lib: ModelLibrary, file: string, name: string, extra: Parameters<typeof importModels>[2] = {}): Promise<string> {
  const [r] = await importModels(lib, [file], { name, allowDuplicate: true, ...extra });
  assert.equal(r.status, "imported", r.error?.message);
  return r.modelId!;
}

/** dest: "alpha" (seed 1) and "clash" (seed 2). src: six new models, a copy of alpha, a different "clash", a pickle. */
async function makeLibraries(work: string, srcRoot = path.join(work, "src")) {
  const files = path.join(work, "files");
  const destRoot = path.join(work, "dest");
  const dest = await ModelLibrary.open(destRoot);
  const src = await ModelLibrary.open(srcRoot);
  await importAs(dest, writeGgufModel(path.join(files, "alpha.gguf"), "Alpha", 1), "alpha");
  await importAs(dest, writeGgufModel(path.join(files, "clash-d.gguf"), "Clash", 2), "clash");
  for (let i = 0; i < 6; i++) await importAs(src, writeGgufModel(path.join(files, `m${i}.gguf`), `M${i}`, 10 + i), `m${i}`);
  await importAs(src, path.join(files, "alpha.gguf"), "alpha copy");
  await importAs(src, writeGgufModel(path.join(files, "clash-s.gguf"), "Clash", 3), "clash");
  const pickle = Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]);
  fs.writeFileSync(path.join(files, "pk.ckpt"), buildStoredZip([{ name: "archive/data.pkl", data: pickle }]));
  await importAs(src, path.join(files, "pk.ckpt"), "pickled", { securityAcknowledged: true });
  src.close();
  return { dest, destRoot, srcRoot };
}

/** Every regular file under dir (hidden folders skipped) → sha256, keyed by relative path. */
function tree(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  const walk = (d: string, rel: string) => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      if (e.name.startsWith(".")) continue;
      const p = path.join(d, e.name);
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) walk(p, r);
      else if (e.isFile() && !e.name.startsWith("models.db")) out.set(r, createHash("sha256").update(fs.readFileSync(p)).digest("hex"));
    }
  };
  walk(dir, "");
  return out;
}

function weightHashes(dir: string): string[] {
  return [...tree(dir)].filter(([k]) => /\.(gguf|ckpt)$/.test(k)).map(([, h]) => h).sort();
}

/** After a finished merge: every weight once in dest (or left in src), nothing half-made, index = metadata. */
async function checkFinished(dest: ModelLibrary, destRoot: string, srcRoot: string, allWeights: string[]): Promise<void> {
  const inDest = weightHashes(destRoot);
  const inSrc = weightHashes(srcRoot);
  assert.equal(new Set(inDest).size, inDest.length, "a content stored twice in the library");
  for (const h of allWeights) assert.ok(inDest.includes(h) || inSrc.includes(h), `content ${h} lost`);
  assert.equal(inSrc.length, 1, `only the pickle stays in the source: ${inSrc.length}`);
  assert.equal(fs.existsSync(path.join(destRoot, ".model-library", "merge-journal.json")), false);
  assert.equal(fs.existsSync(path.join(destRoot, ".model-library", "merge-staging")), false);
  assert.equal(fs.existsSync(path.join(srcRoot, ".model-library-merge-trash")), false);
  const r = await dest.reconcile("full");
  assert.deepEqual([r.added, r.updated, r.removed, r.problems.length], [0, 0, 0, 0], "index out of step with metadata.json");
  assert.equal(dest.stats().count, 9); // alpha, clash, clash-2, m0..m5
  for (const id of dest.allIds()) assert.equal((await dest.getMetadata(id)).model_id, id);
}

describe("mergeLibrary", () => {
  test("dry run plans move / duplicate / conflict / error and writes nothing on either side", async () => {
    const t = tempDir("mlib-merge-");
    const { dest, destRoot, srcRoot } = await makeLibraries(t.dir);
    try {
      const before = [tree(destRoot), tree(srcRoot), fs.readdirSync(path.join(destRoot))];
      const r = await mergeLibrary(dest, { source: srcRoot, dryRun: true });
      const by = (a: string) => r.plan.filter((p) => p.action === a);
      assert.equal(by("move").length, 6);
      assert.deepEqual(by("duplicate").map((p) => p.destId), ["llm/llama/alpha"]);
      assert.deepEqual(by("conflict").map((p) => p.destId), ["llm/llama/clash-2"]);
      assert.equal(by("error").length, 1);
      assert.match(by("error")[0].reason!, /pickle/);
      assert.ok(r.sameFilesystem);
      assert.deepEqual([tree(destRoot), tree(srcRoot), fs.readdirSync(path.join(destRoot))], before);
    } finally {
      dest.close();
      t.cleanup();
    }
  });

  test("merge: renames only on one filesystem, duplicates verified then removed, the conflict renamed, the pickle left", async () => {
    const t = tempDir("mlib-merge-");
    const { dest, destRoot, srcRoot } = await makeLibraries(t.dir);
    try {
      const all = [...new Set([...weightHashes(destRoot), ...weightHashes(srcRoot)])];
      const m0 = path.join(srcRoot, "llm", "llama", "m0");
      const inode = fs.statSync(path.join(m0, fs.readdirSync(m0).find((n) => n.endsWith(".gguf"))!)).ino;
      const r = await mergeLibrary(dest, { source: srcRoot });
      assert.deepEqual(r.counts, { moved: 6, renamed: 1, duplicates: 1, left: 1 });
      assert.equal(r.bytesCopied, 0);
      const moved = path.join(destRoot, "llm", "llama", "m0");
      assert.equal(fs.statSync(path.join(moved, fs.readdirSync(moved).find((n) => n.endsWith(".gguf"))!)).ino, inode, "data was copied, not renamed");
      assert.equal(dest.search("clash").totalCount, 2);
      await checkFinished(dest, destRoot, srcRoot, all);
      // run again: nothing to do, nothing broken
      const again = await mergeLibrary(dest, { source: srcRoot });
      assert.deepEqual(again.counts, { moved: 0, renamed: 0, duplicates: 0, left: 1 });
    } finally {
      dest.close();
      t.cleanup();
    }
  });

  test("a folder gone from the source, or its place taken in the library, after the plan: left, reported, nothing lost", async () => {
    const t = tempDir("mlib-merge-");
    const { dest, destRoot, srcRoot } = await makeLibraries(t.dir);
    try {
      const m1 = path.join(srcRoot, "llm", "llama", "m1");
      const m2 = path.join(srcRoot, "llm", "llama", "m2");
      const away = path.join(t.dir, "m1-elsewhere");
      const squatter = path.join(destRoot, "llm", "llama", "m2");
      // Between the journal and the first rename (the plan is made): m1 moved away by someone else, and a
      // different folder with content put where m2 goes. The fast rename fails for both; the disk decides.
      const r = await mergeLibrary(
        dest,
        { source: srcRoot },
        {
          onProgress: (e) => {
            if (e.phase !== "journal") return;
            fs.renameSync(m1, away);
            fs.mkdirSync(squatter, { recursive: true });
            fs.writeFileSync(path.join(squatter, "notes.txt"), "not a model of the merge");
          },
        },
      );
      const left = new Map(r.results.filter((x) => x.outcome === "left").map((x) => [x.source, x.reason ?? ""]));
      assert.match(left.get("llm/llama/m1") ?? "", /gone from the source/);
      assert.match(left.get("llm/llama/m2") ?? "", /appeared in the library meanwhile; the source is kept/);
      assert.deepEqual(r.counts, { moved: 4, renamed: 1, duplicates: 1, left: 3 });
      assert.ok(fs.existsSync(path.join(m2, "metadata.json")), "m2 is kept in the source");
      assert.equal(fs.readFileSync(path.join(squatter, "notes.txt"), "utf8"), "not a model of the merge");
      assert.ok(fs.existsSync(path.join(away, "metadata.json")));
      assert.equal(dest.get("llm/llama/m1"), null);
      assert.equal(dest.get("llm/llama/m3")?.path, path.join(destRoot, "llm", "llama", "m3"));
    } finally {
      dest.close();
      t.cleanup();
    }
  });

  test("a duplicate whose source bytes changed since they were hashed stays in the source", async () => {
    const t = tempDir("mlib-merge-");
    const { dest, srcRoot } = await makeLibraries(t.dir);
    try {
      const plan = await mergeLibrary(dest, { source: srcRoot, dryRun: true });
      const dup = plan.plan.find((p) => p.action === "duplicate")!;
      const gguf = path.join(srcRoot, ...dup.source.split("/"), dup.files.find((f) => f.name.endsWith(".gguf"))!.name);
      const bytes = fs.readFileSync(gguf);
      bytes[bytes.length - 1] ^= 0xff; // same size, recorded hash now wrong
      fs.writeFileSync(gguf, bytes);
      const r = await mergeLibrary(dest, { source: srcRoot });
      const res = r.results.find((x) => x.source === dup.source)!;
      assert.equal(res.outcome, "left");
      assert.ok(fs.existsSync(gguf));
    } finally {
      dest.close();
      t.cleanup();
    }
  });

  test("refuses a source inside the library, and another source while a merge is unfinished", async () => {
    const t = tempDir("mlib-merge-");
    const { dest, destRoot, srcRoot } = await makeLibraries(t.dir);
    try {
      await assert.rejects(mergeLibrary(dest, { source: path.join(destRoot, "llm") }), /into itself|inside the other/);
      await assert.rejects(mergeLibrary(dest, { source: path.join(t.dir, "nope") }), (e: Error & { code?: string }) => e.code === "E_NOT_FOUND");
      fs.mkdirSync(path.join(destRoot, ".model-library"), { recursive: true });
      fs.writeFileSync(path.join(destRoot, ".model-library", "merge-journal.json"), JSON.stringify({ version: 1, source: "/elsewhere", startedAt: "", allowPickle: false, plan: [] }));
      await assert.rejects(mergeLibrary(dest, { source: srcRoot }), /unfinished merge from \/elsewhere.*mlib merge \/elsewhere/);
      assert.equal(weightHashes(srcRoot).length, 9, "the source was touched");
    } finally {
      dest.close();
      t.cleanup();
    }
  });

  test("a dry run while a merge is recorded shows that merge's plan, and does not claim to finish it", async () => {
    const t = tempDir("mlib-merge-");
    const { dest, destRoot, srcRoot } = await makeLibraries(t.dir);
    dest.close();
    try {
      const plan = [{ source: "llm/llama/m0", action: "move", destId: "llm/llama/m0", reason: null, bytes: 1, crossDevice: false, files: [] }];
      fs.mkdirSync(path.join(destRoot, ".model-library"), { recursive: true });
      fs.writeFileSync(path.join(destRoot, ".model-library", "merge-journal.json"), JSON.stringify({ version: 1, source: srcRoot, startedAt: "", allowPickle: false, plan }));
      const cli = await runCli(["merge", srcRoot, "--dry-run", "--library", destRoot]);
      assert.equal(cli.code, 0, cli.stderr);
      assert.match(cli.stdout, /the plan a merge from .* recorded and has not finished/);
      assert.doesNotMatch(cli.stdout, /finishing the merge/);
      assert.match(cli.stdout, /plan: 1 to move/);
      assert.equal(weightHashes(srcRoot).length, 9, "the dry run touched the source");
    } finally {
      t.cleanup();
    }
  });

  test("cancelled mid-way: what moved is indexed, the journal kept, the next run finishes", async () => {
    const t = tempDir("mlib-merge-");
    const { dest, destRoot, srcRoot } = await makeLibraries(t.dir);
    try {
      const all = [...new Set([...weightHashes(destRoot), ...weightHashes(srcRoot)])];
      const ac = new AbortController();
      await assert.rejects(
        mergeLibrary(dest, { source: srcRoot }, { signal: ac.signal, onProgress: (e) => { if (e.phase === "move" && e.done === 4) ac.abort(); } }),
        (e: Error & { code?: string }) => e.code === "E_CANCELLED" && /stopped after 4 of 9.*mlib merge/.test(e.message),
      );
      const r1 = await dest.reconcile("full");
      assert.deepEqual([r1.added, r1.removed], [0, 0], "the index disagrees with the folders after the cancel");
      assert.ok(fs.existsSync(path.join(destRoot, ".model-library", "merge-journal.json")));
      const r = await mergeLibrary(dest, { source: srcRoot });
      assert.equal(r.resumed, true);
      await checkFinished(dest, destRoot, srcRoot, all);
    } finally {
      dest.close();
      t.cleanup();
    }
  });

  for (const [phase, done] of [["journal", "*"], ["move", "3"], ["move", "8"], ["index", "*"]] as const) {
    test(`kill -9 at ${phase} ${done}: the same merge finishes the plan`, async () => {
      const t = tempDir("mlib-merge-kill-");
      const { dest, destRoot, srcRoot } = await makeLibraries(t.dir);
      dest.close();
      try {
        const all = [...new Set([...weightHashes(destRoot), ...weightHashes(srcRoot)])];
        await runMergeUntilStopThenKill([destRoot, srcRoot, phase, done]);
        assert.ok(fs.existsSync(path.join(destRoot, ".model-library", "merge-journal.json")), "journal kept by the killed run");
        const cli = await runCli(["merge", srcRoot, "--library", destRoot, "--json"]);
        assert.equal(cli.code, 1, cli.stderr); // the pickle is left: exit 1
        const out = JSON.parse(cli.stdout);
        assert.equal(out.resumed, true);
        const lib = await ModelLibrary.open(destRoot);
        try {
          await checkFinished(lib, destRoot, srcRoot, all);
        } finally {
          lib.close();
        }
      } finally {
        t.cleanup();
      }
    });
  }

  test("across filesystems (tmpfs source): copy, verify, delete; kill -9 mid-copy is finished", async (t) => {
    const work = tempDir("mlib-merge-xfs-");
    const mnt = path.join(work.dir, "mnt");
    fs.mkdirSync(mnt);
    try {
      execFileSync("mount", ["-t", "tmpfs", "-o", "size=16m", "tmpfs", mnt], { stdio: "ignore" });
    } catch {
      t.skip("cannot mount a tmpfs here (needs root): cross-filesystem merge not tested");
      work.cleanup();
      return;
    }
    try {
      const { dest, destRoot, srcRoot } = await makeLibraries(work.dir, path.join(mnt, "src"));
      dest.close();
      const all = [...new Set([...weightHashes(destRoot), ...weightHashes(srcRoot)])];
      await runMergeUntilStopThenKill([destRoot, srcRoot, "copy", "*"]);
      const lib = await ModelLibrary.open(destRoot);
      try {
        const r = await mergeLibrary(lib, { source: srcRoot });
        assert.equal(r.resumed, true);
        assert.equal(r.sameFilesystem, false);
        assert.ok(r.bytesCopied > 0);
        await checkFinished(lib, destRoot, srcRoot, all);
      } finally {
        lib.close();
      }
    } finally {
      execFileSync("umount", [mnt]);
      work.cleanup();
    }
  });
});
