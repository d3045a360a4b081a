// `mlib adopt` killed around the write of an adopted folder's metadata.json, and `mlib reindex` killed while it
// rebuilds: the next run leaves every model adopted once, the index whole (the old one or the new one, never
// empty), and doctor clean.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { readdirSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { join } from "node:path";
import { runCli, runCliJson, startCli } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";
import { writeTinyModel } from "../../helpers/mapper-fixtures.js";

async function listed(root: string): Promise<string[]> {
  const r = await runCliJson<{ models: { id: string }[]; totalCount: number }>(["list", "--limit", "100000", "--json", "--library", root]);
  assert.equal(r.code, 0, r.stderr);
  return r.json.models.map((m) => m.id).sort();
}

describe("adopt and reindex killed", () => {
  for (const moment of ["before-rename:metadata.json", "after-rename:metadata.json"]) {
    test(`adopt killed ${moment}: the next adopt adopts each folder once`, async () => {
      const t = tempDir();
      try {
        const root = join(t.dir, "lib");
        assert.equal((await runCli(["init", "--library", root])).code, 0);
        for (const i of [1, 2, 3]) writeGgufModel(join(root, "llm", "llama", `m${i}`, `m${i}.gguf`), `Model ${i}`, i);
        await killAtPause(["adopt", "--library", root], moment);
        const again = await runCliJson<{ adopted: string[] }>(["adopt", "--json", "--library", root]);
        assert.equal(again.code, 0, again.stdout + again.stderr);
        const ids = await listed(root);
        assert.equal(ids.length, 3, `each folder adopted once: ${ids.join(", ")}`);
        for (const i of [1, 2, 3]) {
          const names = readdirSync(join(root, "llm", "llama", `m${i}`));
          assert.ok(names.includes("metadata.json"), `m${i} has its metadata.json`);
        }
        const fixed = await runCli(["doctor", "--fix", "--library", root], { env: { MLIB_LEASE_EXPIRE_MS: "1" } });
        assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
      } finally {
        t.cleanup();
      }
    });
  }

  test("reindex killed at several moments of its rebuild: the index always lists every model", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      const N = 1200;
      assert.equal((await runCli(["init", "--library", root])).code, 0);
      for (let i = 0; i < N; i++) {
        writeTinyModel(root, { id: `llm/bulk/m${i}`, model_type: "llm", family: "bulk", format: "gguf", files: { [`m${i}.gguf`]: `gguf ${i}` } });
      }
      const first = await runCli(["reindex", "--library", root], { timeoutMs: 60_000 });
      assert.equal(first.code, 0, first.stdout + first.stderr);
      assert.equal((await listed(root)).length, N);
      // Killed after these delays from its start: the process starts in ~0.6-0.8 s, then rebuilds for ~0.3 s (more on
      // a loaded machine): one of them lands in the rebuild's transaction, wherever the others land.
      for (const ms of [800, 1000]) {
        const { child, result } = startCli(["reindex", "--library", root], { timeoutMs: 60_000 });
        await sleep(ms);
        child.kill("SIGKILL");
        await result;
        assert.equal((await listed(root)).length, N, `after a kill at ${ms} ms the index still lists all ${N} models`);
      }
    } finally {
      t.cleanup();
    }
  });
});
