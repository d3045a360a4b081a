// map apply, unlink and links repair killed with SIGKILL between changing the app's folder and writing
// link_registry.json (and just after): the same command run again leaves the registry and the disk agreeing, no link
// of ours is left that the registry does not know, the user's file is untouched, and doctor is clean.
import { describe, test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { runCli } from "../../helpers/cli.js";
import { killAtPause } from "../../helpers/kill-at-pause.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";

interface World {
  dir: string;
  libRoot: string;
  root: string;
  env: Record<string, string>;
  L: string[];
  cleanup: () => void;
}

async function world(): Promise<World> {
  const { dir, cleanup } = tempDir("mlib-killed-links-");
  const libRoot = join(dir, "lib");
  (await tinyLibrary(libRoot)).close();
  const root = join(dir, "ComfyUI", "models");
  fs.mkdirSync(join(root, "loras"), { recursive: true });
  fs.writeFileSync(join(root, "loras", "detail.safetensors"), "mine");
  return { dir, libRoot, root, env: { XDG_CONFIG_HOME: join(dir, "config") }, L: ["--library", libRoot], cleanup };
}

const applyArgs = (w: World) => ["map", "apply", "comfyui", "--root", w.root, "--on-conflict", "rename", "--link", "symlink", ...w.L];

/** Every symlink under the app's folder (ours are the only ones there). */
function linksOnDisk(root: string): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(root, { withFileTypes: true, recursive: true })) {
    if (e.isSymbolicLink()) out.push(join(e.parentPath, e.name));
  }
  return out.sort();
}

async function registered(w: World): Promise<string[]> {
  const r = await runCli(["links", "--app", "comfyui", "--json", ...w.L], { env: w.env });
  assert.equal(r.code, 0, r.stderr);
  return (JSON.parse(r.stdout) as { links: { target: string }[] }).links.map((l) => l.target).sort();
}

/** The registry and the disk agree, the user's file is there, nothing of a killed write is left, doctor is clean. */
async function whole(w: World): Promise<void> {
  assert.deepEqual(await registered(w), linksOnDisk(w.root), "the registry knows exactly the links on disk");
  assert.equal(fs.readFileSync(join(w.root, "loras", "detail.safetensors"), "utf8"), "mine");
  // Exit 0: nothing remains once the safe fixes are applied (its link check included; MLIB_LEASE_EXPIRE_MS: a
  // killed write's temp file counts as old).
  const fixed = await runCli(["doctor", "--fix", ...w.L], { env: { ...w.env, MLIB_LEASE_EXPIRE_MS: "1" } });
  assert.equal(fixed.code, 0, fixed.stdout + fixed.stderr);
  const left = fs.readdirSync(w.libRoot).concat(fs.readdirSync(join(w.libRoot, ".model-library"))).filter((n) => n.endsWith(".tmp"));
  assert.deepEqual(left, [], "no temp file left");
  assert.ok(!fs.existsSync(join(w.libRoot, ".model-library", "link_journal.json")), "no journal left");
}

describe("links commands killed around the registry's write", () => {
  for (const moment of ["before-rename:link_registry.json", "after-rename:link_registry.json"]) {
    test(`map apply killed ${moment}, then apply again`, async () => {
      const w = await world();
      try {
        await killAtPause(applyArgs(w), moment, { env: w.env });
        assert.equal(linksOnDisk(w.root).length, 4, "the links were made before the kill");
        const again = await runCli(applyArgs(w), { env: w.env });
        assert.equal(again.code, 0, again.stdout + again.stderr);
        assert.equal((await registered(w)).length, 4);
        await whole(w);
      } finally {
        w.cleanup();
      }
    });
  }

  test("unlink killed before the registry's rename, then unlink again", async () => {
    const w = await world();
    try {
      assert.equal((await runCli(applyArgs(w), { env: w.env })).code, 0);
      const unlink = ["unlink", "--app", "comfyui", "--root", w.root, ...w.L];
      await killAtPause(unlink, "before-rename:link_registry.json", { env: w.env });
      assert.equal(linksOnDisk(w.root).length, 0, "the links were removed before the kill");
      const again = await runCli(unlink, { env: w.env });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.deepEqual(await registered(w), []);
      await whole(w);
    } finally {
      w.cleanup();
    }
  });

  test("links repair (of a killed apply's pending links) killed before the registry's rename, then repair again", async () => {
    const w = await world();
    try {
      await killAtPause(applyArgs(w), "before-rename:link_registry.json", { env: w.env });
      await killAtPause(["links", "repair", ...w.L], "before-rename:link_registry.json", { env: w.env });
      assert.ok(fs.existsSync(join(w.libRoot, ".model-library", "link_journal.json")), "the apply's journal is kept until a registry records it");
      const again = await runCli(["links", "repair", ...w.L], { env: w.env });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.equal((await registered(w)).length, 4, "the four links the killed apply made are recorded");
      await whole(w);
    } finally {
      w.cleanup();
    }
  });
  test("rm --cascade killed before the registry's rename, then rm --cascade again", async () => {
    const w = await world();
    try {
      assert.equal((await runCli(applyArgs(w), { env: w.env })).code, 0);
      const id = "diffusion/sdxl/juggernaut";
      const rm = ["rm", id, "--yes", "--cascade", ...w.L];
      await killAtPause(rm, "before-rename:link_registry.json", { env: w.env });
      const again = await runCli(rm, { env: w.env });
      assert.equal(again.code, 0, again.stdout + again.stderr);
      assert.ok(!fs.existsSync(join(w.libRoot, ...id.split("/"))), "the model is removed");
      assert.equal((await registered(w)).length, 3, "its link is forgotten, the others kept");
      await whole(w);
    } finally {
      w.cleanup();
    }
  });
});
