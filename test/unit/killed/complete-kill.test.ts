// `mlib download --complete ID` killed after moving the fetched shard into the model's folder and before recording
// it in metadata.json: the same command again must leave the shard recorded (name, size, SHA-256), so that verify
// checks it and doctor is clean — not a file in the folder that metadata.json never lists.
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join } from "node:path";
import { buildSafetensors } from "../../../src/demo/safetensors-writer.js";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importInPlace } from "../../../src/operations/import-in-place.js";
import { startFakeHub } from "../../helpers/fake-hub.js";
import { runCli } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { llamaTensors, tempDir } from "../../helpers/library-fixtures.js";

const shard = (i: number): Buffer => buildSafetensors(llamaTensors(1, 16, 40 + i), { format: "pt" });
const name = (i: number): string => `model-0000${i}-of-00003.safetensors`;

test("download --complete killed before metadata.json records the landed shard: the same command records it", async () => {
  const hub = await startFakeHub({ repos: [{ id: "acme/sharded", files: [1, 2, 3].map((i) => ({ path: name(i), content: shard(i), lfs: true })) }] });
  const t = tempDir("mlib-killed-complete-");
  try {
    const root = join(t.dir, "lib");
    const lib = await ModelLibrary.open(root);
    const dir = join(root, "llm", "llama", "sharded");
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, name(1)), shard(1));
    writeFileSync(join(dir, name(3)), shard(3));
    const id = (await importInPlace(lib, { modelDir: dir, officialName: "sharded", repoId: "acme/sharded", allowIncomplete: true })).modelId;
    lib.close();
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(t.dir, "hf"), MLIB_CACHE_DIR: join(t.dir, "cache"), HF_HUB_OFFLINE: undefined };
    const args = ["download", "--complete", id, "--library", root];

    await killAtPause(args, "before-rename:metadata.json", { env });
    const again = await runCli(args, { env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const meta = JSON.parse(readFileSync(join(dir, "metadata.json"), "utf8")) as { files: { name: string; sha256: string | null; size: number }[] };
    const two = meta.files.filter((f) => f.name === name(2));
    assert.equal(two.length, 1, `the landed shard is recorded once: ${JSON.stringify(meta.files.map((f) => f.name))}`);
    assert.equal(two[0]!.sha256, createHash("sha256").update(shard(2)).digest("hex"));
    assert.equal(two[0]!.size, shard(2).length);
    const downloads = await runCli(["downloads", "--json", "--library", root], { env });
    assert.deepEqual(JSON.parse(downloads.stdout), { downloads: [] }, "the killed run's download entry is over");
    const staging = join(root, ".model-library", "downloads");
    assert.deepEqual(existsSync(staging) ? readdirSync(staging) : [], [], "and its staging folder is gone");
    const doctor = await runCli(["doctor", "--fix", "--library", root], { env: { ...env, MLIB_LEASE_EXPIRE_MS: "1" } });
    assert.equal(doctor.code, 0, doctor.stdout + doctor.stderr);
  } finally {
    await hub.close();
    t.cleanup();
  }
});
