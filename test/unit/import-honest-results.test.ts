// Issue 9 item 8 (import side): a full disk at the index write after the model is committed is reported as
// what happened (imported; the index catches up), and with --mode move the source then goes; --mode move
// --allow-duplicate of files already inside the library, and importing a folder that contains the library, are
// refused; the empty-file message is readable.
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { closeSync, existsSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ModelLibrary, importModels, importInPlace } from "../../src/index.js";
import { identify } from "../../src/identify/identify.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { tempDir, writeGgufModel } from "../helpers/library-fixtures.js";

/** Fills the filesystem of `dir` until `leaveBytes` remain free. */
function fillDisk(dir: string, leaveBytes: number): string {
  const filler = join(dir, ".filler");
  const fd = openSync(filler, "w");
  try {
    const chunk = Buffer.alloc(4096, 1);
    for (;;) {
      const st = statfsSync(dir);
      if (st.bavail * st.bsize <= leaveBytes) break;
      try {
        writeSync(fd, chunk);
      } catch {
        break;
      }
    }
  } finally {
    closeSync(fd);
  }
  return filler;
}

describe("import reports what happened", () => {
  test.after(() => closeHashWorkers());

  test("disk full at the index write: the committed model is 'imported' with a warning; move removes the source", async (t) => {
    const mnt = mkdtempSync(join(tmpdir(), "mlib-"));
    const src = tempDir();
    try {
      if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]).status !== 0) return t.skip("cannot mount a tmpfs here: SKIPPING");
      try {
        const root = join(mnt, "lib");
        const lib = await ModelLibrary.open(root);
        const file = writeGgufModel(join(src.dir, "tiny.gguf"));
        let filler: string | null = null;
        let results;
        try {
          results = await importModels(lib, [file], {
            mode: "move",
            onProgress: (p) => {
              // The files are staged: leave room for the lock and metadata.json, not for the index's pages.
              if (p.stage === "committing" && !filler) filler = fillDisk(mnt, 3 * 4096);
            },
          });
        } finally {
          lib.close();
        }
        const [r] = results;
        assert.equal(r.status, "imported", JSON.stringify(r));
        assert.ok(r.warnings.some((w) => /index/.test(w)), JSON.stringify(r.warnings));
        assert.ok(existsSync(join(r.path!, "tiny.gguf")), "committed on disk");
        assert.ok(!existsSync(file), "move: the source is gone (the stored copy is committed)");
        unlinkSync(filler!);
        const again = await ModelLibrary.open(root);
        try {
          assert.equal(again.get(r.modelId!)?.id, r.modelId, "the index caught up on open");
        } finally {
          again.close();
        }
      } finally {
        spawnSync("umount", [mnt]);
      }
    } finally {
      rmSync(mnt, { recursive: true, force: true });
      src.cleanup();
    }
  });

  test("--mode move --allow-duplicate on files inside the library, and a folder containing the library: refused", async () => {
    const t = tempDir();
    const lib = await ModelLibrary.open(join(t.dir, "lib"));
    try {
      const [first] = await importModels(lib, [writeGgufModel(join(t.dir, "src", "a.gguf"))]);
      assert.equal(first.status, "imported");
      const stored = join(first.path!, "a.gguf");
      const [r] = await importModels(lib, [stored], { mode: "move", allowDuplicate: true });
      assert.equal(r.status, "failed");
      assert.match(r.error!.message, /inside the library/);
      assert.ok(existsSync(stored), "the stored file is still in its model");
      const [byFolder] = await importModels(lib, [first.path!], { mode: "move", allowDuplicate: true });
      assert.equal(byFolder.status, "failed");
      const [parent] = await importModels(lib, [t.dir], { mode: "move", allowDuplicate: true });
      assert.equal(parent.status, "failed");
      assert.match(parent.error!.message, /contains the library/);
      assert.ok(existsSync(stored));
      assert.equal((await lib.getMetadata(first.modelId!)).files!.length, 1);
    } finally {
      lib.close();
      t.cleanup();
    }
  });

  test("an empty .gguf: the message shows its (empty) first bytes readably", async () => {
    const t = tempDir();
    try {
      const p = join(t.dir, "empty.gguf");
      writeFileSync(p, "");
      const e = await identify(p).then(() => null, (x: Error) => x);
      assert.ok(e);
      assert.ok(!e.message.includes('"", )'), e.message);
      assert.match(e.message, /empty/);
      const bin = join(t.dir, "empty.bin");
      writeFileSync(bin, "");
      assert.ok((await identify(bin)).warnings.some((w) => /empty \(0 bytes\)/.test(w)));
    } finally {
      t.cleanup();
    }
  });
});

describe("import in place reports what happened", () => {
  test.after(() => closeHashWorkers());

  test("disk full at the index write after metadata.json: created, with a warning; the index catches up on open", async (t) => {
    const mnt = mkdtempSync(join(tmpdir(), "mlib-"));
    try {
      if (spawnSync("mount", ["-t", "tmpfs", "-o", "size=4m", "tmpfs", mnt]).status !== 0) return t.skip("cannot mount a tmpfs here: SKIPPING");
      try {
        const root = join(mnt, "lib");
        const lib = await ModelLibrary.open(root);
        const modelDir = join(root, "llm", "llama", "orphan");
        writeGgufModel(join(modelDir, "orphan.gguf"));
        let filler: string | null = null;
        let r;
        try {
          r = await importInPlace(lib, { modelDir, officialName: "orphan" }, {
            onProgress: (e) => {
              // Every file hashed: leave room for the lock and metadata.json, not for the index's pages.
              if (e.phase === "hash" && e.done === e.total && !filler) filler = fillDisk(mnt, 3 * 4096);
            },
          });
        } finally {
          lib.close();
        }
        assert.ok(filler, "the disk was filled before the writes");
        assert.equal(r.created, true, JSON.stringify(r));
        assert.ok(r.warnings?.some((w) => /index could not be updated/.test(w)), JSON.stringify(r));
        assert.ok(existsSync(join(modelDir, "metadata.json")), "metadata.json written");
        unlinkSync(filler!);
        const again = await ModelLibrary.open(root);
        try {
          assert.equal(again.get(r.modelId)?.id, r.modelId, "the index caught up on open");
        } finally {
          again.close();
        }
      } finally {
        spawnSync("umount", [mnt]);
      }
    } finally {
      rmSync(mnt, { recursive: true, force: true });
    }
  });
});
