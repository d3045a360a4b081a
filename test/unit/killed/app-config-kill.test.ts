// `mlib map config comfyui` killed between writing the new extra_model_paths.yaml into its temp file and renaming
// it over the user's file: the user's file is as it was, and the next `map config` leaves no temp file of ours in
// the app's folder (the killed run's was left there for good: no other command looks into that folder for it).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

test("map config killed before its rename: the user's yaml intact; the next run leaves no temp file", async () => {
  const { dir, cleanup } = tempDir("mlib-killed-config-");
  try {
    const libRoot = join(dir, "lib");
    (await tinyLibrary(libRoot)).close();
    const appDir = join(dir, "ComfyUI");
    const root = join(appDir, "models");
    fs.mkdirSync(root, { recursive: true });
    const yaml = join(appDir, "extra_model_paths.yaml");
    const mine = "# my own settings\nother_ui:\n  base_path: /srv/models\n";
    fs.writeFileSync(yaml, mine);
    const args = ["map", "config", "comfyui", "--root", root, "--library", libRoot];
    const env = { XDG_CONFIG_HOME: join(dir, "config") };

    await killAtPause(args, "before-rename:extra_model_paths.yaml", { env });
    assert.equal(fs.readFileSync(yaml, "utf8"), mine, "the user's file is untouched until the rename");
    const again = await runCli(args, { env });
    assert.equal(again.code, 0, again.stdout + again.stderr);
    const text = fs.readFileSync(yaml, "utf8");
    assert.ok(text.startsWith(mine), "the user's text kept");
    assert.match(text, /model_library:/);
    assert.deepEqual(fs.readdirSync(appDir).filter((n) => n.includes("mlib-tmp")), [], "no temp file of ours left in the app's folder");
  } finally {
    cleanup();
  }
});
