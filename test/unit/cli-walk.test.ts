// What a new user's walk through the README and every command found (the real CLI in child processes):
// `mlib rm` of a linked model printed its list of links as one line with `\n` in it; `mlib doctor` reported a
// file whose mtime alone moved for ever (verify said OK, --fix could not clear it); the doctor printed
// "changed 216.839111328125 ms ago"; a download's speed under 1 KiB/s printed "467.5501856680542 B/s";
// `mlib demo --help` said its --library defaults to $MODEL_LIBRARY_HOME (the demo never uses that library); a
// mistyped --library made a new library in most commands; `mlib hub info` of a repo naming its quants in lower case
// (Qwen's: `qwen2.5-7b-instruct-q4_k_m.gguf`, the README's own example) showed one option holding every quant.
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { runCli, runCliJson, startCli } from "../helpers/cli.js";
import { tempDir, writeGgufModel, writeKohyaLora } from "../helpers/library-fixtures.js";
import { formatBytes } from "../../src/cli/output.js";
import { buildTinyLlamaGguf } from "../../src/demo/gguf-writer.js";
import { startFakeHub } from "../helpers/fake-hub.js";

interface ImportJson {
  results: { status: string; modelId: string | null }[];
}
interface DoctorJson {
  problems: { kind: string; path: string; remedy: string }[];
  fixed: { kind: string; did: string }[];
  fixErrors: { kind: string; path: string; error: string }[];
  fixable: number;
}

test("mlib rm of a linked model names each link on its own line, and keeps the model", async () => {
  const t = tempDir("mlib-walk-");
  try {
    const lib = path.join(t.dir, "lib");
    const appModels = path.join(t.dir, "ComfyUI", "models");
    fs.mkdirSync(appModels, { recursive: true });
    const imp = await runCliJson<ImportJson>(["import", writeKohyaLora(path.join(t.dir, "style.safetensors")), "--library", lib, "--json"]);
    assert.equal(imp.code, 0, imp.stderr);
    const id = imp.json.results[0].modelId!;
    const apply = await runCli(["map", "apply", "comfyui", "--root", appModels, "--library", lib]);
    assert.equal(apply.code, 0, apply.stderr);

    const rm = await runCli(["rm", id, "--yes", "--library", lib]);
    assert.equal(rm.code, 1, rm.stderr);
    assert.ok(!rm.stderr.includes("\\n"), `no escaped line breaks: ${rm.stderr}`);
    const lines = rm.stderr.trimEnd().split("\n");
    assert.equal(lines[0], `mlib: model ${id} is linked into apps; not deleted. Its links:`);
    assert.match(lines[1], /^ {2}\/.*ComfyUI\/models\/loras\/style\.safetensors \(comfyui, symlink\)$/);
    assert.match(lines[2], /--cascade/);
    assert.ok(fs.existsSync(path.join(lib, id, "metadata.json")), "the model stays");
  } finally {
    t.cleanup();
  }
});

test("mlib doctor --fix clears a file whose mtime alone moved (same SHA-256), and refuses one whose bytes changed", async () => {
  const t = tempDir("mlib-walk-");
  try {
    const lib = path.join(t.dir, "lib");
    const imp = await runCliJson<ImportJson>([
      "import", writeGgufModel(path.join(t.dir, "a.gguf"), "Touched A", 1), writeGgufModel(path.join(t.dir, "b.gguf"), "Changed B", 2),
      "--library", lib, "--json",
    ]);
    assert.equal(imp.code, 0, imp.stderr);
    const [touched, changed] = imp.json.results.map((r) => path.join(lib, r.modelId!));
    const fileOf = (dir: string) => path.join(dir, fs.readdirSync(dir).find((n) => n.endsWith(".gguf"))!);
    const later = new Date(Date.now() + 60_000);
    fs.utimesSync(fileOf(touched), later, later); // a touch: same bytes
    const bytes = fs.readFileSync(fileOf(changed));
    bytes[bytes.length - 1] ^= 0xff; // same size, other bytes
    fs.writeFileSync(fileOf(changed), bytes);
    fs.utimesSync(fileOf(changed), later, later);

    const before = await runCliJson<DoctorJson>(["doctor", "--library", lib, "--json"]);
    assert.equal(before.code, 1);
    assert.deepEqual(before.json.problems.map((p) => p.kind), ["file-changed", "file-changed"]);
    assert.equal(before.json.fixable, 2);
    assert.match(before.json.problems[0].remedy, /mlib doctor --fix/);

    const fixed = await runCliJson<DoctorJson>(["doctor", "--fix", "--library", lib, "--json"]);
    assert.equal(fixed.code, 1, "the changed file is still a problem");
    assert.equal(fixed.json.fixed.length, 1);
    assert.match(fixed.json.fixed[0].did, /recorded the new mtime of .*same SHA-256/);
    assert.equal(fixed.json.fixErrors.length, 1);
    assert.match(fixed.json.fixErrors[0].error, /content changed since it was hashed/);
    assert.deepEqual(fixed.json.problems.map((p) => p.path), [fileOf(changed)]);

    const meta = JSON.parse(fs.readFileSync(path.join(touched, "metadata.json"), "utf8")) as { files: { mtime: number }[] };
    assert.equal(meta.files[0].mtime, fs.statSync(fileOf(touched)).mtimeMs);
    const verify = await runCli(["verify", "--library", lib]);
    assert.equal(verify.code, 1, "verify still reports the changed bytes");
    assert.match(verify.stdout, /^OK +llm\/llama\/a /m);
  } finally {
    t.cleanup();
  }
});

test("mlib doctor says how long ago a folder still being written changed in whole milliseconds", async () => {
  const t = tempDir("mlib-walk-");
  try {
    const lib = path.join(t.dir, "lib");
    assert.equal((await runCli(["init", "--library", lib])).code, 0);
    writeGgufModel(path.join(lib, "llm", "llama", "dropped", "dropped.gguf"), "Dropped", 3); // just written
    const r = await runCli(["doctor", "--library", lib]);
    assert.equal(r.code, 1, r.stderr);
    assert.match(r.stdout, /still being written \(changed \d+ ms ago\)/);
  } finally {
    t.cleanup();
  }
});

test("byte counts and rates print whole bytes below 1 KiB", () => {
  assert.equal(formatBytes(467.5501856680542), "468 B");
  assert.equal(formatBytes(0.4), "0 B");
  assert.equal(formatBytes(1023.7), "1 KiB");
  assert.equal(formatBytes(96), "96 B");
});

test("mlib demo --help says what its --library does (never the default library)", async () => {
  const r = await runCli(["demo", "--help"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /--library <dir> +put the sample models into this library/);
  assert.doesNotMatch(r.stdout, /MODEL_LIBRARY_HOME/);
});

test("a mistyped --library is refused by every command that works on an existing library, and nothing is created", async () => {
  const t = tempDir("mlib-walk-");
  try {
    const typo = path.join(t.dir, "libary");
    const app = path.join(t.dir, "ComfyUI", "models");
    const commands = [
      ["rm", "llm/llama/x", "--yes"], ["reindex"], ["redetect"], ["lookup"], ["links"], ["links", "check"], ["links", "repair"],
      ["map", "preview", "comfyui", "--root", app], ["map", "apply", "comfyui", "--root", app], ["unlink", "--app", "comfyui", "--root", app],
      ["doctor"], ["doctor", "--fix"], ["adopt"], ["watch"],
    ];
    for (const args of commands) {
      const r = await runCli([...args, "--library", typo], { timeoutMs: 15_000 });
      assert.equal(r.code, 1, `mlib ${args.join(" ")}: ${r.stdout}${r.stderr}`);
      assert.equal(r.stderr, `mlib: no library at ${typo} (create one with mlib init or mlib import)\n`, `mlib ${args.join(" ")}`);
      assert.equal(fs.existsSync(typo), false, `mlib ${args.join(" ")} created ${typo}`);
    }
    // The group's own options: `mlib map --library DIR preview ...` is the same library as after the subcommand.
    const grouped = await runCli(["map", "--library", typo, "--json", "preview", "comfyui", "--root", app]);
    assert.equal(grouped.code, 1, grouped.stderr);
    assert.match(grouped.stderr, /no library at/);
    // A folder that exists but holds only model files (no metadata.json yet) is still adopted.
    writeGgufModel(path.join(typo, "llm", "llama", "raw", "raw.gguf"), "Raw", 4);
    fs.utimesSync(path.join(typo, "llm", "llama", "raw", "raw.gguf"), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const adopt = await runCli(["adopt", "--library", typo]);
    assert.equal(adopt.code, 0, adopt.stderr);
    assert.match(adopt.stdout, /adopted +llm\/llama\/raw/);
  } finally {
    t.cleanup();
  }
});

test("mlib hub info / search show one download option per quant when the repo names them in lower case", async () => {
  const t = tempDir("mlib-walk-");
  const gguf = (seed: number) => buildTinyLlamaGguf({ name: "Qwen2.5 7B Instruct", fileType: 15, contextLength: 4096, seed });
  const hub = await startFakeHub({
    repos: [{
      id: "Qwen/Qwen2.5-7B-Instruct-GGUF",
      tags: ["gguf"],
      pipeline_tag: "text-generation",
      files: [
        { path: "qwen2.5-7b-instruct-q4_k_m-00001-of-00002.gguf", content: gguf(1) },
        { path: "qwen2.5-7b-instruct-q4_k_m-00002-of-00002.gguf", content: gguf(2) },
        { path: "qwen2.5-7b-instruct-q5_k_m.gguf", content: gguf(3) },
        { path: "qwen2.5-7b-instruct-iq4_xs.gguf", content: gguf(4) },
      ],
    }],
  });
  try {
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: path.join(t.dir, "hf"), MLIB_CACHE_DIR: path.join(t.dir, "cache"), HF_HUB_OFFLINE: undefined };
    const info = await runCliJson<{ model: { downloadOptions: { quant: string; files: string[] }[] } }>(["hub", "info", "Qwen/Qwen2.5-7B-Instruct-GGUF", "--json"], { env });
    assert.equal(info.code, 0, info.stderr);
    assert.deepEqual(info.json.model.downloadOptions.map((o) => [o.quant, o.files.length]), [["IQ4_XS", 1], ["Q4_K_M", 2], ["Q5_K_M", 1]]);
    // --json given on the group, as `mlib links --json check` takes it, is the same as after the subcommand.
    const grouped = await runCliJson<{ model: { downloadOptions: unknown[] } }>(["hub", "--json", "info", "Qwen/Qwen2.5-7B-Instruct-GGUF"], { env });
    assert.equal(grouped.code, 0, grouped.stderr);
    assert.equal(grouped.json.model.downloadOptions.length, 3);
    const search = await runCli(["hub", "search", "qwen2.5"], { env });
    assert.equal(search.code, 0, search.stderr);
    assert.match(search.stdout, /IQ4_XS [\d.]+ KiB, Q4_K_M [\d.]+ KiB, Q5_K_M/);
  } finally {
    await hub.close();
    t.cleanup();
  }
});

test("mlib downloads resume --all --json prints one JSON document for several downloads; with none it says so", async () => {
  const t = tempDir("mlib-walk-");
  const hub = await startFakeHub({
    repos: ["one", "two"].map((n, i) => ({ id: `acme/${n}-GGUF`, files: [{ path: `${n}-Q4_K_M.gguf`, content: buildTinyLlamaGguf({ name: n, fileType: 15, contextLength: 2048, seed: 10 + i }) }] })),
  });
  try {
    const lib = path.join(t.dir, "lib");
    const env = { HF_ENDPOINT: hub.url, HF_TOKEN: undefined, HF_HOME: path.join(t.dir, "hf"), MLIB_CACHE_DIR: path.join(t.dir, "cache"), HF_HUB_OFFLINE: undefined };
    assert.equal((await runCli(["init", "--library", lib])).code, 0);
    const none = await runCli(["downloads", "pause", "--all", "--library", lib], { env });
    assert.equal(none.code, 0, none.stderr);
    assert.equal(none.stdout, "no download to pause\n");
    // Each download fails once (bytes that do not hash to the Hub's SHA-256) and stays recorded as an error, resumable.
    for (const n of ["one", "two"]) {
      hub.faults.push({ kind: "wrong-bytes", times: 1 });
      const r = await runCli(["download", `acme/${n}-GGUF`, "--library", lib], { env });
      assert.equal(r.code, 1, `${r.stdout}${r.stderr}`);
    }
    const resumed = await runCliJson<{ resumed: { repoId: string; status: string }[] }>(["downloads", "resume", "--all", "--library", lib, "--json"], { env });
    assert.equal(resumed.code, 0, resumed.stderr);
    assert.deepEqual(resumed.json.resumed.map((r) => [r.repoId, r.status]).sort(), [["acme/one-GGUF", "completed"], ["acme/two-GGUF", "completed"]]);
  } finally {
    await hub.close();
    t.cleanup();
  }
});

test("identify, hash and apps accept --library after the command name too (every command takes it), unlisted", async () => {
  const t = tempDir("mlib-walk-");
  try {
    const file = writeGgufModel(path.join(t.dir, "a.gguf"), "A", 5);
    for (const args of [["identify", file], ["hash", file], ["apps"]]) {
      const r = await runCli([...args, "--library", path.join(t.dir, "lib"), "--json"]);
      assert.equal(r.code, 0, `mlib ${args[0]}: ${r.stderr}`);
      JSON.parse(r.stdout);
    }
    assert.doesNotMatch((await runCli(["hash", "--help"])).stdout, /--library/);
  } finally {
    t.cleanup();
  }
});

test("mlib serve --open says so when the browser opener fails, and keeps serving", { skip: process.platform !== "linux" && "xdg-open is the Linux opener" }, async () => {
  const t = tempDir("mlib-walk-");
  try {
    const bin = path.join(t.dir, "bin");
    fs.mkdirSync(bin);
    fs.writeFileSync(path.join(bin, "xdg-open"), "#!/bin/sh\nexit 3\n", { mode: 0o755 }); // no browser set up
    const { child, result } = startCli(["serve", "--port", "0", "--open", "--library", path.join(t.dir, "lib")], {
      env: { PATH: `${bin}:${process.env.PATH ?? ""}` },
    });
    let stderr = "";
    child.stderr!.on("data", (d: Buffer) => (stderr += d.toString()));
    const deadline = Date.now() + 15_000;
    while (!/could not open a browser/.test(stderr) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    child.kill("SIGINT");
    const r = await result;
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /mlib: xdg-open could not open a browser \(exit 3\): open http:\/\/127\.0\.0\.1:\d+\/\?token=\S+ yourself/);
    assert.match(r.stdout, /serving on http/);
  } finally {
    t.cleanup();
  }
});

test("the Hub cache of one HF_ENDPOINT never answers for another (a mirror's repos are not the Hub's)", async () => {
  const t = tempDir("mlib-walk-");
  const repo = (seed: number) => ({ id: "acme/same-GGUF", downloads: seed, files: [{ path: `same-Q${seed}_0.gguf`, content: buildTinyLlamaGguf({ name: "same", fileType: 7, contextLength: 2048, seed }) }] });
  const mirror = await startFakeHub({ repos: [repo(4)] });
  const other = await startFakeHub({ repos: [repo(8)] });
  try {
    const base = { HF_TOKEN: undefined, HF_HOME: path.join(t.dir, "hf"), MLIB_CACHE_DIR: path.join(t.dir, "cache"), HF_HUB_OFFLINE: undefined };
    const online = await runCli(["hub", "search", "same"], { env: { ...base, HF_ENDPOINT: mirror.url } });
    assert.equal(online.code, 0, online.stderr);
    assert.match(online.stdout, /Q4_0/);
    // Offline, the same endpoint answers from its cache ...
    const cached = await runCli(["hub", "search", "same"], { env: { ...base, HF_ENDPOINT: mirror.url, HF_HUB_OFFLINE: "1" } });
    assert.equal(cached.code, 0, cached.stderr);
    assert.match(cached.stdout, /Q4_0/);
    // ... another one (or huggingface.co) has nothing cached, and says so instead of the mirror's answer.
    for (const endpoint of [other.url, undefined]) {
      const r = await runCli(["hub", "search", "same"], { env: { ...base, HF_ENDPOINT: endpoint, HF_HUB_OFFLINE: "1" } });
      assert.equal(r.code, 1, `${endpoint}: ${r.stdout}`);
      assert.match(r.stderr, /HF_HUB_OFFLINE is set: not connecting/);
      assert.doesNotMatch(r.stdout, /Q4_0/);
    }
    const fresh = await runCli(["hub", "search", "same"], { env: { ...base, HF_ENDPOINT: other.url } });
    assert.equal(fresh.code, 0, fresh.stderr);
    assert.match(fresh.stdout, /Q8_0/);
  } finally {
    await mirror.close();
    await other.close();
    t.cleanup();
  }
});

test("mlib merge of a folder of loose model files (not a library) is refused and names mlib import; an empty folder is an empty library", async () => {
  const t = tempDir("mlib-walk-");
  try {
    const lib = path.join(t.dir, "lib");
    assert.equal((await runCli(["init", "--library", lib])).code, 0);
    const comfy = path.join(t.dir, "ComfyUI", "models");
    writeGgufModel(path.join(comfy, "checkpoints", "a.gguf"), "A", 6);
    for (const extra of [["--dry-run"], []]) {
      const r = await runCli(["merge", comfy, ...extra, "--library", lib]);
      assert.equal(r.code, 2, r.stdout);
      assert.equal(r.stderr, `mlib: ${comfy}: not a library (no .model-library, and no model folder with a metadata.json in it); to store the model files in it, use \`mlib import ${comfy}\`\n`);
    }
    assert.ok(fs.existsSync(path.join(comfy, "checkpoints", "a.gguf")));
    fs.mkdirSync(path.join(t.dir, "empty"));
    const empty = await runCli(["merge", path.join(t.dir, "empty"), "--library", lib]);
    assert.equal(empty.code, 0, empty.stderr);
    // A library (here the original's layout: model folders with metadata.json, no .model-library) still merges.
    const src = path.join(t.dir, "src");
    const imp = await runCli(["import", writeGgufModel(path.join(t.dir, "b.gguf"), "B", 7), "--library", src]);
    assert.equal(imp.code, 0, imp.stderr);
    fs.rmSync(path.join(src, ".model-library"), { recursive: true });
    const merged = await runCliJson<{ results: { outcome: string }[] }>(["merge", src, "--library", lib, "--json"]);
    assert.equal(merged.code, 0, merged.stderr);
    assert.deepEqual(merged.json.results.map((r) => r.outcome), ["moved"]);
  } finally {
    t.cleanup();
  }
});

test("mlib lookup --set-repo / --mark-manual without ids is refused, and no model is changed", async () => {
  const t = tempDir("mlib-walk-");
  try {
    const lib = path.join(t.dir, "lib");
    const imp = await runCliJson<ImportJson>(["import", writeGgufModel(path.join(t.dir, "a.gguf"), "A", 8), writeGgufModel(path.join(t.dir, "b.gguf"), "B", 9), "--library", lib, "--json"]);
    assert.equal(imp.code, 0, imp.stderr);
    const metaOf = (id: string) => fs.readFileSync(path.join(lib, id, "metadata.json"), "utf8");
    const before = imp.json.results.map((r) => metaOf(r.modelId!));
    // HF_HUB_OFFLINE: whatever happens, nothing is asked of a Hub.
    const env = { HF_HUB_OFFLINE: "1", HF_ENDPOINT: undefined, MLIB_CACHE_DIR: path.join(t.dir, "cache") };
    for (const flag of [["--set-repo", "acme/a-GGUF"], ["--mark-manual"]]) {
      const r = await runCli(["lookup", ...flag, "--library", lib], { env });
      assert.equal(r.code, 2, `${flag[0]}: ${r.stdout}`);
      assert.match(r.stderr, new RegExp(`mlib: ${flag[0]} needs the ids of the models it is about`));
    }
    assert.deepEqual(imp.json.results.map((r) => metaOf(r.modelId!)), before);
    const one = await runCli(["lookup", imp.json.results[0].modelId!, "--set-repo", "acme/a-GGUF", "--library", lib], { env });
    assert.equal(one.code, 0, one.stderr);
    assert.match(one.stdout, /set by hand: acme\/a-GGUF/);
    assert.equal(metaOf(imp.json.results[1].modelId!), before[1]);
  } finally {
    t.cleanup();
  }
});

test("a metadata.json that is valid JSON but no object ([], null) is damaged for show, list and reindex too, not an empty model", async () => {
  const t = tempDir("mlib-walk-");
  try {
    const lib = path.join(t.dir, "lib");
    const imp = await runCliJson<ImportJson>(["import", writeGgufModel(path.join(t.dir, "a.gguf"), "A", 11), "--library", lib, "--json"]);
    assert.equal(imp.code, 0, imp.stderr);
    const id = imp.json.results[0].modelId!;
    assert.equal((await runCli(["edit", id, "--notes", "good", "--library", lib])).code, 0); // leaves a .bak
    for (const text of ["[]", "null"]) {
      fs.writeFileSync(path.join(lib, id, "metadata.json"), text);
      const show = await runCli(["show", id, "--library", lib]);
      assert.equal(show.code, 1, `${text}: ${show.stdout}`);
      assert.match(show.stderr, /metadata\.json: valid JSON but not an object; the previous version may be in .*metadata\.json\.bak \(restore it with `mlib restore/);
      const list = await runCli(["list", "--library", lib]);
      assert.doesNotMatch(list.stdout, /unknown .* 0 B/, text);
      const reindex = await runCli(["reindex", "--library", lib]);
      assert.equal(reindex.code, 1, `${text}: ${reindex.stdout}`);
      assert.match(reindex.stdout, /\(1 unreadable\)/);
      // An edit refuses it too (it wrote a blank metadata.json over it, and the damaged one over the good .bak).
      const bak = fs.readFileSync(path.join(lib, id, "metadata.json.bak"), "utf8");
      const edit = await runCli(["edit", id, "--notes", "x", "--library", lib]);
      assert.equal(edit.code, 1, edit.stdout);
      assert.equal(fs.readFileSync(path.join(lib, id, "metadata.json.bak"), "utf8"), bak);
      assert.equal((await runCli(["restore", id, "--force", "--library", lib])).code, 0);
      assert.equal((await runCli(["reindex", "--library", lib])).code, 0);
    }
  } finally {
    t.cleanup();
  }
});

test("a library or Hub cache folder under /proc is refused at once (Node's recursive mkdir spins there for ever)", { skip: !fs.existsSync("/proc/self") && "no procfs here" }, async () => {
  const t = tempDir("mlib-walk-");
  try {
    const init = await runCli(["init", "--library", "/proc/mlib-no-such/lib"], { timeoutMs: 15_000 });
    assert.equal(init.code, 1, init.stderr);
    assert.equal(init.stderr, "mlib: /proc/mlib-no-such/lib: cannot create the library folder (ENOENT: no such file or directory)\n");
    const env = { MLIB_CACHE_DIR: "/proc/mlib-no-such/cache", HF_HUB_OFFLINE: "1", HF_ENDPOINT: undefined, HF_HOME: path.join(t.dir, "hf") };
    const search = await runCli(["hub", "search", "qwen"], { env, timeoutMs: 15_000 });
    assert.equal(search.code, 1, search.stderr);
    assert.match(search.stderr, /HF_HUB_OFFLINE is set: not connecting/);
    // A dangling symlink on the way fails the same way; an ordinary missing path is made.
    fs.symlinkSync(path.join(t.dir, "unmounted"), path.join(t.dir, "disk"));
    const dangling = await runCli(["init", "--library", path.join(t.dir, "disk", "lib")], { timeoutMs: 15_000 });
    assert.equal(dangling.code, 1, dangling.stderr);
    const deep = await runCli(["init", "--library", path.join(t.dir, "a", "b", "lib")]);
    assert.equal(deep.code, 0, deep.stderr);
    assert.ok(fs.statSync(path.join(t.dir, "a", "b", "lib")).isDirectory());
  } finally {
    t.cleanup();
  }
});
