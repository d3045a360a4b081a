// Issue 9 item 7: stored text (a GGUF general.name, a tag, a file name) holding ESC/BEL/CR never reaches the
// terminal raw: every human output escapes control characters; --json keeps the exact text.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { join } from "node:path";
import { safeText } from "../../src/cli/output.js";
import { runCli, runCliJson } from "../helpers/cli.js";
import { tempDir, writeGgufModel } from "../helpers/library-fixtures.js";

// Any C0 control but newline, DEL, or a C1 control.
// eslint-disable-next-line no-control-regex
const RAW_CONTROL = /[\x00-\x09\x0b-\x1f\x7f-\x9f]/;
const HOSTILE = "evil\x1b]0;pwned\x07\x1b[2J\rfake\x9b1m\nFAKE-LINE";

describe("terminal safety", () => {
  test("safeText escapes C0/C1 controls, DEL and bidi overrides; keeps newlines only when asked", () => {
    assert.equal(safeText("a\x1b[31mb"), "a\\x1b[31mb");
    assert.equal(safeText("bell\x07 cr\r tab\t nl\n"), "bell\\x07 cr\\r tab\\t nl\\n");
    assert.equal(safeText("line1\nline2\r", { keepNewlines: true }), "line1\nline2\\r");
    assert.equal(safeText("c1\x9bx del\x7f"), "c1\\x9bx del\\x7f");
    assert.equal(safeText("rtl\u202eabc"), "rtl\\u202eabc");
    assert.equal(safeText("plain ünïcode 模型"), "plain ünïcode 模型");
  });

  test("identify, import, list, show, search and errors print no raw control characters; JSON is exact", async () => {
    const t = tempDir();
    try {
      const lib = join(t.dir, "lib");
      const file = writeGgufModel(join(t.dir, `model${HOSTILE}.gguf`), `Name ${HOSTILE}`);
      const outputs: string[] = [];
      const run = async (args: string[]) => {
        const r = await runCli([...args, "--library", lib]);
        outputs.push(`${args[0]}:\n${r.stdout}${r.stderr}`);
        return r;
      };
      const ident = await runCli(["identify", file]);
      outputs.push(ident.stdout + ident.stderr);
      const imp = await run(["import", file, "--tag", `tag${HOSTILE}`]);
      assert.equal(imp.code, 0, imp.stderr);
      const listed = await runCliJson<{ models: { id: string; tags: string[] }[] }>(["list", "--json", "--library", lib]);
      const id = listed.json.models[0].id;
      assert.deepEqual(listed.json.models[0].tags, [`tag${HOSTILE}`], "JSON keeps the exact text");
      // Read-only after the import: run side by side.
      const [shown] = await Promise.all([
        runCliJson<{ metadata: { description: string | null; files: { name: string }[] } }>(["show", id, "--json", "--library", lib]),
        run(["list"]),
        run(["search", "name"]),
        run(["show", id]),
        run(["verify", id]),
        run(["identify", join(t.dir, `missing${HOSTILE}.gguf`)]), // an error naming the file
      ]);
      await run(["import", file]); // duplicate: names the source
      assert.equal(shown.json.metadata.files[0].name, `model${HOSTILE}.gguf`);
      for (const o of outputs) {
        assert.ok(!RAW_CONTROL.test(o), `raw control character in:\n${JSON.stringify(o)}`);
        assert.ok(!/^FAKE-LINE/m.test(o), `a newline from stored text started a line:\n${o}`);
      }
      assert.ok(outputs.some((o) => o.includes("\\x1b")), "escaped form shown");
    } finally {
      t.cleanup();
    }
  });
});
