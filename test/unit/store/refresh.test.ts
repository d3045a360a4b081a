// Issue 9 items 11 and 8 (restore): short queries read the short fields; a hand edit of a metadata.json is
// seen by the commands that show or touch the model, without a reindex and without statting every file on
// open; restore of a valid metadata.json asks (or needs --force) and keeps what it replaces.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync, readdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { verifyModels } from "../../../src/operations/verify-models.js";
import { closeHashWorkers } from "../../../src/hashing/index.js";
import { tempDir, writeGgufModel, writeKohyaLora } from "../../helpers/library-fixtures.js";
import { runCli, runCliJson } from "../../helpers/cli.js";

function editMetadata(lib: ModelLibrary, id: string, change: (m: Record<string, unknown>) => void): void {
  const file = join(lib.modelDir(id), "metadata.json");
  const m = JSON.parse(readFileSync(file, "utf8")) as Record<string, unknown>;
  change(m);
  writeFileSync(file, JSON.stringify(m, null, 2)); // in place, as the original and hand edits do
}

describe("short queries and hand edits", () => {
  test.after(() => closeHashWorkers());

  test("`sd` finds family sd1; `q4` finds the quantization; descriptions are not searched by 1-2 characters", async () => {
    const t = tempDir();
    try {
      const lib = await ModelLibrary.open(join(t.dir, "lib"));
      try {
        const [lora] = await importModels(lib, [writeKohyaLora(join(t.dir, "src", "style.safetensors"))]);
        const [gguf] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "chat.gguf"), "Chat", 2)]);
        assert.equal(lib.get(lora.modelId!)!.family, "sd1");
        assert.deepEqual(lib.search("sd").models.map((m) => m.id), [lora.modelId]);
        assert.deepEqual(lib.search("q4").models.map((m) => m.id), [gguf.modelId]); // Q4_K_M
      } finally {
        lib.close();
      }
    } finally {
      t.cleanup();
    }
  });

  test("a hand edit is seen by search, list, show and verify ID without a reindex", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      let lib = await ModelLibrary.open(root);
      const [a] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"), "Alpha", 1)]);
      const id = a.modelId!;
      editMetadata(lib, id, (m) => {
        m.official_name = "Renamed Zephyrus";
        m.tags = ["handmade"];
      });
      // Same process, no reconcile: the page's models are checked before they are returned.
      assert.equal(lib.search("zephyrus").models[0]?.id, undefined, "not found before: the index has the old name");
      assert.equal(lib.list().models[0].officialName, "Renamed Zephyrus");
      assert.equal(lib.search("zephyrus").models[0]?.id, id);
      assert.deepEqual(lib.require(id).tags, ["handmade"]);
      editMetadata(lib, id, (m) => (m.official_name = "Third Name"));
      assert.equal(lib.require(id).officialName, "Third Name");
      lib.close();

      // Other processes: a quick open does not stat metadata.json files, the commands check what they show.
      editMetadata(lib, id, (m) => (m.official_name = "Edited Elsewhere"));
      const show = await runCliJson<{ officialName: string }>(["show", id, "--json", "--library", root]);
      assert.equal(show.json.officialName, "Edited Elsewhere", show.stderr);
      editMetadata(lib, id, (m) => (m.tags = ["later"]));
      const search = await runCliJson<{ models: { id: string; tags: string[] }[] }>(["search", "edited", "--json", "--library", root]);
      assert.deepEqual(search.json.models.map((m) => m.tags), [["later"]]);
      // verify ID reads the edited file list: a renamed file entry is now missing.
      lib = await ModelLibrary.open(root, { reconcile: "none" });
      editMetadata(lib, id, (m) => ((m.files as { name: string }[])[0].name = "gone.gguf"));
      const [r] = await verifyModels(lib, [id]);
      assert.equal(r.ok, false);
      assert.equal(r.files[0].status, "missing");
      lib.close();
    } finally {
      t.cleanup();
    }
  });

  test("restore: a valid metadata.json is replaced only with --force, and kept as metadata.json.replaced-<date>", async () => {
    const t = tempDir();
    try {
      const root = join(t.dir, "lib");
      const lib = await ModelLibrary.open(root);
      const [a] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"), "Alpha", 1)]);
      const id = a.modelId!;
      await lib.updateMetadata(id, (m) => (m.notes = "second version")); // makes metadata.json.bak
      lib.close();
      const dir = join(root, ...id.split("/"));
      const current = readFileSync(join(dir, "metadata.json"), "utf8");

      const refused = await runCli(["restore", id, "--library", root]); // stdin is not a terminal: refuse, never ask
      assert.equal(refused.code, 2, refused.stderr);
      assert.match(refused.stderr, /is valid JSON: restoring .*metadata\.json\.bak would replace it \(use --force/);
      assert.equal(readFileSync(join(dir, "metadata.json"), "utf8"), current);

      const forced = await runCliJson<{ restored: boolean; keptAs: string }>(["restore", id, "--force", "--json", "--library", root]);
      assert.equal(forced.code, 0, forced.stderr);
      assert.match(forced.json.keptAs, /metadata\.json\.replaced-\d{4}-/);
      assert.equal(readFileSync(forced.json.keptAs, "utf8"), current);
      assert.doesNotMatch(readFileSync(join(dir, "metadata.json"), "utf8"), /second version/);

      // A corrupt metadata.json: restored without asking, the corrupt one kept too.
      writeFileSync(join(dir, "metadata.json"), "{ not json");
      const fixed = await runCli(["restore", id, "--library", root]);
      assert.equal(fixed.code, 0, fixed.stderr);
      const kept = readdirSync(dir).filter((n) => n.startsWith("metadata.json.replaced-"));
      assert.equal(kept.length, 2);
      assert.ok(kept.some((n) => readFileSync(join(dir, n), "utf8") === "{ not json"));
      assert.ok(existsSync(join(dir, "metadata.json.bak")));
    } finally {
      t.cleanup();
    }
  });
});
