// Which files `--quant Q` takes (chooseFiles): the quant named, every shard of it, and not the quants whose names
// merely contain it (found in a defect hunt: Q4_0 also brought Q4_0_4_4/Q4_0_8_8, Q6_K brought Q6_K_L).
import { test } from "node:test";
import assert from "node:assert/strict";
import { chooseFiles } from "../../../src/hub/choose-files.js";
import type { RepoFile } from "../../../src/hub/convert-model.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

const gguf = (path: string): RepoFile => ({ path, size: 1000, sha256: "a".repeat(64), lfs: true });
// A repo laid out as bartowski's are: ARM repacks of Q4_0, an _L variant beside Q6_K, Q4_K_M and Q4_K_S, a split Q8_0.
const files: RepoFile[] = [
  { path: "README.md", size: 10, sha256: null, lfs: false },
  ...["Q4_0", "Q4_0_4_4", "Q4_0_8_8", "Q6_K", "Q6_K_L", "Q4_K_M", "Q4_K_S"].map((q) => gguf(`Model-${q}.gguf`)),
  gguf("Model-Q8_0/Model-Q8_0-00001-of-00002.gguf"),
  gguf("Model-Q8_0/Model-Q8_0-00002-of-00002.gguf"),
];
const paths = (quant: string): string[] => chooseFiles({ files, quant, repoId: "acme/Model-GGUF" }).files.map((f) => f.path);

test("--quant Q4_0 takes Q4_0 only, not the Q4_0_4_4/Q4_0_8_8 repacks; Q6_K not Q6_K_L; any case", () => {
  assert.deepEqual(paths("Q4_0"), ["Model-Q4_0.gguf"]);
  assert.deepEqual(paths("Q6_K"), ["Model-Q6_K.gguf"]);
  assert.deepEqual(paths("q6_k_l"), ["Model-Q6_K_L.gguf"]);
  assert.deepEqual(paths("Q8_0"), ["Model-Q8_0/Model-Q8_0-00001-of-00002.gguf", "Model-Q8_0/Model-Q8_0-00002-of-00002.gguf"]);
});

test("--quant that is part of several quants' names (Q4_K): a usage error naming them, not all of them in one model", () => {
  assert.throws(() => paths("Q4_K"), (e: ModelLibraryError) => e.code === "E_USAGE" && /Q4_K_M/.test(e.message) && /Q4_K_S/.test(e.message));
  assert.throws(() => paths("Q5_K_M"), (e: ModelLibraryError) => e.code === "E_NOT_FOUND" && /available: /.test(e.message));
});

test("a quant in lower case in a vision repo (model-f16 and its mmproj-model-f16) still brings both, as before", () => {
  const vision = [gguf("model-f16.gguf"), gguf("mmproj-model-f16.gguf")];
  assert.deepEqual(chooseFiles({ files: vision, quant: "f16", repoId: "acme/vision" }).files.map((f) => f.path), ["model-f16.gguf", "mmproj-model-f16.gguf"]);
});
