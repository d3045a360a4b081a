// `mlib download REPO` killed while it lands the model: after the model's metadata.json is written and before the
// download's own fields are recorded in it (after-rename), or before that write's rename. The same command again
// leaves one model (not a second copy), with the fields a finished download records, no download entry left, and
// doctor clean.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { startFakeHub } from "../../helpers/fake-hub.js";
import { runCli, runCliJson } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { tempDir } from "../../helpers/library-fixtures.js";

describe("download killed while landing", () => {
  for (const moment of ["before-rename:metadata.json", "after-rename:metadata.json"]) {
    test(`killed ${moment}: the same download again finishes it, once`, async () => {
      const gguf = buildTinyLlamaGguf({ name: "Landed", fileType: 15, contextLength: 2048, seed: 5 });
      const hub = await startFakeHub({ repos: [{ id: "acme/landed-GGUF", files: [{ path: "landed-Q4_K_M.gguf", content: gguf, lfs: true }] }] });
      const t = tempDir("mlib-killed-land-");
      try {
        const root = join(t.dir, "lib");
        const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(t.dir, "hf"), MLIB_CACHE_DIR: join(t.dir, "cache"), HF_HUB_OFFLINE: undefined };
        const args = ["download", "acme/landed-GGUF", "--library", root];
        await killAtPause(args, moment, { env });
        const again = await runCli(args, { env });
        assert.equal(again.code, 0, again.stdout + again.stderr);
        const listed = await runCliJson<{ models: { id: string; path: string }[] }>(["list", "--json", "--library", root]);
        assert.equal(listed.json.models.length, 1, `one model: ${listed.json.models.map((m) => m.id).join(", ")}`);
        const path = listed.json.models[0]!.path;
        // The killed run's folder taken back (recorded in downloads.json), not a second one beside it.
        assert.deepEqual(readdirSync(dirname(path)), [basename(path)]);
        const meta = JSON.parse(readFileSync(join(path, "metadata.json"), "utf8")) as Record<string, unknown>;
        assert.equal(meta.repo_id, "acme/landed-GGUF");
        assert.equal(meta.match_source, "download", "the download's own fields are recorded");
        assert.equal(meta.download_url, `${hub.url}/acme/landed-GGUF`);
        const downloads = await runCli(["downloads", "--json", "--library", root], { env });
        assert.deepEqual(JSON.parse(downloads.stdout), { downloads: [] });
        const fixed = await runCli(["doctor", "--fix", "--library", root], { env: { ...env, MLIB_LEASE_EXPIRE_MS: "1" } });
        assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
      } finally {
        await hub.close();
        t.cleanup();
      }
    });
  }
});
