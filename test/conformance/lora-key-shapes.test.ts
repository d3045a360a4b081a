// Key → shape maps of real FLUX LoRAs (as recorded in InvokeAI's tests), written as header-only
// sparse safetensors files: each must read back as a FLUX LoRA in its own key format.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readSafetensorsHeader, summarizeSafetensors } from "../../src/formats/safetensors.js";
import { writeSafetensorsHeaderOnly } from "../helpers/safetensors-writer.js";

const DIR = fileURLToPath(new URL("../../../shared/fixtures/lora-key-shapes/", import.meta.url));
const skip = fs.existsSync(DIR) ? false : "../shared/fixtures not found";

const EXPECTED_FORMAT: Record<string, string> = {
  "flux_lora_kohya_format.json": "kohya",
  "flux_lora_diffusers_format.json": "diffusers",
  "flux_lora_xlabs_format.json": "xlabs",
  "flux_lokr_bfl_format.json": "lokr",
};

describe("FLUX LoRA key shapes", () => {
  test("every recorded format is diffusion/loras/flux with the right loraFormat", { skip }, async () => {
    const files = fs.readdirSync(DIR).filter((f) => f.endsWith(".json")).sort();
    assert.deepEqual(files, Object.keys(EXPECTED_FORMAT).sort(), "a new key-shape file needs an expected format here");
    const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
    try {
      for (const file of files) {
        const { tensor_shapes: shapes } = JSON.parse(fs.readFileSync(path.join(DIR, file), "utf8")) as { tensor_shapes: Record<string, number[]> };
        const tensors = Object.entries(shapes).map(([name, shape]) => ({ name, dtype: "BF16", shape }));
        const p = path.join(tmp, file.replace(/\.json$/, ".safetensors"));
        await writeSafetensorsHeaderOnly(p, tensors);

        const header = await readSafetensorsHeader(p);
        assert.equal(header.tensors.length, tensors.length, file);
        const params = tensors.reduce((n, t) => n + t.shape.reduce((a, d) => a * d, 1), 0);
        assert.equal(header.dataSize, params * 2, `${file}: the sparse file has its full declared size`);
        assert.equal(fs.statSync(p).size, 8 + header.headerLength + params * 2);

        const s = summarizeSafetensors(header);
        assert.equal(s.modelType, "diffusion", file);
        assert.equal(s.subtype, "loras", file);
        assert.equal(s.family, "flux", file);
        assert.equal(s.loraFormat, EXPECTED_FORMAT[file], file);
        assert.equal(s.parameterCount, params, file);
        assert.deepEqual(s.dtypes, ["BF16"]);
        fs.rmSync(p);
      }
    } finally {
      fs.rmSync(tmp, { recursive: true, force: true });
    }
  });
});
