// What a user meets when things go wrong: a killed import, two imports at once, a full disk, a corrupt metadata.json.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ModelLibrary, importModels, verifyModels } from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { tempDir, writeGgufModel, writeSafetensorsModel, llamaTensors, bytes } from "../helpers/library-fixtures.js";
import { nodeArgvFor } from "../helpers/cli.js";

const CHILD = fileURLToPath(new URL("../helpers/import-child.ts", import.meta.url));

function runChild(args: string[]): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const p = spawn(process.execPath, [...nodeArgvFor(CHILD), ...args], { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    p.stdout.on("data", (d) => (stdout += d));
    p.stderr.on("data", (d) => (stderr += d));
    p.on("close", (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

function stagingEntries(root: string): string[] {
  const s = join(root, ".model-library", "staging");
  return existsSync(s) ? readdirSync(s) : [];
}

describe("library reliability", () => {
  test.after(() => closeHashWorkers());

  test("kill -9 at random moments of an import: never a half model; staging cleaned on open; re-import verifies", async (tc) => {
    const t = Object.assign(tempDir(), { diagnostic: (m: string) => tc.diagnostic(m) });
    try {
      const src = join(t.dir, "src");
      // ~48 MiB over 3 files so the import takes long enough to be killed in the middle of copying.
      const files = [0, 1, 2].map((i) =>
        writeSafetensorsModel(join(src, `big${i}.safetensors`), [
          ...llamaTensors(1, 16, 100 + i),
          { name: "model.extra.weight", dtype: "U8", shape: [16 * 1024 * 1024], data: bytes(16 * 1024 * 1024, 7 + i) },
        ]),
      );
      // Kill at chosen moments of the child's import (announced on its stderr), plus jitter: while identifying,
      // checking for duplicates, copying, committing, and between models.
      const moments = ["identifying:0", "copying:0", "committing:0", "copying:1", "copying:2", "done:1"];
      let leftStaging = 0;
      for (const [run, moment] of moments.entries()) {
        // A fresh library each run, so every run is killed while importing, not while finding duplicates.
        const root = join(t.dir, `lib${run}`);
        const child = spawn(process.execPath, [...nodeArgvFor(CHILD), root, ...files], { stdio: ["ignore", "ignore", "pipe"] });
        let seen = "";
        await new Promise<void>((resolveKill) => {
          child.stderr.on("data", (d) => {
            seen += d;
            if (seen.includes(`stage ${moment}\n`)) {
              setTimeout(() => {
                child.kill("SIGKILL");
                resolveKill();
              }, Math.floor(Math.random() * 40));
            }
          });
          child.on("close", () => resolveKill());
        });
        await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(null) : child.on("close", r)));
        if (stagingEntries(root).length > 0) leftStaging++;
        const lib = await ModelLibrary.open(root);
        try {
          assert.deepEqual(stagingEntries(root), [], "staging cleaned on open");
          // Whatever got in is whole: every listed model verifies.
          const listed = lib.list().models.map((m) => m.id);
          const report = await verifyModels(lib, listed);
          for (const r of report) assert.ok(r.ok, `run ${run}: ${r.id} verifies (${JSON.stringify(r.files.map((f) => f.status))})`);
        } finally {
          lib.close();
        }
      }
      t.diagnostic?.(`kills that left staging behind: ${leftStaging} of ${moments.length}`);
      assert.ok(leftStaging > 0, "at least one kill landed mid-copy (else the test proves nothing)");
      const lib = await ModelLibrary.open(join(t.dir, `lib${moments.length - 1}`));
      try {
        const results = await importModels(lib, files);
        for (const r of results) assert.ok(r.status === "imported" || r.status === "duplicate", JSON.stringify(r));
        assert.equal(lib.list().totalCount, 3);
        assert.ok((await verifyModels(lib)).every((r) => r.ok));
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("two processes importing into one library at once: both models present, index consistent", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      const a = writeGgufModel(join(t.dir, "a", "alpha.gguf"), "Alpha", 1);
      const b = writeGgufModel(join(t.dir, "b", "beta.gguf"), "Beta", 2);
      const same1 = writeGgufModel(join(t.dir, "a", "same.gguf"), "Same", 3);
      const same2 = writeGgufModel(join(t.dir, "b", "same-copy.gguf"), "Same", 3);
      const [ra, rb] = await Promise.all([runChild([root, a, same1]), runChild([root, b, same2])]);
      assert.equal(ra.code, 0, ra.stderr);
      assert.equal(rb.code, 0, rb.stderr);
      const results = [...JSON.parse(ra.stdout), ...JSON.parse(rb.stdout)];
      const statuses = results.map((r: { status: string }) => r.status).sort();
      // The same content imported by both at once is stored once: one of them sees the other's commit.
      assert.deepEqual(statuses, ["duplicate", "imported", "imported", "imported"]);
      const lib = await ModelLibrary.open(root, { reconcile: "full" });
      try {
        assert.equal(lib.list().totalCount, 3);
        assert.equal(lib.lastReconcile!.added + lib.lastReconcile!.updated + lib.lastReconcile!.removed, 0, "index already matched the disk");
        assert.equal(lib.search("alpha").totalCount, 1);
        assert.equal(lib.search("beta").totalCount, 1);
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("a full disk mid-import: a clean failure naming the cause, staging removed, the library intact", async (t) => {
    const tmp = tempDir();
    const root = join(tmp.dir, "lib");
    mkdirSync(root, { recursive: true });
    const mounted = spawnSync("mount", ["-t", "tmpfs", "-o", "size=6m", "tmpfs", root]);
    if (mounted.status !== 0) {
      tmp.cleanup();
      t.skip(`cannot mount a small tmpfs here (${String(mounted.stderr).trim() || "mount failed"}): full-disk test skipped`);
      return;
    }
    try {
      const small = writeGgufModel(join(tmp.dir, "src", "small.gguf"), "Small", 9);
      const big = writeSafetensorsModel(join(tmp.dir, "src", "big.safetensors"), [
        ...llamaTensors(1),
        { name: "model.extra.weight", dtype: "U8", shape: [10 * 1024 * 1024], data: bytes(10 * 1024 * 1024, 3) },
      ]);
      const lib = await ModelLibrary.open(root);
      try {
        const [ok] = await importModels(lib, [small]);
        assert.equal(ok.status, "imported", ok.error?.message);
        const [full] = await importModels(lib, [big]);
        assert.equal(full.status, "failed");
        assert.match(full.error!.message, /ENOSPC|no space/i);
        assert.match(full.error!.message, /big\.safetensors/);
        assert.deepEqual(stagingEntries(root), []);
        assert.equal(lib.list().totalCount, 1);
        assert.ok((await verifyModels(lib)).every((r) => r.ok), "the model already there is intact");
      } finally {
        lib.close();
      }
    } finally {
      spawnSync("umount", [root]);
      tmp.cleanup();
    }
  });

  test("a corrupt metadata.json is reported with its .bak; the rest of the library keeps working; restore fixes it", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      let lib = await ModelLibrary.open(root);
      const [a] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"), "A", 1)]);
      const [b] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "b.gguf"), "B", 2)]);
      await lib.updateMetadata(a.modelId!, (m) => {
        m.tags = ["favourite"];
      }); // leaves metadata.json.bak behind
      lib.close();
      const file = join(root, ...a.modelId!.split("/"), "metadata.json");
      writeFileSync(file, '{"official_name": "A", "tags": [');
      lib = await ModelLibrary.open(root, { reconcile: "full" });
      try {
        const problems = lib.lastReconcile!.problems;
        assert.equal(problems.length, 1);
        assert.equal(problems[0].id, a.modelId);
        assert.match(problems[0].error, /metadata\.json\.bak/);
        assert.ok(lib.get(b.modelId!), "the other model is still there");
        assert.equal(lib.search("b").totalCount >= 1, true);
        await assert.rejects(lib.getMetadata(a.modelId!), (e: Error & { code?: string }) => e.code === "E_CORRUPT" && /\.bak/.test(e.message));
        await lib.restoreMetadataBackup(a.modelId!);
        const restored = JSON.parse(readFileSync(file, "utf8"));
        assert.equal(restored.official_name, "a");
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });
});
