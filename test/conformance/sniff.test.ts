// sniffFormat on every file in ../shared/fixtures gives the format its folder says (SOURCES.md says
// what each file is): only the bytes decide, so misnamed files and pointers are caught.
import { test } from "node:test";
import assert from "node:assert/strict";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readHead } from "../../src/formats/file-bytes.js";
import { sniffFormat } from "../../src/formats/sniff.js";
import type { Format } from "../../src/formats/types.js";

const root = fileURLToPath(new URL("../../../shared/fixtures/", import.meta.url));
const skip = fs.existsSync(root) ? false : "../shared/fixtures not found";

/** What each fixture is, from its folder and SOURCES.md. */
function expectedFormat(rel: string): Format {
  const name = path.posix.basename(rel);
  if (name.endsWith(".LFS-POINTER.txt")) return "lfs-pointer";
  // The "FUGG" pre-release experiment is not GGUF: its bytes say so, whatever its name.
  if (name === "example.prerelease-FUGG-magic.gguf") return "unknown";
  if (rel.startsWith("gguf/") && name.endsWith(".gguf")) return "gguf";
  if (rel.startsWith("legacy-ggml/")) return "ggml";
  if (rel.startsWith("onnx/")) return "onnx";
  if (rel.startsWith("pytorch/")) return "pickle";
  if (rel.startsWith("safetensors/") && name.endsWith(".safetensors")) return "safetensors";
  // sharded/: the weights and tokenizer blobs are LFS pointers (the repos were mirrored without LFS).
  if (rel.startsWith("sharded/") && (name.endsWith(".safetensors") || name === "tokenizer.model" || name === "tekken.json")) return "lfs-pointer";
  return "unknown"; // JSON, YAML, Markdown, Modelfile, .gitattributes...
}

function walk(dir: string, base = ""): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((d) => {
    const rel = base ? `${base}/${d.name}` : d.name;
    return d.isDirectory() ? walk(path.join(dir, d.name), rel) : [rel];
  });
}

test("every fixture file sniffs as the format its folder says", { skip }, async () => {
  const files = walk(root).sort();
  assert.ok(files.length >= 150, `only ${files.length} fixture files`);
  const wrong: string[] = [];
  const counts = new Map<Format, number>();
  for (const rel of files) {
    const { bytes, size } = await readHead(path.join(root, rel), 64);
    const got = sniffFormat(bytes, size, path.posix.basename(rel));
    counts.set(got, (counts.get(got) ?? 0) + 1);
    if (got !== expectedFormat(rel)) wrong.push(`${rel}: ${got}, expected ${expectedFormat(rel)}`);
  }
  assert.deepEqual(wrong, []);
  for (const f of ["gguf", "ggml", "onnx", "pickle", "safetensors", "lfs-pointer", "unknown"] as Format[]) {
    assert.ok((counts.get(f) ?? 0) > 0, `no fixture sniffed as ${f}`);
  }
});

test("fixtures keep their format under a misleading name", { skip }, async () => {
  const cases: [string, string, Format][] = [
    ["gguf/vocab/ggml-vocab-llama-spm.gguf", "model.bin", "gguf"],
    ["pytorch/test.pt", "model.ckpt", "pickle"],
    ["pytorch/test.pt", "model.safetensors", "pickle"],
    ["safetensors/samples/safetensors-sample-overall.safetensors", "pytorch_model.bin", "safetensors"],
    ["legacy-ggml/ggml-vocab.ggjt-v1.bin", "model.gguf", "ggml"],
    ["onnx/light_resnet50.onnx", "weights.pt", "onnx"],
    ["gguf/historical/ggml-vocab-llama-spm.gguf.LFS-POINTER.txt", "ggml-vocab-llama-spm.gguf", "lfs-pointer"],
    ["hub-api/extracted/200__facebook_bart-base.json", "model.safetensors", "unknown"],
  ];
  for (const [rel, name, expected] of cases) {
    const { bytes, size } = await readHead(path.join(root, rel), 64);
    assert.equal(sniffFormat(bytes, size, name), expected, `${rel} as ${name}`);
  }
});
