// walkContainers, the store's walk (reconcile, reindex): containers stat'ed, models offered and never entered,
// hidden folders skipped, model folders found one level below the deepest container (MAX_DEPTH).
import { test } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { MAX_DEPTH, walkContainers } from "../../../src/store/walk-containers.js";
import { tempDir } from "../../helpers/library-fixtures.js";

test("walkContainers: containers with their mtime, models offered (not entered), depth bounded, from a sub-folder too", () => {
  const t = tempDir("mlib-wc-");
  try {
    const chain = (n: number) => Array.from({ length: n }, (_, i) => `d${i + 1}`).join("/");
    for (const m of ["llm/llama/a", "llm/llama/a/inner", ".staging/x", `${chain(MAX_DEPTH)}/deepest`, `${chain(MAX_DEPTH + 1)}/too-deep`]) {
      mkdirSync(join(t.dir, m), { recursive: true });
      writeFileSync(join(t.dir, m, "metadata.json"), "{}");
    }
    const containers: string[] = [];
    const offered: string[] = [];
    const isModel = (abs: string, id: string) => {
      assert.equal(abs, join(t.dir, ...id.split("/")));
      offered.push(id);
      return existsSync(join(abs, "metadata.json"));
    };
    walkContainers(t.dir, "", (rel, st) => (assert.ok(st.isDirectory()), void containers.push(rel)), isModel);
    const models = offered.filter((id) => existsSync(join(t.dir, id, "metadata.json")));
    assert.deepEqual(models, [`${chain(MAX_DEPTH)}/deepest`, "llm/llama/a"], "a model at MAX_DEPTH + 1 found; none deeper, none inside a model");
    assert.ok(!offered.some((id) => id.startsWith(".staging") || id.endsWith("inner")));
    assert.deepEqual(containers.filter((c) => !c.startsWith("d")), ["", "llm", "llm/llama"]);
    assert.equal(containers.filter((c) => c.startsWith("d")).length, MAX_DEPTH, "chain containers d1..d8; d9 is not entered");

    const under: string[] = [];
    walkContainers(t.dir, "llm", (rel) => void under.push(rel), (_abs, id) => id === "llm/llama/a");
    assert.deepEqual(under, ["llm", "llm/llama"], "ids and containers named from the library root");
  } finally {
    t.cleanup();
  }
});
