// doctor on a library the original wrote: its in-place imports list nested files by their bare name
// (`model.onnx` for `onnx/model.onnx`) and it records only the largest file's hashes (at model level, per-file
// hashes null). verify finds and checks those files; doctor must not call them missing or never hashed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { runDoctor } from "../../../src/doctor/run-doctor.js";
import { verifyModels } from "../../../src/operations/verify-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { makeOriginalLibrary } from "../../helpers/original-library.js";
import { runCli } from "../../helpers/cli.js";

describe("doctor on a library the original wrote", () => {
  test.after(() => closeHashWorkers());

  test("bare names of nested files are not missing; the largest file is covered by the model-level hashes", async () => {
    const t = tempDir("mlib-doctor-original-");
    try {
      const orig = await makeOriginalLibrary(join(t.dir, "lib"), { appsDir: join(t.dir, "apps") });
      const lib = await ModelLibrary.open(orig.root);
      try {
        const r = await runDoctor(lib);
        const missing = r.problems.filter((p) => p.kind === "file-missing");
        assert.deepEqual(missing, [], "files the original lists by bare name are there");
        const unhashed = r.problems.filter((p) => p.kind === "no-hashes");
        const { gguf, onnx, diffusers } = orig.models;
        // One-file models: their only file is the one the model-level hashes are of.
        assert.ok(!unhashed.some((p) => p.id === gguf.id || p.id === onnx.id), JSON.stringify(unhashed));
        // The diffusers folder: its two smaller weights really have no hash (verify says "not checked" too).
        const sd = unhashed.find((p) => p.id === diffusers.id);
        assert.ok(sd, "the diffusers folder's smaller weights are reported as never hashed");
        assert.match(sd.message, /^2 files never hashed/);
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("--fix hashes same-named files of sub-folders each as itself: verify still says OK", async () => {
    const t = tempDir("mlib-doctor-original-");
    try {
      const orig = await makeOriginalLibrary(join(t.dir, "lib"), { appsDir: join(t.dir, "apps") });
      const lib = await ModelLibrary.open(orig.root);
      try {
        await runDoctor(lib, { fix: true });
        const { diffusers } = orig.models;
        const written = JSON.parse(readFileSync(join(diffusers.dir, "metadata.json"), "utf8")) as { files: { name: string; size: number; sha256: string | null }[] };
        const same = written.files.filter((f) => f.name === "diffusion_pytorch_model.safetensors");
        assert.equal(same.length, 2);
        // The smaller one is hashed now; the larger (the model-level hashes' file) is not given the smaller's hash.
        const hashes = same.map((f) => f.sha256).filter((h) => h !== null);
        assert.ok(hashes.length >= 1, "the unhashed one was hashed");
        assert.equal(new Set(hashes).size, hashes.length, `each entry got its own file's hash: ${JSON.stringify(same)}`);
        const v = await verifyModels(lib, { ids: [diffusers.id] });
        assert.deepEqual(v.results.map((x) => x.ok), [true], JSON.stringify(v.results));
        // One --fix settles it: the largest file, until now covered by the model-level hashes only, is recorded
        // too (once the others have per-file hashes, nothing else covers it, and a second --fix was needed).
        const largest = written.files.reduce((a, f) => (f.size > a.size ? f : a));
        assert.ok(largest.sha256, `the largest file has its own hash: ${JSON.stringify(written.files)}`);
        const again = await runDoctor(lib);
        assert.deepEqual(again.problems.filter((p) => p.kind === "no-hashes" && p.id === diffusers.id), [], "nothing left to hash");
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("the original's import folder: changed within the hour a notice (doctor exits 0), untouched for longer a problem; both left alone", async () => {
    const t = tempDir("mlib-doctor-original-");
    try {
      const orig = await makeOriginalLibrary(join(t.dir, "lib"), { appsDir: join(t.dir, "apps") });
      const lib = await ModelLibrary.open(orig.root);
      try {
        const r = await runDoctor(lib, { fix: true });
        const paths = (list: { kind: string; path: string }[]) => list.filter((p) => p.kind === "original-staging").map((p) => p.path);
        assert.deepEqual(paths(r.problems), [orig.tmpImports.old]);
        assert.deepEqual(paths(r.notices), [orig.tmpImports.fresh]);
        assert.ok(existsSync(join(orig.tmpImports.fresh, "big-model.safetensors")) && existsSync(join(orig.tmpImports.old, "left-behind.gguf")));
      } finally {
        lib.close();
      }
      // Only a fresh one (the original importing now), nothing else wrong: `mlib doctor` exits 0.
      rmSync(orig.tmpImports.old, { recursive: true });
      rmSync(orig.models.diffusers.dir, { recursive: true }); // (its smaller weights were never hashed: a problem)
      const cli = await runCli(["doctor", "--library", orig.root]);
      assert.equal(cli.code, 0, cli.stdout + cli.stderr);
      assert.match(cli.stdout, /notice: original-staging/);
    } finally {
      t.cleanup();
    }
  });
});
