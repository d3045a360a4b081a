// Resume and state edge cases of a download, found in a defect hunt: each test names the symptom a user saw.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { createHash, randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startFakeHub, type FakeHub } from "../../helpers/fake-hub.js";
import { downloadFile, type DownloadFileParams } from "../../../src/hub/download-file.js";
import type { HubConfig } from "../../../src/hub/config.js";
import { ModelLibraryError } from "../../../src/core/errors.js";

const MiB = 1024 * 1024;
const big = randomBytes(20 * MiB);
const bigSha = createHash("sha256").update(big).digest("hex");
let hub: FakeHub;
let dir: string;

before(async () => {
  hub = await startFakeHub({ repos: [{ id: "acme/big", files: [{ path: "big-Q4_K_M.gguf", content: big }] }] });
  dir = mkdtempSync(join(tmpdir(), "mlib-dlr-"));
});
after(async () => {
  await hub.close();
  rmSync(dir, { recursive: true, force: true });
});

const config = (): HubConfig => ({ endpoint: hub.url, token: null, tokenSource: null, offline: false, cacheDir: dir });
let n = 0;
function params(over: Partial<DownloadFileParams> = {}): DownloadFileParams {
  return {
    config: config(),
    url: `${hub.url}/acme/big/resolve/main/big-Q4_K_M.gguf`,
    partialPath: join(dir, `f${n++}.part`),
    expectedSize: big.length,
    expectedSha256: bigSha,
    retry: { attempts: 5, baseMs: 1, capMs: 5, maxServerWaitMs: 5000 },
    stallMs: 5000,
    ...over,
  };
}

test("a paused download resumed with another number of connections keeps the bytes it has", async () => {
  // 20 MiB on 2 connections: parts of 8 MiB (the first ones shorter). Part 1 hangs; the others complete.
  const p = params({ connections: 2 });
  hub.faults.push({ kind: "stall", matchRange: `bytes=${4 * MiB}-`, stallMs: 3000, afterBytes: 0, times: 1 });
  const ac = new AbortController();
  let written = 0;
  await assert.rejects(
    downloadFile({ ...p, signal: ac.signal, onBytes: (d) => {
      written += d;
      if (written >= 12 * MiB) setTimeout(() => ac.abort(), 50);
    } }),
    (e: ModelLibraryError) => e.code === "E_CANCELLED",
  );
  hub.faults.length = 0;
  const rec = JSON.parse(readFileSync(`${p.partialPath}.json`, "utf8")) as { completed: number[] };
  assert.ok(rec.completed.length >= 1, "some parts were recorded");
  // `mlib downloads resume` (default connections) or the same command with another --connections.
  const r = await downloadFile({ ...p, connections: 1 });
  assert.equal(r.sha256, bigSha);
  assert.ok(r.resumedBytes > 0, `the recorded parts are kept (resumed ${r.resumedBytes} bytes, fetched ${r.fetchedBytes})`);
  assert.ok(r.fetchedBytes < big.length, `not everything fetched again (${r.fetchedBytes})`);
  assert.deepEqual(readFileSync(p.partialPath), big);
});

test("a Hub that accepts the connection but never answers the file request: retried as a stall, then E_NETWORK (no hang)", { timeout: 20_000 }, async () => {
  const sockets = new Set<Socket>();
  const silent = createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => silent.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
  try {
    const started = Date.now();
    await assert.rejects(
      downloadFile(params({ config: { ...config(), endpoint: url }, url: `${url}/acme/big/resolve/main/big-Q4_K_M.gguf`, stallMs: 300, retry: { attempts: 2, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 } })),
      (e: ModelLibraryError) => e.code === "E_NETWORK" && /stalled|no answer/.test(e.message),
    );
    assert.ok(Date.now() - started < 10_000);
  } finally {
    for (const s of sockets) s.destroy();
    await new Promise((r) => silent.close(r));
  }
});

/** A server that ignores Range (200, the whole file, as some mirrors do): its first answer stops after 1 MiB. */
async function rangelessServer(content: Buffer): Promise<{ url: string; requests: number; close(): Promise<void> }> {
  const state = { url: "", requests: 0, close: async (): Promise<void> => undefined };
  const server = createHttpServer((req, res) => {
    state.requests++;
    res.writeHead(200, { "Content-Length": String(content.length), "Content-Type": "application/octet-stream" });
    if (state.requests === 1) res.write(content.subarray(0, MiB)); // then nothing more: a stall
    else res.end(content);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  state.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  state.close = async () => {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  };
  return state;
}

test("a server that ignores Range and stalls mid-file: the stall is noticed and the file fetched again (it hung)", { timeout: 20_000 }, async () => {
  const content = big.subarray(0, 4 * MiB);
  const server = await rangelessServer(content);
  try {
    const p = params({ config: { ...config(), endpoint: server.url }, url: `${server.url}/acme/x/resolve/main/x.gguf`, expectedSize: content.length, expectedSha256: createHash("sha256").update(content).digest("hex"), stallMs: 300 });
    const r = await downloadFile(p);
    assert.equal(r.rangeless, true);
    assert.equal(server.requests, 2);
    assert.deepEqual(readFileSync(p.partialPath), content);
  } finally {
    await server.close();
  }
});

test("a server that ignores Range: Ctrl-C (abort) stops the stream at once", { timeout: 20_000 }, async () => {
  const content = big.subarray(0, 4 * MiB);
  const server = await rangelessServer(content);
  try {
    const ac = new AbortController();
    const p = params({ config: { ...config(), endpoint: server.url }, url: `${server.url}/acme/x/resolve/main/x.gguf`, expectedSize: content.length, expectedSha256: null, stallMs: 60_000, signal: ac.signal });
    const started = Date.now();
    setTimeout(() => ac.abort(), 300);
    await assert.rejects(downloadFile(p), (e: ModelLibraryError) => e.code === "E_CANCELLED");
    assert.ok(Date.now() - started < 5000, `stopped after ${Date.now() - started} ms`);
  } finally {
    await server.close();
  }
});

test("a server that answers the one-byte probe's headers but never its byte: retried as a stall (it hung)", { timeout: 20_000 }, async () => {
  const content = big.subarray(0, 64 * 1024);
  let requests = 0;
  const server = createHttpServer((req, res) => {
    requests++;
    const m = /^bytes=(\d+)-(\d+)$/.exec(req.headers.range ?? "");
    const [start, end] = m ? [Number(m[1]), Number(m[2])] : [0, content.length - 1];
    res.writeHead(206, { "Content-Length": String(end - start + 1), "Content-Range": `bytes ${start}-${end}/${content.length}` });
    if (requests === 1) res.flushHeaders(); // and the byte never comes
    else res.end(content.subarray(start, end + 1));
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const p = params({ config: { ...config(), endpoint: url }, url: `${url}/acme/x/resolve/main/x.gguf`, expectedSize: content.length, expectedSha256: createHash("sha256").update(content).digest("hex"), stallMs: 300 });
    const r = await downloadFile(p);
    assert.deepEqual(readFileSync(p.partialPath), content);
    assert.equal(r.size, content.length);
  } finally {
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
  }
});
