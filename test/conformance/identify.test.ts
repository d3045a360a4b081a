// identify() on every real file and model folder under ../shared/fixtures: the whole pipeline (sniff + reader + summary).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { identify, ModelLibraryError } from "../../src/index.js";

const FIXTURES = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));
const present = existsSync(FIXTURES);
const skip = present ? false : "../shared/fixtures not found";

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    return statSync(p).isDirectory() ? filesUnder(p) : [p];
  });
}

// Files that must fail, and how.
const BROKEN: Record<string, string> = {
  "gguf/historical/example.prerelease-FUGG-magic.gguf": "E_BAD_MAGIC",
  "gguf/tiny-weights/truncated-6-bytes.test.gguf": "E_TRUNCATED",
  "gguf/historical/test_writer.OBJ-type13-nonstandard.gguf": "E_INVALID",
};

describe("identify on the real fixtures", () => {
  test("every model file gives the format of its folder; the broken ones give clear errors", { skip }, async () => {
    const expectedFormat: [RegExp, string][] = [
      [/\.LFS-POINTER\.txt$/, "lfs-pointer"],
      [/^gguf\/(vocab|historical|tiny-weights)\/.*\.gguf$/, "gguf"],
      [/^legacy-ggml\//, "ggml"],
      [/^safetensors\/.*\.safetensors$/, "safetensors"],
      [/^pytorch\//, "pickle"],
      [/^onnx\//, "onnx"],
      [/^sharded\/.*\.safetensors$/, "lfs-pointer"],
    ];
    let checked = 0;
    for (const abs of filesUnder(FIXTURES)) {
      const rel = abs.slice(FIXTURES.length);
      const rule = expectedFormat.find(([re]) => re.test(rel));
      if (!rule) continue;
      const broken = BROKEN[rel];
      if (broken && broken.startsWith("E_")) {
        await assert.rejects(identify(abs), (e: unknown) => e instanceof ModelLibraryError && e.code === broken && e.message.includes(abs), rel);
        continue;
      }
      const r = await identify(abs);
      assert.equal(r.format, broken ?? rule[1], rel);
      if (r.format === "gguf") assert.ok(r.architecture, `${rel}: architecture`);
      if (r.format === "pickle") assert.equal(r.securityTier, "pickle");
      checked++;
    }
    assert.ok(checked > 100, `checked ${checked} files`);
  });

  test("the fixture model folders: never-downloaded snapshots and an index without shards", { skip }, async () => {
    const wizard = await identify(join(FIXTURES, "sharded/wizardlm-2-8x22b"));
    assert.equal(wizard.format, "lfs-pointer");
    assert.equal(wizard.family, "mixtral");
    assert.equal(wizard.folder!.weightFiles.length, 59);
    assert.equal(wizard.folder!.complete, false);
    assert.ok(wizard.warnings.some((w) => /59 of 59 weight files are Git LFS pointers/.test(w)));

    const devstral = await identify(join(FIXTURES, "sharded/devstral-small-2507-copy"));
    assert.equal(devstral.family, "mistral");
    assert.equal(devstral.folder!.missingFiles.length, 10);
    assert.equal(devstral.folder!.missingFiles[0], "model-00001-of-00010.safetensors");

    const tiny = await identify(join(FIXTURES, "gguf/tiny-weights/llama-2-tiny-random.gguf"));
    assert.deepEqual([tiny.family, tiny.quantization, tiny.tensorCount, tiny.parameterCount], ["llama", "F16", 12, 513048]);
  });
});
