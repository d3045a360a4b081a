// A library imported before identification got better keeps what identify said then (a FLUX transformer as a
// `checkpoints`), and nothing said so. metadata.json now records the identify revision that wrote it: the doctor
// names the models older than the current one (from metadata alone, no model bytes), `mlib redetect` brings them
// up to date — the subtype included (a redetect that changed only the subtype used to report "unchanged" and keep
// the old one) — and the doctor is then quiet.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { redetectModels } from "../../../src/operations/redetect-models.js";
import { runDoctor } from "../../../src/doctor/run-doctor.js";
import { IDENTIFY_VERSION } from "../../../src/identify/identify-version.js";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { runCli } from "../../helpers/cli.js";

test.after(() => closeHashWorkers());

/** A FLUX transformer alone in BFL's layout (tiny shapes: identify goes by the tensor names). */
function writeFluxTransformer(file: string): string {
  const keys: Record<string, number[]> = {
    "double_blocks.0.img_attn.qkv.weight": [96, 32],
    "single_blocks.0.linear1.weight": [64, 32],
    "img_in.weight": [32, 64],
    "txt_in.weight": [32, 64],
    "time_in.in_layer.weight": [32, 16],
  };
  const tensors = Object.entries(keys).map(([name, shape]) => ({ name, dtype: "F16", shape, data: Buffer.alloc(shape.reduce((a, b) => a * b, 1) * 2, 1) }));
  fs.writeFileSync(file, buildSafetensors(tensors));
  return file;
}

/** Rewrites a metadata.json as an older mlib left it: no identify revision recorded, and `change` applied. */
function makeOld(lib: ModelLibrary, id: string, change: (m: Record<string, unknown>) => void = () => {}): void {
  const file = path.join(lib.modelDir(id), "metadata.json");
  const m = JSON.parse(fs.readFileSync(file, "utf8")) as Record<string, unknown>;
  delete m.identify_version;
  change(m);
  fs.writeFileSync(file, JSON.stringify(m, null, 2));
}

test("doctor names models identified by an older identify; redetect updates them (subtype too) and the doctor is quiet", async () => {
  const t = tempDir("mlib-identver-");
  try {
    const src = path.join(t.dir, "src");
    fs.mkdirSync(src);
    const lib = await ModelLibrary.open(path.join(t.dir, "lib"));
    try {
      const { results } = await importModels(lib, { paths: [writeFluxTransformer(path.join(src, "flux1-dev.safetensors")), writeGgufModel(path.join(src, "tiny.gguf"), "Tiny", 3), writeGgufModel(path.join(src, "mine.gguf"), "Mine", 4)] });
      const [flux, tiny, mine] = results.map((r) => r.modelId!);
      assert.equal((await lib.getMetadata(flux)).subtype, "diffusion_models");
      for (const id of [flux, tiny]) assert.equal((await lib.getMetadata(id)).identify_version, IDENTIFY_VERSION, "recorded at import");
      const fresh = await runDoctor(lib);
      assert.deepEqual([...fresh.problems, ...fresh.notices], [], "a library imported now is up to date");

      // As an older mlib left them: the transformer a checkpoint, the GGUF as it is, a third set by hand.
      makeOld(lib, flux, (m) => void (m.subtype = "checkpoints"));
      makeOld(lib, tiny);
      makeOld(lib, mine, (m) => void (m.match_source = "manual"));
      await lib.reconcile("full");
      const tinyUpdated = (await lib.getMetadata(tiny)).updated_date;

      const r = await runDoctor(lib);
      assert.deepEqual(r.problems, [], "not a problem: nothing is wrong, identification got better since");
      assert.deepEqual(r.notices.map((p) => p.kind), ["identify-outdated"]);
      const p = r.notices[0];
      assert.equal(p.path, lib.root);
      assert.match(p.message, /^2 models were identified by an older version of mlib/);
      assert.equal(p.remedy, `mlib redetect ${[flux, tiny].sort().join(" ")}`, "the hand-set model is not named: redetect keeps it");
      assert.equal(r.fixable, 0, "not a --fix: a redetect re-classifies models");

      // The CLI: the notice and its remedy shown, exit 0 (a library imported before an upgrade is not failing);
      // then the remedy run as printed.
      const doc = await runCli(["doctor", "--library", lib.root]);
      assert.equal(doc.code, 0, doc.stderr);
      assert.match(doc.stdout, /notice: identify-outdated +2 models were identified by an older version/);
      assert.match(doc.stdout, /no problems \(1 notice\)/);
      const red = await runCli(["redetect", "--library", lib.root, ...p.remedy.split(" ").slice(2)]);
      assert.equal(red.code, 0, red.stderr);
      assert.match(red.stdout, new RegExp(`changed  ${flux}: subtype checkpoints → diffusion_models`));
      assert.match(red.stdout, /2 checked, 1 changed, 0 failed/);

      await lib.reconcile("full");
      assert.equal((await lib.getMetadata(flux)).subtype, "diffusion_models");
      const tinyNow = await lib.getMetadata(tiny);
      assert.equal(tinyNow.identify_version, IDENTIFY_VERSION);
      assert.equal(tinyNow.updated_date, tinyUpdated, "nothing changed but the recorded revision: updated_date kept");
      const after = await runDoctor(lib);
      assert.deepEqual([...after.problems, ...after.notices], []);
      const again = await redetectModels(lib, {});
      assert.equal(again.changed, 0);
    } finally {
      lib.close();
    }
  } finally {
    t.cleanup();
  }
});
