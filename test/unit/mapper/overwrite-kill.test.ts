// kill -9 during `map apply --on-conflict overwrite`, after the user's file was moved aside and before our link
// took its name (a copy of a big file takes minutes): the journal says where the user's file went, and
// `links repair` puts it back at its name — the app finds the user's file again, as before the apply.
import { test } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import * as fs from "node:fs";
import { join } from "node:path";
import { checkLinks, repairLinks } from "../../../src/mapper/index.js";
import { LinkRegistry } from "../../../src/mapper/registry.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { tinyLibrary } from "../../helpers/mapper-fixtures.js";
import { nodeArgvFor } from "../../helpers/cli.js";

const CHILD = new URL("../../helpers/mapper-overwrite-child.ts", import.meta.url).pathname;
const FILE = "tinyllama.Q4_K_M.gguf";

async function until(what: string, ok: () => boolean, ms = 15_000): Promise<void> {
  const end = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

test("kill -9 while overwriting: links repair puts the user's file, moved aside, back at its name", async (t) => {
  const { dir, cleanup } = tempDir("mlib-owkill-");
  const lib = await tinyLibrary(join(dir, "lib"));
  try {
    const src = join(lib.modelDir("llm/llama/tiny_llama"), FILE);
    fs.rmSync(src);
    if (spawnSync("mkfifo", [src]).status !== 0) return t.skip("mkfifo not available: skipped");
    const root = join(dir, "llama", "models");
    fs.mkdirSync(root, { recursive: true });
    fs.writeFileSync(join(root, FILE), "the user's own file");
    const child = spawn(process.execPath, [...nodeArgvFor(CHILD), lib.root, "llamacpp", root], { stdio: ["ignore", "ignore", "inherit"] });
    const closed = new Promise((r) => child.on("close", r));
    try {
      await until("the user's file to be moved aside", () => fs.readdirSync(root).some((n) => n.startsWith(`${FILE}.mlib-replaced-`)));
      await new Promise((r) => setTimeout(r, 100)); // the copy is blocked on the FIFO
    } finally {
      child.kill("SIGKILL");
      await closed;
    }
    assert.equal(fs.existsSync(join(root, FILE)), false, "killed after the move aside, before the link");

    const check = await checkLinks(lib);
    const pending = check.links.find((l) => l.entry.target === join(root, FILE))!;
    assert.equal(pending.status, "missing");
    assert.match(String(pending.entry.replaced), /\.mlib-replaced-/, "the journal says where the user's file went");
    assert.match(pending.detail!, /your file moved aside is at .*links repair puts it back/);

    const r = await repairLinks(lib);
    const a = r.actions.find((x) => x.target === join(root, FILE))!;
    assert.match(a.detail!, /put back/);
    assert.equal(fs.readFileSync(join(root, FILE), "utf8"), "the user's own file", "the user's file is at its name again");
    assert.deepEqual(fs.readdirSync(root).filter((n) => n.includes(FILE)), [FILE], "no aside copy, no partial left");
    assert.equal(LinkRegistry.load(lib.root).forModel("llm/llama/tiny_llama").length, 0);
  } finally {
    lib.close();
    cleanup();
  }
});
