// `mlib download` on a terminal (script(1) gives it a pseudo-terminal) shows two progress lines: the file being
// fetched, with its own bytes, speed and ETA, and the whole download; piped or with --json it draws nothing.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import { join } from "node:path";
import { startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { runCli, MLIB_ARGV, REPO_ROOT } from "../../helpers/cli.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { buildTinyLlamaGguf } from "../../../src/demo/gguf-writer.js";
import { formatBytes } from "../../../src/cli/output.js";
import { RateMeter } from "../../../src/cli/download-progress.js";

const MiB = 1024 * 1024;
const hasScript = spawnSync("script", ["--version"]).status === 0;
const shard = (seed: number) => Buffer.concat([buildTinyLlamaGguf({ name: "Split", fileType: 15, contextLength: 2048, seed }), randomBytes(6 * MiB)]);
const shards = [shard(1), shard(2)];
const names = ["split-Q4_K_M-00001-of-00002.gguf", "split-Q4_K_M-00002-of-00002.gguf"];

let hub: FakeHub;
let tmp: ReturnType<typeof tempDir>;
let env: Record<string, string | undefined>;

before(async () => {
  hub = await startFakeHub({ repos: [{ id: "acme/split-GGUF", files: names.map((path, i) => ({ path, content: shards[i] })) }] });
  tmp = tempDir("mlib-dlprogress-");
  env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: join(tmp.dir, "hf"), MLIB_CACHE_DIR: join(tmp.dir, "cache"), HF_HUB_OFFLINE: undefined };
});
after(async () => {
  await hub.close();
  tmp.cleanup();
});

test("on a terminal: a line for the file (its bytes, speed, ETA) and a line for the total", { skip: hasScript ? false : "needs script(1)" }, async () => {
  // the second shard stalls half-way, so a frame is drawn while it is the file in progress
  // (the CDN's URL names the blob by its sha256)
  hub.faults.push({ kind: "stall", match: createHash("sha256").update(shards[1]).digest("hex"), afterBytes: 64 * 1024, stallMs: 1500, times: 1 });
  const quote = (a: string) => `'${a.replace(/'/g, "'\\''")}'`;
  const lib = join(tmp.dir, "lib-tty");
  const line = [process.execPath, ...MLIB_ARGV, "download", "acme/split-GGUF", "--library", lib].map(quote).join(" ");
  const child = spawn("script", ["-qfec", line, "/dev/null"], { cwd: REPO_ROOT, env: { ...process.env, ...env, SHELL: "/bin/bash" }, stdio: ["pipe", "pipe", "pipe"] });
  let screen = "";
  child.stdout.setEncoding("utf8").on("data", (d: string) => (screen += d));
  const code = await new Promise<number | null>((resolve) => child.on("close", resolve));
  assert.equal(code, 0, screen);
  assert.equal(hub.faults.length, 0, "the stall was served");
  const total = formatBytes(shards[0].length + shards[1].length);
  const second = formatBytes(shards[1].length);
  // frames are redrawn in place: split on the cursor moves and look at the lines drawn
  // eslint-disable-next-line no-control-regex
  const drawn = screen.split(/\x1b\[[0-9;?]*[A-Za-z]|\r|\n/).map((s) => s.trim()).filter(Boolean);
  const fileLine = drawn.find((s) => s.endsWith(names[1]) && s.includes(`/${second} `) && /\d+% /.test(s) && /\/s ETA (-|\d+s|\d+m\d\ds) /.test(s));
  assert.ok(fileLine, `a line for the second shard with its own size; drawn: ${JSON.stringify(drawn.slice(0, 40))}`);
  const totalLine = drawn.find((s) => s.endsWith("total") && s.includes(`/${total} `) && /\/s ETA (-|\d+s|\d+m\d\ds) /.test(s));
  assert.ok(totalLine, `a line for the total; drawn: ${JSON.stringify(drawn.slice(0, 40))}`);
  // the result printed after the lines are gone: both files, verified
  for (const n of names) assert.match(screen, new RegExp(`downloaded +${n.replace(/[.]/g, "\\.")}`));
});

test("piped or --json: no control characters, only the result", async () => {
  const r = await runCli(["download", "acme/split-GGUF", "--library", join(tmp.dir, "lib-pipe")], { env });
  assert.equal(r.code, 0, r.stderr);
  assert.ok(!(r.stderr + r.stdout).includes("\x1b"), "no escape sequence");
  assert.match(r.stdout, /split-Q4_K_M-00002-of-00002\.gguf/);
});

test("RateMeter: speed over the last seconds, a resume's bytes on disk do not count, ETA in s or m:ss", () => {
  const m = new RateMeter();
  m.add(0, 500 * MiB); // resumed: half the file already there
  assert.equal(m.eta(10), "-");
  m.add(1000, 510 * MiB);
  assert.equal(m.rate(), 10 * MiB);
  assert.equal(m.eta(100 * MiB), "10s");
  assert.equal(m.eta(1000 * MiB), "1m40s");
  m.add(7000, 570 * MiB); // the oldest sample leaves the 5 s window
  assert.equal(m.rate(), 10 * MiB);
  m.reset();
  assert.equal(m.rate(), 0);
});
