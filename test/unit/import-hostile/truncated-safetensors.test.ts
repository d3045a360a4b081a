// A safetensors download cut short: its header length points past the end of the file. The message must say
// "truncated" (what happened), not "its bytes are not safetensors" (which sends the user looking for another format).
import { test } from "node:test";
import assert from "node:assert/strict";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { identify } from "../../../src/identify/identify.js";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

test("a .safetensors cut inside its header is reported as truncated", async () => {
  const dir = mkdtempSync(join(tmpdir(), "mlib-trunc-st-"));
  try {
    const whole = buildSafetensors([{ name: "model.layers.0.self_attn.q_proj.weight", dtype: "F16", shape: [64, 64] }]);
    const headerLength = Number(whole.readBigUInt64LE(0));
    const file = join(dir, "cut.safetensors");
    writeFileSync(file, whole.subarray(0, 8 + Math.floor(headerLength / 2))); // the download stopped mid-header
    await assert.rejects(identify(file), (e: unknown) => {
      assert.ok(e instanceof ModelLibraryError);
      assert.equal(e.code, "E_TRUNCATED");
      assert.match(e.message, /truncated/);
      assert.match(e.message, new RegExp(`declares ${headerLength} bytes`));
      return true;
    });
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});
