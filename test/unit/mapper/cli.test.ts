// The mapper's commands as a user runs them: apps, map preview/apply/config, links, links check/repair, unlink.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

test("mlib apps / map / links / unlink end to end", async () => {
  const { dir, cleanup } = tempDir("mlib-mapcli-");
  try {
    const libRoot = join(dir, "lib");
    (await tinyLibrary(libRoot)).close();
    const env = { XDG_CONFIG_HOME: join(dir, "config") };
    const root = join(dir, "ComfyUI", "models");
    fs.mkdirSync(root, { recursive: true });
    const L = ["--library", libRoot];

    const apps = await runCli(["apps", "--json"], { env });
    assert.equal(apps.code, 0, apps.stderr);
    assert.deepEqual(JSON.parse(apps.stdout).apps.map((a: { id: string }) => a.id).sort(), ["a1111", "comfyui", "forge", "llamacpp", "lmstudio"]);

    const preview = await runCli(["map", "preview", "comfyui", "--root", root, "--json", ...L], { env });
    assert.equal(preview.code, 0, preview.stderr);
    assert.equal(JSON.parse(preview.stdout).creates.length, 4);
    assert.deepEqual(fs.readdirSync(root), [], "preview makes nothing");

    fs.mkdirSync(join(root, "loras"));
    fs.writeFileSync(join(root, "loras", "detail.safetensors"), "mine");
    const apply = await runCli(["map", "apply", "comfyui", "--root", root, "--on-conflict", "rename", "--link", "symlink", ...L], { env });
    assert.equal(apply.code, 0, apply.stderr);
    assert.match(apply.stdout, /renamed\s+loras\/detail_1\.safetensors/);
    assert.match(apply.stdout, /4 made/);

    const bad = await runCli(["map", "apply", "comfyui", "--root", root, "--on-conflict", "delete", ...L], { env });
    assert.equal(bad.code, 2);

    const links = await runCli(["links", "--app", "comfyui", "--json", ...L], { env });
    assert.equal(JSON.parse(links.stdout).links.length, 4);

    const ok = await runCli(["links", "check", ...L], { env });
    assert.equal(ok.code, 0, ok.stdout + ok.stderr);
    fs.rmSync(join(root, "checkpoints", "juggernaut.safetensors"));
    const notOk = await runCli(["links", "check", "--json", ...L], { env });
    assert.equal(notOk.code, 1);
    assert.equal(JSON.parse(notOk.stdout).counts.missing, 1);
    const repair = await runCli(["links", "repair", ...L], { env });
    assert.equal(repair.code, 0, repair.stderr);
    assert.match(repair.stdout, /forgotten/);

    const unlink = await runCli(["unlink", "--app", "comfyui", "--root", root, ...L], { env });
    assert.equal(unlink.code, 0, unlink.stderr);
    assert.match(unlink.stdout, /3 removed/);
    assert.equal(fs.readFileSync(join(root, "loras", "detail.safetensors"), "utf8"), "mine");
    assert.ok(!fs.existsSync(join(root, "loras", "detail_1.safetensors")));

    const cfg = await runCli(["map", "config", "a1111", "--root", join(dir, "ComfyUI", "models"), ...L], { env });
    assert.equal(cfg.code, 0, cfg.stderr);
    assert.match(cfg.stdout, /--embeddings-dir/);
  } finally {
    cleanup();
  }
});
