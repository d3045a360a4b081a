import { test, describe } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import {
  backupPathOf,
  readJson,
  readJsonSync,
  restoreBackup,
  writeJsonAtomic,
  writeJsonAtomicSync,
} from "../../src/core/atomic-json.js";
import { ModelLibraryError } from "../../src/core/errors.js";
import { EVAL_LOADER, importPathFor } from "../helpers/cli.js";

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), "mlib-"));
}

const ATOMIC_MODULE = importPathFor(path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../src/core/atomic-json.ts"));

describe("writeJsonAtomic / readJson", () => {
  test("writes pretty JSON with a trailing newline and reads it back", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "metadata.json");
      await writeJsonAtomic(file, { a: 1, b: [null, "x"] });
      assert.equal(fs.readFileSync(file, "utf8"), '{\n  "a": 1,\n  "b": [\n    null,\n    "x"\n  ]\n}\n');
      assert.deepEqual(await readJson(file), { a: 1, b: [null, "x"] });
      assert.deepEqual(readJsonSync(file), { a: 1, b: [null, "x"] });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a missing file reads as null", async () => {
    const dir = tempDir();
    try {
      assert.equal(await readJson(path.join(dir, "nope.json")), null);
      assert.equal(readJsonSync(path.join(dir, "nope.json")), null);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("creates missing parent directories", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "a", "b", "c", "x.json");
      await writeJsonAtomic(file, [1]);
      writeJsonAtomicSync(path.join(dir, "d", "e", "y.json"), [2]);
      assert.deepEqual(await readJson(file), [1]);
      assert.deepEqual(await readJson(path.join(dir, "d", "e", "y.json")), [2]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("backup keeps the previous version as <name>.bak; no temp files remain", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "metadata.json");
      await writeJsonAtomic(file, { v: 1 }, { backup: true });
      assert.equal(fs.existsSync(backupPathOf(file)), false, "first write has nothing to back up");
      await writeJsonAtomic(file, { v: 2 }, { backup: true });
      assert.deepEqual(JSON.parse(fs.readFileSync(`${file}.bak`, "utf8")), { v: 1 });
      writeJsonAtomicSync(file, { v: 3 }, { backup: true });
      assert.deepEqual(JSON.parse(fs.readFileSync(`${file}.bak`, "utf8")), { v: 2 });
      assert.deepEqual(await readJson(file), { v: 3 });
      // The backup is a separate file: rewriting the target must not change it.
      await writeJsonAtomic(file, { v: 4 });
      assert.deepEqual(JSON.parse(fs.readFileSync(`${file}.bak`, "utf8")), { v: 2 });
      assert.deepEqual(fs.readdirSync(dir).sort(), ["metadata.json", "metadata.json.bak"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("without backup no .bak is written", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "x.json");
      await writeJsonAtomic(file, 1);
      await writeJsonAtomic(file, 2);
      assert.deepEqual(fs.readdirSync(dir), ["x.json"]);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a value that is not JSON is refused and nothing is written", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "x.json");
      await assert.rejects(writeJsonAtomic(file, undefined), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_INVALID");
      assert.deepEqual(fs.readdirSync(dir), []);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("a failed write throws E_IO naming the file, keeps the old content and leaves no temp file", async () => {
    if (process.getuid?.() === 0) {
      // root ignores directory permissions: make the rename fail by putting a directory where the file goes
      const dir = tempDir();
      try {
        const file = path.join(dir, "x.json");
        fs.mkdirSync(file);
        fs.writeFileSync(path.join(file, "keep"), "k");
        await assert.rejects(writeJsonAtomic(file, { v: 2 }), (e: unknown) => {
          assert.ok(e instanceof ModelLibraryError);
          assert.equal(e.code, "E_IO");
          assert.match(e.message, /x\.json/);
          return true;
        });
        assert.deepEqual(fs.readdirSync(dir), ["x.json"]);
        assert.equal(fs.readFileSync(path.join(file, "keep"), "utf8"), "k");
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
      return;
    }
    const dir = tempDir();
    try {
      const file = path.join(dir, "x.json");
      await writeJsonAtomic(file, { v: 1 });
      fs.chmodSync(dir, 0o500);
      await assert.rejects(writeJsonAtomic(file, { v: 2 }), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_IO" && e.message.includes(file));
      fs.chmodSync(dir, 0o700);
      assert.deepEqual(await readJson(file), { v: 1 });
      assert.deepEqual(fs.readdirSync(dir), ["x.json"]);
    } finally {
      fs.chmodSync(dir, 0o700);
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("corrupt files", () => {
  test("invalid JSON → E_CORRUPT naming the file, and pointing at a usable .bak", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "metadata.json");
      await writeJsonAtomic(file, { v: 1 }, { backup: true });
      await writeJsonAtomic(file, { v: 2 }, { backup: true });
      fs.writeFileSync(file, '{"v": 2,'); // torn by something outside our control
      await assert.rejects(readJson(file), (e: unknown) => {
        assert.ok(e instanceof ModelLibraryError);
        assert.equal(e.code, "E_CORRUPT");
        assert.equal(e.path, file);
        assert.ok(e.message.startsWith(file), e.message);
        assert.ok(e.message.includes(`a backup is at ${file}.bak`), e.message);
        return true;
      });
      assert.throws(() => readJsonSync(file), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_CORRUPT");
      assert.deepEqual(await restoreBackup(file), { v: 1 });
      assert.deepEqual(await readJson(file), { v: 1 });
      assert.ok(fs.existsSync(`${file}.bak`), "the backup stays after a restore");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  test("invalid JSON without a usable backup does not mention one", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "x.json");
      fs.writeFileSync(file, "not json");
      await assert.rejects(readJson(file), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_CORRUPT" && !e.message.includes("backup"));
      fs.writeFileSync(`${file}.bak`, "{broken");
      await assert.rejects(readJson(file), (e: unknown) => e instanceof ModelLibraryError && !e.message.includes("backup"));
      await assert.rejects(restoreBackup(file), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_CORRUPT");
      fs.rmSync(`${file}.bak`);
      await assert.rejects(restoreBackup(file), (e: unknown) => e instanceof ModelLibraryError && e.code === "E_NOT_FOUND");
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("crash safety", () => {
  test("kill -9 during a loop of writes: the file always parses and no reader sees a torn file", async () => {
    const dir = tempDir();
    try {
      const file = path.join(dir, "metadata.json");
      await writeJsonAtomic(file, { n: -2, pad: "" }, { backup: true });
      await writeJsonAtomic(file, { n: -1, pad: "" }, { backup: true }); // so a .bak exists from the start
      // A big value makes each write take long enough for kills to land mid-write.
      const script =
        `import { writeJsonAtomic } from ${JSON.stringify(ATOMIC_MODULE)};\n` +
        `const pad = "x".repeat(200000);\n` +
        `process.stdout.write("ready\\n");\n` +
        `for (let n = 0; ; n++) await writeJsonAtomic(${JSON.stringify(file)}, { n, pad }, { backup: true });\n`;
      for (let round = 0; round < 6; round++) {
        const child = spawn(process.execPath, [...EVAL_LOADER, "--input-type=module", "-e", script], { stdio: ["ignore", "pipe", "inherit"] });
        await new Promise<void>((resolve) => child.stdout.once("data", () => resolve()));
        // Read concurrently while the child writes: every read must parse.
        const until = Date.now() + 60 + round * 20;
        let reads = 0;
        do {
          const v = JSON.parse(fs.readFileSync(file, "utf8")) as { n: number };
          assert.equal(typeof v.n, "number");
          reads++;
        } while (Date.now() < until);
        child.kill("SIGKILL");
        await new Promise((r) => child.once("exit", r));
        assert.ok(reads > 0);
        const after = (await readJson(file)) as { n: number };
        assert.equal(typeof after.n, "number");
        const bak = JSON.parse(fs.readFileSync(`${file}.bak`, "utf8")) as { n: number };
        assert.equal(typeof bak.n, "number");
      }
      // Temp files of killed writers may remain (they are dot-files, never read as the target).
      for (const name of fs.readdirSync(dir)) {
        assert.ok(name === "metadata.json" || name === "metadata.json.bak" || /^\.metadata\.json(\.bak)?\.\d+\.[0-9a-f]+\.tmp$/.test(name), name);
      }
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

test("compact: one line without indentation, read back the same; the default stays indented", () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, "reg.json");
    const data = { by_target: { "/a/b": { pending: true, n: 1 } }, by_model: { m: ["/a/b"] } };
    writeJsonAtomicSync(file, data, { compact: true });
    const text = fs.readFileSync(file, "utf8");
    assert.equal(text, `${JSON.stringify(data)}\n`);
    assert.deepEqual(readJsonSync(file), data);
    writeJsonAtomicSync(file, data);
    assert.equal(fs.readFileSync(file, "utf8"), `${JSON.stringify(data, null, 2)}\n`);
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});

test("durable: false replaces the file atomically all the same (whole content, no temp file left), async and sync", async () => {
  const dir = tempDir();
  try {
    const file = path.join(dir, "rec.json");
    writeJsonAtomicSync(file, { n: 1 }, { durable: false });
    assert.deepEqual(readJsonSync(file), { n: 1 });
    await writeJsonAtomic(file, { n: 2 }, { durable: false });
    assert.deepEqual(await readJson(file), { n: 2 });
    for (let n = 3; n < 50; n++) writeJsonAtomicSync(file, { n, pad: "x".repeat(n * 100) }, { durable: false });
    assert.equal((readJsonSync(file) as { n: number }).n, 49);
    assert.deepEqual(fs.readdirSync(dir), ["rec.json"], "no temp file remains");
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
