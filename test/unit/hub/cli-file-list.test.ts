// `mlib download --file`: still a comma list (users' scripts rely on it), repeatable, and `\,` is a comma inside a
// name, so a Hub file whose name holds a comma can be chosen (every comma used to split). Run as a user runs it.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { splitFileList } from "../../../src/cli/file-list.js";
import { startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { runCli, runCliJson } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/library-fixtures.js";

test("splitFileList: unescaped commas split, \\, is a comma, \\\\ a backslash; trimmed, empty pieces dropped", () => {
  assert.deepEqual(splitFileList("a.gguf,b.gguf"), ["a.gguf", "b.gguf"]);
  assert.deepEqual(splitFileList("weights\\,v2.gguf"), ["weights,v2.gguf"]);
  assert.deepEqual(splitFileList("x\\,y.gguf,README.md"), ["x,y.gguf", "README.md"]);
  assert.deepEqual(splitFileList("a\\\\,b"), ["a\\", "b"]);
  assert.deepEqual(splitFileList(" a , b ,"), ["a", "b"]);
  assert.deepEqual(splitFileList("dir\\file"), ["dir\\file"], "a lone backslash is kept (the Hub path check refuses it later)");
});

let hub: FakeHub;
let tmp: ReturnType<typeof tempDir>;
let env: Record<string, string | undefined>;
before(async () => {
  hub = await startFakeHub({
    repos: [
      {
        id: "acme/commas-GGUF",
        files: [
          { path: "weights,v2-Q4_K_M.gguf", content: buildTinyLlamaGguf({ name: "Comma", fileType: 15, contextLength: 2048, seed: 1 }) },
          { path: "README.md", content: Buffer.from("# card") },
          { path: "notes.txt", content: Buffer.from("notes") },
        ],
      },
    ],
  });
  tmp = tempDir("mlib-filelist-");
  env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(tmp.dir, "hf"), MLIB_CACHE_DIR: join(tmp.dir, "cache"), HF_HUB_OFFLINE: undefined };
});
after(async () => {
  await hub.close();
  tmp.cleanup();
});

test("mlib download --file 'weights\\,v2-Q4_K_M.gguf' --file README.md,notes.txt: the comma name is fetched, the list still splits", async () => {
  const lib = join(tmp.dir, "lib1");
  const r = await runCliJson<{ modelId: string; files: { path: string }[] }>(
    ["download", "acme/commas-GGUF", "--file", "weights\\,v2-Q4_K_M.gguf", "--file", "README.md,notes.txt", "--library", lib, "--json"],
    { env },
  );
  assert.equal(r.code, 0, r.stderr);
  assert.deepEqual(r.json.files.map((f) => f.path).sort(), ["README.md", "notes.txt", "weights,v2-Q4_K_M.gguf"]);
  assert.ok(existsSync(join(lib, ...r.json.modelId.split("/"), "weights,v2-Q4_K_M.gguf")));
});

test("an unescaped comma name: not found, and the message says how to write it", async () => {
  const r = await runCli(["download", "acme/commas-GGUF", "--file", "weights,v2-Q4_K_M.gguf", "--library", join(tmp.dir, "lib2")], { env });
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /no file "weights" in the repo; did you mean "weights,v2-Q4_K_M\.gguf"\?/);
  assert.ok(r.stderr.includes("--file 'weights\\,v2-Q4_K_M.gguf'"), r.stderr);
});

test("--help says how to write a comma in a name", async () => {
  const r = await runCli(["download", "--help"]);
  assert.equal(r.code, 0);
  assert.ok(r.stdout.includes("--file 'weights\\,v2.gguf'"), r.stdout);
  assert.match(r.stdout, /separate several with\s+commas/);
});

test("an empty --file (a script's empty variable) is a usage error, not a download of the whole repo", async () => {
  const lib = join(tmp.dir, "lib3");
  hub.requests.length = 0;
  const r = await runCli(["download", "acme/commas-GGUF", "--file", "", "--library", lib], { env });
  assert.equal(r.code, 2, r.stderr);
  assert.match(r.stderr, /--file <path>' argument '' is invalid/);
  assert.equal(hub.requests.length, 0, "nothing asked of the Hub");
});
