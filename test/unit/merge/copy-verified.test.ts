// copyVerified: a model folder copied whole (sub-folders, hidden files) through staging and checked against the
// recorded hash; a link in it is refused and nothing is put in place.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { existsSync, mkdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { ModelLibraryError } from "../../../src/core/errors.js";
import { copyVerified } from "../../../src/merge/copy-verified.js";
import { tempDir } from "../../helpers/library-fixtures.js";

const sha = (s: string) => createHash("sha256").update(s).digest("hex");

test("copyVerified copies every file and sub-folder, hidden ones too, and checks the recorded hash", async () => {
  const t = tempDir("mlib-copyv-");
  try {
    const src = join(t.dir, "src");
    mkdirSync(join(src, "sub", "deeper"), { recursive: true });
    mkdirSync(join(src, "empty"));
    writeFileSync(join(src, "model.gguf"), "weights");
    writeFileSync(join(src, ".hidden"), "h");
    writeFileSync(join(src, "sub", "deeper", "tok.json"), "{}");
    const bytes: number[] = [];
    const n = await copyVerified(src, join(t.dir, "dest", "m"), join(t.dir, "staging"), [{ name: "model.gguf", size: 7, sha256: sha("weights") }], undefined, (b) => bytes.push(b));
    assert.equal(n, "weights".length + 1 + 2);
    assert.equal(bytes.at(-1), n);
    for (const f of ["model.gguf", ".hidden", "sub/deeper/tok.json"]) assert.equal(readFileSync(join(t.dir, "dest", "m", f), "utf8"), readFileSync(join(src, f), "utf8"));
    assert.ok(existsSync(join(t.dir, "dest", "m", "empty")), "an empty sub-folder is copied too");

    await assert.rejects(
      copyVerified(src, join(t.dir, "dest", "bad"), join(t.dir, "staging2"), [{ name: "model.gguf", size: 7, sha256: sha("other") }], undefined, () => undefined),
      (e: ModelLibraryError) => e.code === "E_HASH_MISMATCH",
    );
    symlinkSync(join(src, "model.gguf"), join(src, "sub", "link.gguf"));
    await assert.rejects(
      copyVerified(src, join(t.dir, "dest", "linked"), join(t.dir, "staging3"), [], undefined, () => undefined),
      (e: ModelLibraryError) => e.code === "E_UNSUPPORTED" && e.message.includes(join(src, "sub", "link.gguf")),
    );
    assert.ok(!existsSync(join(t.dir, "dest", "bad")) && !existsSync(join(t.dir, "dest", "linked")), "nothing put in place");
  } finally {
    t.cleanup();
  }
});
