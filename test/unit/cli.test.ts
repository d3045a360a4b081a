// The `mlib` CLI run as a child process: exit codes, JSON shapes, error messages (no stack traces),
// and a whole import → list → search → show → verify → corrupt → verify → rm cycle on real-format files.
// Each spawn costs ~0.4 s under tsx, so every spawn checks as much as it can.
import { test, describe, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { buildTinyLlamaGguf } from "../../src/demo/gguf-writer.js";
import { buildSafetensors } from "../../src/demo/safetensors-writer.js";
import { buildStoredZip } from "../../src/demo/zip-writer.js";
import { hasStackTrace, runCli, runCliJson } from "../helpers/cli.js";

let tmp: string;
let src: string; // model files the tests import (must stay untouched)
let gguf: string;
let st: string;
let pointer: string;
let garbage: string;
let truncated: string;
let pickle: string;

function listTree(dir: string): string[] {
  return fs.readdirSync(dir, { recursive: true, encoding: "utf8" }).sort();
}

before(() => {
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), "mlib-cli-"));
  src = path.join(tmp, "src");
  fs.mkdirSync(src);
  gguf = path.join(src, "tiny-llama-F16.gguf");
  fs.writeFileSync(gguf, buildTinyLlamaGguf({ name: "Tiny Llama CLI", contextLength: 4096 }));
  st = path.join(src, "small-model.safetensors");
  const t = (name: string, shape: number[], seed: number) => ({
    name,
    dtype: "F16",
    shape,
    data: Buffer.alloc(shape.reduce((a, b) => a * b, 1) * 2, seed),
  });
  fs.writeFileSync(
    st,
    buildSafetensors(
      [t("model.embed_tokens.weight", [32, 16], 1), t("model.layers.0.self_attn.q_proj.weight", [16, 16], 2), t("lm_head.weight", [32, 16], 3)],
      { format: "pt" },
    ),
  );
  pointer = path.join(src, "not-downloaded.safetensors");
  fs.writeFileSync(pointer, `version https://git-lfs.github.com/spec/v1\noid sha256:${"ab".repeat(32)}\nsize 4920000000\n`);
  garbage = path.join(src, "garbage.bin");
  fs.writeFileSync(garbage, Buffer.from("this is not a model at all, just text\n".repeat(4)));
  truncated = path.join(src, "truncated.gguf");
  fs.writeFileSync(truncated, buildTinyLlamaGguf({ name: "cut" }).subarray(0, 40));
  pickle = path.join(tmp, "pickles", "old-checkpoint.pt");
  fs.mkdirSync(path.dirname(pickle));
  fs.writeFileSync(
    pickle,
    buildStoredZip([
      { name: "archive/data.pkl", data: Buffer.from([0x80, 0x02, 0x7d, 0x71, 0x00, 0x2e]) },
      { name: "archive/version", data: Buffer.from("3\n") },
    ]),
  );
});
after(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("mlib identify", () => {
  test("--json: one record per path, errors as entries, exit 1 when any failed", async () => {
    const missing = path.join(src, "no-such-model.gguf");
    const before = listTree(src);
    const r = await runCliJson<Record<string, unknown>[]>(["identify", "--json", gguf, st, pointer, missing, truncated, garbage]);
    assert.equal(r.code, 1, r.stderr);
    assert.equal(hasStackTrace(r.stderr), false, r.stderr);
    assert.equal(r.json.length, 6);
    const [g, s, p, m, tr, ga] = r.json;
    assert.equal(g.path, gguf);
    assert.equal(g.format, "gguf");
    assert.equal(g.family, "llama");
    assert.equal(g.contextLength, 4096);
    assert.equal(g.name, "Tiny Llama CLI");
    assert.equal(g.subtype, null, "nulls are kept");
    assert.ok("lfsPointer" in g && g.lfsPointer === null);
    assert.equal(s.format, "safetensors");
    assert.equal(s.securityTier, "safe");
    assert.equal(typeof s.parameterCount, "number");
    assert.equal(p.format, "lfs-pointer");
    assert.match((p.warnings as string[]).join(" "), /never downloaded/);
    assert.deepEqual(Object.keys(m).sort(), ["error", "path"]);
    const merr = m.error as { code: string; message: string };
    assert.equal(merr.code, "E_NOT_FOUND");
    assert.ok(merr.message.includes(missing), merr.message);
    // The truncated GGUF is either an error naming the file or (at worst) flagged unknown; never a crash.
    if ("error" in tr) {
      assert.ok((tr.error as { message: string }).message.includes(truncated));
      assert.match((tr.error as { code: string }).code, /^E_(TRUNCATED|INVALID|BAD_MAGIC|TOO_LARGE)$/);
    } else assert.notEqual(tr.format, "gguf");
    if ("error" in ga) assert.ok((ga.error as { message: string }).message.includes(garbage));
    else assert.equal(ga.format, "unknown");
    assert.deepEqual(listTree(src), before, "identify writes nothing beside its inputs");
  });

  test("human output: summary, LFS pointer says never downloaded, a missing path is `mlib: <message>` and exit 1", async () => {
    const missing = path.join(src, "gone.safetensors");
    const r = await runCli(["identify", gguf, pointer, missing, truncated]);
    assert.equal(r.code, 1);
    assert.match(r.stdout, /format\s+gguf v3 \(safe\)/);
    assert.match(r.stdout, /family\s+llama/);
    assert.match(r.stdout, /context\s+4096/);
    assert.match(r.stdout, /never downloaded/);
    assert.match(r.stdout, /NOT DOWNLOADED/);
    assert.ok(r.stderr.includes(`mlib: ${missing}: no such file`), r.stderr);
    assert.ok(r.stderr.includes(truncated), `the truncated file is named: ${r.stderr}`);
    assert.equal(hasStackTrace(r.stderr), false, r.stderr);
    for (const line of r.stderr.trim().split("\n")) assert.match(line, /^mlib: /);
  });
});

describe("usage errors exit 2, help exits 0", () => {
  test("unknown command, unknown option, missing argument, bad option value", async () => {
    const lib = path.join(tmp, "usage-lib");
    const runs = await Promise.all([
      runCli(["bogus-command"]),
      runCli(["identify"]),
      runCli(["list", "--no-such-option", "--library", lib]),
      runCli(["list", "--limit", "many", "--library", lib]),
      runCli(["import", gguf, "--mode", "teleport", "--library", lib]),
      runCli(["--help"]),
    ]);
    for (const r of runs.slice(0, 5)) {
      assert.equal(r.code, 2, r.stderr);
      assert.match(r.stderr, /^mlib: /);
      assert.equal(hasStackTrace(r.stderr), false, r.stderr);
    }
    assert.match(runs[0].stderr, /unknown command 'bogus-command'/);
    assert.match(runs[1].stderr, /missing required argument/);
    assert.match(runs[2].stderr, /unknown option '--no-such-option'/);
    assert.equal(runs[5].code, 0);
    assert.match(runs[5].stdout, /Usage: mlib/);
    assert.equal(fs.existsSync(lib), false, "a usage error creates no library");
  });

  test("only the command being run is loaded, yet help lists every command and a typo gets a suggestion", async () => {
    const [help, typo, helpHash, version] = await Promise.all([runCli(["--help"]), runCli(["--json", "hassh", "x"]), runCli(["help", "hash"]), runCli(["--version"])]);
    for (const name of ["identify", "hash", "init", "import", "list", "search", "show", "verify", "reindex", "rm", "stats", "adopt", "redetect", "restore", "demo"]) {
      assert.match(help.stdout, new RegExp(`^  ${name} `, "m"), name);
    }
    assert.equal(typo.code, 2);
    assert.match(typo.stderr, /unknown command 'hassh'[^]*Did you mean hash\?/);
    assert.equal(helpHash.code, 0);
    assert.match(helpHash.stdout, /Usage: mlib hash/);
    assert.equal(version.code, 0);
    assert.match(version.stdout, /^\d+\.\d+\.\d+/);
  });
});

describe("mlib hash", () => {
  test("--json equals node:crypto's SHA-256; AutoV2 is its first 10 hex digits", async () => {
    const r = await runCliJson<{ path: string; size: number; sha256: string; blake3: string; fastHash: string; autoV2: string }[]>([
      "hash",
      "--json",
      gguf,
      st,
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stderr, "", "no progress bar when stderr is not a terminal");
    assert.equal(r.json.length, 2);
    for (const [i, file] of [gguf, st].entries()) {
      const data = fs.readFileSync(file);
      const rec = r.json[i];
      assert.equal(rec.path, file);
      assert.equal(rec.size, data.length);
      assert.equal(rec.sha256, createHash("sha256").update(data).digest("hex"));
      assert.match(rec.blake3, /^[0-9a-f]{64}$/);
      assert.match(rec.fastHash, /^[0-9a-f]+$/);
      assert.equal(rec.autoV2, rec.sha256.slice(0, 10));
    }
  });
});

describe("library lifecycle through the CLI", () => {
  test("init → import → list → search → show → verify → corrupt → verify fails → rm → list empty", async () => {
    const home = path.join(tmp, "home-lib");
    const env = { MODEL_LIBRARY_HOME: home };
    const before = listTree(src);

    const init = await runCliJson<{ root: string; models: number }>(["init", "--json"], { env });
    assert.equal(init.code, 0, init.stderr);
    assert.deepEqual(init.json, { root: home, models: 0 });

    const imp = await runCliJson<{ results: { status: string; modelId: string; path: string }[]; imported: number; duplicates: number; failed: number }>(
      ["import", "--json", gguf, "--tag", "demo,cli", "--tag", "tiny"],
      { env },
    );
    assert.equal(imp.code, 0, imp.stderr);
    assert.equal(imp.json.imported, 1);
    assert.equal(imp.json.failed, 0);
    const id = imp.json.results[0].modelId;
    assert.ok(id.startsWith("llm/llama/"), id);
    assert.deepEqual(listTree(src), before, "import (copy) writes nothing beside its sources");

    const list = await runCliJson<{ models: { id: string; tags: string[] }[]; totalCount: number }>(["list", "--json"], { env });
    assert.equal(list.code, 0, list.stderr);
    assert.deepEqual(Object.keys(list.json).filter((k) => k !== "queryTimeMs"), ["models", "totalCount"]);
    assert.equal(list.json.totalCount, 1);
    assert.equal(list.json.models[0].id, id);
    assert.deepEqual([...list.json.models[0].tags].sort(), ["cli", "demo", "tiny"]);

    // search + filters, --library given before the command (the env points elsewhere); the query's words
    // unquoted, as people type them, are one query
    // (--facets: the counts of what the query and filters match, per group)
    const search = await runCliJson<{ models: { id: string }[]; totalCount: number; facets: Record<string, Record<string, number>> }>(
      ["--library", home, "search", "tiny", "llama", "--json", "--format", "gguf,safetensors", "--tag", "tiny", "--facets"],
      { env: { MODEL_LIBRARY_HOME: path.join(tmp, "elsewhere") } },
    );
    assert.equal(search.code, 0, search.stderr);
    assert.deepEqual(search.json.models.map((m) => m.id), [id]);
    assert.deepEqual(search.json.facets.types, { llm: 1 });
    assert.deepEqual(search.json.facets.formats, { gguf: 1 });
    assert.deepEqual(search.json.facets.tags, { cli: 1, demo: 1, tiny: 1 });
    assert.equal(fs.existsSync(path.join(tmp, "elsewhere")), false, "--library wins over $MODEL_LIBRARY_HOME");

    const [show, table, verify] = await Promise.all([
      runCliJson<{ id: string; metadata: { files: { name: string; size: number; sha256: string }[] } }>(["show", id, "--json"], { env }),
      runCli(["list", "--type", "llm", "--facets"], { env }),
      runCli(["verify", id], { env }),
    ]);
    assert.equal(show.code, 0, show.stderr);
    assert.equal(show.json.id, id);
    const file = show.json.metadata.files[0];
    assert.equal(file.name, path.basename(gguf));
    assert.equal(file.sha256, createHash("sha256").update(fs.readFileSync(gguf)).digest("hex"));
    assert.equal(table.code, 0, table.stderr);
    assert.match(table.stdout, /^ID\s+TYPE\s+FAMILY\s+FORMAT\s+QUANT\s+SIZE$/m);
    assert.match(table.stdout, /KiB/);
    assert.match(table.stdout, /^1 of 1 model$/m);
    assert.match(table.stdout, /^types:\s+llm 1$/m);
    assert.match(table.stdout, /^formats:\s+gguf 1$/m);
    assert.equal(verify.code, 0, verify.stderr + verify.stdout);
    assert.match(verify.stdout, /^OK\s+/m);

    // Corrupt one byte of the stored copy (same size): verify must fail and name the file.
    const stored = path.join(home, ...id.split("/"), file.name);
    const fd = fs.openSync(stored, "r+");
    const b = Buffer.alloc(1);
    fs.readSync(fd, b, 0, 1, 5000);
    fs.writeSync(fd, Buffer.from([b[0] ^ 0xff]), 0, 1, 5000);
    fs.closeSync(fd);
    const [bad, badJson, rmNoYes] = await Promise.all([
      runCli(["verify"], { env }),
      runCliJson<{ results: { id: string; ok: boolean; files: { name: string; status: string }[] }[]; ok: number; failed: number }>(["verify", "--json"], { env }),
      runCli(["rm", id], { env }),
    ]);
    assert.equal(bad.code, 1);
    assert.match(bad.stdout, /^FAILED\s+/m);
    assert.ok(bad.stdout.includes(stored), `names the file: ${bad.stdout}`);
    assert.match(bad.stdout, /content changed/);
    assert.equal(badJson.code, 1);
    assert.equal(badJson.json.failed, 1);
    assert.equal(badJson.json.results[0].files[0].status, "hash-mismatch");
    assert.equal(rmNoYes.code, 2, "no terminal and no --yes: a usage error");
    assert.match(rmNoYes.stderr, /--yes/);
    assert.ok(fs.existsSync(stored), "nothing deleted without --yes");

    const rm = await runCli(["rm", id, "--yes"], { env });
    assert.equal(rm.code, 0, rm.stderr);
    assert.match(rm.stdout, /deleted/);
    assert.equal(fs.existsSync(stored), false);
    const [empty, stats, missing] = await Promise.all([
      runCliJson<{ models: unknown[]; totalCount: number }>(["list", "--json"], { env }),
      runCliJson<{ models: number; totalBytes: number }>(["stats", "--json"], { env }),
      runCli(["show", id], { env }),
    ]);
    assert.deepEqual({ models: empty.json.models, totalCount: empty.json.totalCount }, { models: [], totalCount: 0 });
    assert.equal(stats.json.models, 0);
    assert.equal(missing.code, 1);
    assert.ok(missing.stderr.includes(id), missing.stderr);
    assert.equal(hasStackTrace(missing.stderr), false);
    assert.deepEqual(listTree(src), before);
  });

  test("re-import is a duplicate; pickle refused without --allow-pickle, stored with it; LFS pointer refused", async () => {
    const lib = path.join(tmp, "dedup-lib");
    const first = await runCliJson<{ results: { status: string; modelId: string }[] }>(["import", "--json", "--library", lib, gguf, st]);
    assert.equal(first.code, 0, first.stderr);
    assert.deepEqual(first.json.results.map((r) => r.status), ["imported", "imported"]);
    const ggufId = first.json.results[0].modelId;

    const [again, pickleNo, ptr] = await Promise.all([
      runCli(["import", "--library", lib, gguf]),
      runCliJson<{ results: { status: string; error: { code: string; message: string } }[]; failed: number }>([
        "import",
        "--json",
        "--library",
        lib,
        pickle,
      ]),
      runCli(["import", "--library", lib, pointer]),
    ]);
    assert.equal(again.code, 0, again.stderr);
    assert.ok(again.stdout.includes(`already in the library as ${ggufId}`), again.stdout);
    assert.equal(pickleNo.code, 1);
    assert.equal(pickleNo.json.failed, 1);
    assert.equal(pickleNo.json.results[0].error.code, "E_PICKLE");
    assert.match(pickleNo.json.results[0].error.message, /--allow-pickle/);
    assert.equal(ptr.code, 1);
    assert.match(ptr.stderr, /^mlib: .*never downloaded/m);
    assert.equal(hasStackTrace(ptr.stderr), false);

    const pickleYes = await runCli(["import", "--library", lib, "--allow-pickle", "--type", "diffusion", "--name", "Old Checkpoint", pickle]);
    assert.equal(pickleYes.code, 0, pickleYes.stderr);
    assert.match(pickleYes.stdout, /^imported\s+diffusion\/unknown\/old_checkpoint/m);
    const list = await runCliJson<{ models: { id: string; format: string }[]; totalCount: number }>(["list", "--json", "--library", lib, "--format", "pickle"]);
    assert.equal(list.json.totalCount, 1);
    assert.equal(list.json.models[0].format, "pickle");
    assert.ok(fs.existsSync(pickle), "the source is kept (copy mode)");
  });
});
