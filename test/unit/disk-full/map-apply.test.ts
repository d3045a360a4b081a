// `map apply` and `links repair` with the library on a full disk (link_registry.json and the link journal live
// there; the app folder is on another, roomy disk): a clear E_IO, and nothing lost or untracked — every link made
// is known (recorded, or pending from the journal) and the same command completes once space is freed.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { applyMapping, checkLinks, repairLinks, writeAppConfig } from "../../../src/mapper/index.js";
import { LinkRegistry } from "../../../src/mapper/registry.js";
import { isModelLibraryError } from "../../../src/core/errors.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";
import { smallDisk } from "../../helpers/small-disk.js";

const NO_USER_CONFIGS = "/nonexistent-mlib-config";

function linksUnder(dir: string): string[] {
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((d) => d.isSymbolicLink())
    .map((d) => join(d.parentPath, d.name))
    .sort();
}

describe("map apply with the library on a full disk", () => {
  test("no room for the journal: E_IO naming the library file, no link made, none recorded", async (t) => {
    const disk = smallDisk(t, 4);
    if (!disk) return;
    const app = tempDir("mlib-app-");
    const lib = await tinyLibrary(join(disk.dir, "lib"));
    try {
      const root = join(app.dir, "models");
      fs.mkdirSync(root);
      const give = disk.fill(4096); // the registry lock's page, nothing more
      const e = await applyMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS }).then(() => null, (x: unknown) => x);
      assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
      assert.match(e.message, /no space left/);
      assert.ok(e.message.includes(lib.root), e.message);
      assert.deepEqual(linksUnder(root), [], "no link made that nothing records");
      give();
      assert.equal(LinkRegistry.load(lib.root).count(), 0);
      const r = await applyMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS });
      assert.equal(r.made.length, 3);
      assert.equal((await checkLinks(lib)).ok, true);
    } finally {
      lib.close();
      app.cleanup();
      disk.cleanup();
    }
  });

  test("the disk fills after the journal: the links made are known (pending), the registry whole; completed once space is freed", async (t) => {
    const disk = smallDisk(t, 4);
    if (!disk) return;
    const app = tempDir("mlib-app-");
    const lib = await tinyLibrary(join(disk.dir, "lib"));
    try {
      const root = join(app.dir, "models");
      fs.mkdirSync(root);
      // One app linked already: a registry to keep whole.
      fs.mkdirSync(join(app.dir, "comfy"));
      const first = await applyMapping(lib, { app: "comfyui", root: join(app.dir, "comfy"), configDir: NO_USER_CONFIGS });
      assert.ok(first.made.length > 0);
      const registryBefore = fs.readFileSync(join(lib.root, "link_registry.json"), "utf8");
      let give: (() => void) | null = null;
      const e = await applyMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS }, {
        onProgress: (p) => {
          if (p.phase === "link" && !give) give = disk.fill();
        },
      }).then(() => null, (x: unknown) => x);
      assert.ok(give, "filled");
      assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
      assert.match(e.message, /no space left/);
      assert.equal(fs.readFileSync(join(lib.root, "link_registry.json"), "utf8"), registryBefore, "the registry whole (not torn, not emptied)");
      const made = linksUnder(root);
      const known = new Set(LinkRegistry.load(lib.root).all().map((l) => l.target));
      for (const l of made) assert.ok(known.has(l), `${l} is made and known`);
      (give as unknown as () => void)();
      await repairLinks(lib);
      const again = await applyMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS });
      assert.equal(again.errors.length, 0, JSON.stringify(again.errors));
      const check = await checkLinks(lib);
      assert.equal(check.ok, true, JSON.stringify(check.counts));
      assert.equal(linksUnder(root).length, 3);
    } finally {
      lib.close();
      app.cleanup();
      disk.cleanup();
    }
  });

  test("links repair on a full disk: E_IO naming link_registry.json, the registry whole; repaired once space is freed", async (t) => {
    const disk = smallDisk(t, 4);
    if (!disk) return;
    const app = tempDir("mlib-app-");
    const lib = await tinyLibrary(join(disk.dir, "lib"));
    try {
      const root = join(app.dir, "models");
      fs.mkdirSync(root);
      assert.equal((await applyMapping(lib, { app: "llamacpp", root, configDir: NO_USER_CONFIGS })).made.length, 3);
      const gone = linksUnder(root)[0];
      fs.unlinkSync(gone); // a link the user deleted: repair forgets it
      const registryBefore = fs.readFileSync(join(lib.root, "link_registry.json"), "utf8");
      assert.ok(registryBefore.includes(gone));
      const give = disk.fill();
      const e = await repairLinks(lib).then(() => null, (x: unknown) => x);
      assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
      assert.match(e.message, /no space left/);
      assert.equal(fs.readFileSync(join(lib.root, "link_registry.json"), "utf8"), registryBefore, "the registry whole");
      give();
      await repairLinks(lib);
      const check = await checkLinks(lib);
      assert.equal(check.ok, true, JSON.stringify(check.counts));
      assert.ok(!LinkRegistry.load(lib.root).all().some((l) => l.target === gone), "the deleted link forgotten, at last");
    } finally {
      lib.close();
      app.cleanup();
      disk.cleanup();
    }
  });

  test("map config (ComfyUI's extra_model_paths.yaml) on a full disk: E_IO; the file and its earlier .mlib-bak unchanged", async (t) => {
    const disk = smallDisk(t, 1);
    if (!disk) return;
    const work = tempDir("mlib-lib-");
    const lib = await tinyLibrary(join(work.dir, "lib"));
    try {
      const comfy = join(disk.dir, "ComfyUI");
      fs.mkdirSync(join(comfy, "models"), { recursive: true });
      const yaml = join(comfy, "extra_model_paths.yaml");
      // The user's file (big enough that its copy cannot fit) and the backup an earlier run kept.
      const mine = `# my paths\nother:\n  base_path: /srv/other\n${"  # note\n".repeat(25000)}`;
      fs.writeFileSync(yaml, mine);
      fs.writeFileSync(`${yaml}.mlib-bak`, "# the version before\nother:\n  base_path: /srv/old\n");
      const bakBefore = fs.readFileSync(`${yaml}.mlib-bak`, "utf8");
      const give = disk.fill();
      const e = await writeAppConfig(lib, { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS }).then(() => null, (x: unknown) => x);
      assert.ok(isModelLibraryError(e) && e.code === "E_IO", String(e));
      assert.match(e.message, /no space left/);
      assert.equal(fs.readFileSync(yaml, "utf8"), mine, "the user's file unchanged");
      assert.equal(fs.readFileSync(`${yaml}.mlib-bak`, "utf8"), bakBefore, "the earlier backup unchanged (not truncated)");
      assert.deepEqual(fs.readdirSync(comfy).filter((n) => n.startsWith(".")), [], "no temp file left");
      give();
      const r = await writeAppConfig(lib, { app: "comfyui", root: join(comfy, "models"), configDir: NO_USER_CONFIGS });
      assert.equal(r.changed, true);
      assert.equal(fs.readFileSync(`${yaml}.mlib-bak`, "utf8"), mine, "now the backup is the user's file");
    } finally {
      lib.close();
      work.cleanup();
      disk.cleanup();
    }
  });
});
