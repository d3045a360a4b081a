// A user's mapping profile (JSON in the mapping config folder) is read as data: a target_dir that leaves the app
// folder (the parent of its models folder) however it is written (absolute, `..` in the middle, the root) links nothing there, and
// the excluded models say which rule and why; links of the other rules are still made, all inside the app folder.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping } from "../../../src/mapper/index.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

test("profile folders that leave the app folder (absolute, a/../../../x, ./../../x, /) make nothing outside it", async () => {
  const { dir, cleanup } = tempDir("mlib-trav-profile-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const root = join(dir, "App", "models");
    fs.mkdirSync(root, { recursive: true });
    const elsewhere = join(dir, "elsewhere");
    const cfg = join(dir, "cfg");
    fs.mkdirSync(cfg);
    const leaving = [elsewhere, "loras/../../../elsewhere2", "./../../x2", "/"];
    fs.writeFileSync(join(cfg, "evil.json"), JSON.stringify({
      app: "evil", version: "*",
      mappings: [...leaving.map((d) => ({ target_dir: d, model_types: ["diffusion"] })), { target_dir: "ok", model_types: ["diffusion"] }],
    }));
    const before = fs.readdirSync(dir).sort();
    const r = await applyMapping(lib, { app: "evil", root, configDir: cfg });
    assert.ok(r.made.length > 0, "the rule inside the app folder still links");
    for (const m of r.made) assert.ok(m.target.startsWith(join(root, "ok") + "/"), m.target);
    // One reason per leaving rule (its target_dir as normalized), each naming the app folder.
    const reasons = new Set(r.excluded.map((x) => x.reason));
    assert.equal(reasons.size, leaving.length, JSON.stringify([...reasons]));
    for (const why of reasons) assert.match(why, /^rule target_dir ".*" leaves the app folder .*App$/);
    assert.deepEqual(fs.readdirSync(dir).sort(), before, "nothing new beside the app folder");
    assert.deepEqual(fs.readdirSync(join(dir, "App")), ["models"]);
  } finally {
    lib.close();
    cleanup();
  }
});
