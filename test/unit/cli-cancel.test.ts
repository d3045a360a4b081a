// Ctrl-C and kill on the real `mlib`: SIGINT mid-import and mid-verify, SIGTERM mid-verify. The command stops,
// says "mlib: cancelled", exits 130 (SIGTERM: 143) and leaves nothing behind: no staging folder, no model.
// "Mid-way" is observed, not timed: the import's staging holds the file being copied, the verify has the model's
// file open (/proc/PID/fd). The model is 300 MiB (a real GGUF header, then a sparse tail: written at once).
import { test, describe } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, readdirSync, readlinkSync, statSync, truncateSync } from "node:fs";
import { join } from "node:path";
import { ModelLibrary, importModels } from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";
import { MLIB_ARGV, REPO_ROOT, startCli } from "../helpers/cli.js";
import { tempDir, writeGgufModel } from "../helpers/library-fixtures.js";
import { modelFolders, stagingLeft } from "../helpers/operations.js";
import { STAGING_DIR } from "../../src/store/layout.js";

const SIZE = 300 * 1024 * 1024;
const hasProc = existsSync("/proc/self/fd");
// util-linux script(1) runs a command on a pseudo-terminal: a real Ctrl-C (byte 0x03 typed into it), a real bar.
const hasScript = spawnSync("script", ["--version"]).status === 0;

async function waitFor(what: string, ready: () => boolean, timeoutMs = 20_000): Promise<void> {
  const until = Date.now() + timeoutMs;
  while (!ready()) {
    if (Date.now() > until) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

function stagedFiles(root: string): number {
  const staging = join(root, ...STAGING_DIR.split("/"));
  if (!existsSync(staging)) return 0;
  // (the staging folders only: each has a `<name>.lease` file beside it)
  return readdirSync(staging, { withFileTypes: true })
    .filter((d) => d.isDirectory())
    .reduce((n, d) => n + (existsSync(join(staging, d.name)) ? readdirSync(join(staging, d.name)).length : 0), 0);
}

function hasOpen(pid: number, file: string): boolean {
  try {
    return readdirSync(`/proc/${pid}/fd`).some((fd) => {
      try {
        return readlinkSync(`/proc/${pid}/fd/${fd}`) === file;
      } catch {
        return false;
      }
    });
  } catch {
    return false;
  }
}

function bigModel(dir: string): string {
  const file = writeGgufModel(join(dir, "big-model.gguf"), "Big Model", 7);
  truncateSync(file, SIZE);
  return file;
}

describe("mlib and signals", () => {
  test.after(() => closeHashWorkers());

  test("SIGINT mid-import: exit 130, 'cancelled', the staging removed, no model, the source intact", async () => {
    const t = tempDir("mlib-sigint-");
    try {
      const src = bigModel(join(t.dir, "src"));
      const lib = join(t.dir, "lib");
      const { child, result } = startCli(["import", src, "--library", lib]);
      await waitFor("the copy into staging", () => stagedFiles(lib) > 0);
      child.kill("SIGINT");
      const r = await result;
      assert.equal(r.code, 130, r.stderr);
      assert.match(r.stderr, /^mlib: cancelled$/m);
      assert.doesNotMatch(r.stdout, /imported/);
      assert.deepEqual(stagingLeft(lib), [], "the staging is gone when mlib exits, not at the next command");
      assert.deepEqual(modelFolders(lib), []);
      assert.equal(statSync(src).size, SIZE);
    } finally {
      t.cleanup();
    }
  });

  test("SIGINT and SIGTERM mid-verify: exit 130 / 143, 'cancelled', no verdict printed", { skip: hasProc ? false : "needs /proc" }, async () => {
    const t = tempDir("mlib-sigint-");
    try {
      const root = join(t.dir, "lib");
      const lib = await ModelLibrary.open(root);
      let stored: string;
      try {
        const { results } = await importModels(lib, { paths: [bigModel(join(t.dir, "src"))], mode: "hardlink" });
        stored = join(results[0].path!, "big-model.gguf");
      } finally {
        lib.close();
      }
      for (const [sig, code] of [["SIGINT", 130], ["SIGTERM", 143]] as const) {
        const { child, result } = startCli(["verify", "--library", root]);
        await waitFor("verify to read the model", () => hasOpen(child.pid!, stored));
        child.kill(sig);
        const r = await result;
        assert.equal(r.code, code, `${sig}: ${r.stderr}`);
        assert.match(r.stderr, /^mlib: cancelled$/m);
        assert.doesNotMatch(r.stdout, /OK|FAILED/);
      }
      assert.deepEqual(stagingLeft(root), []);
    } finally {
      t.cleanup();
    }
  });

  test("Ctrl-C on a terminal: the bar is stopped, cursor and line wrap restored, exit 130", { skip: hasScript ? false : "needs script(1)" }, async () => {
    const t = tempDir("mlib-sigint-");
    try {
      const src = bigModel(join(t.dir, "src"));
      const lib = join(t.dir, "lib");
      const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
      const mlib = [process.execPath, ...MLIB_ARGV, "import", src, "--library", lib].map(quote).join(" ");
      // script(1) runs the line with $SHELL; bash, because dash dies of the terminal's SIGINT (sent to the whole
      // foreground group) before its `echo` runs, while bash waits to see whether its child died of it
      const env = { ...process.env, SHELL: "/bin/bash" };
      const child = spawn("script", ["-qfec", `${mlib}; echo EXIT=$?`, "/dev/null"], { cwd: REPO_ROOT, env, stdio: ["pipe", "pipe", "pipe"] });
      let screen = "";
      child.stdout.setEncoding("utf8").on("data", (d: string) => (screen += d));
      const closed = new Promise<void>((resolve) => child.on("close", () => resolve()));
      try {
        await waitFor("the bar", () => screen.includes("importing"));
        await waitFor("the copy into staging", () => stagedFiles(lib) > 0);
        child.stdin.write("\x03");
        let timer: NodeJS.Timeout | undefined;
        const timeout = new Promise((_, reject) => (timer = setTimeout(() => reject(new Error(`no exit; screen: ${JSON.stringify(screen)}`)), 20_000)));
        await Promise.race([closed, timeout]).finally(() => clearTimeout(timer));
      } finally {
        child.kill("SIGKILL");
      }
      assert.match(screen, /mlib: cancelled\r?\n/);
      assert.match(screen, /EXIT=130/);
      const hidden = screen.lastIndexOf("\x1b[?25l");
      const unwrapped = screen.lastIndexOf("\x1b[?7l");
      assert.ok(hidden >= 0 && unwrapped >= 0, "the bar hid the cursor and turned line wrap off");
      const end = screen.indexOf("mlib: cancelled");
      assert.ok(screen.lastIndexOf("\x1b[?25h", end) > hidden, "cursor shown again before the message");
      assert.ok(screen.lastIndexOf("\x1b[?7h", end) > unwrapped, "line wrap on again before the message");
      assert.deepEqual(stagingLeft(lib), []);
      assert.deepEqual(modelFolders(lib), []);
    } finally {
      t.cleanup();
    }
  });
});
