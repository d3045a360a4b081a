// The Hub client against odd or hostile Hub answers, found in a defect hunt: each test names the symptom a user saw.
import { test } from "node:test";
import assert from "node:assert/strict";
import { createServer, type AddressInfo, type Socket } from "node:net";
import { createServer as createHttpServer } from "node:http";
import { join } from "node:path";
import { HubClient } from "../../../src/hub/hub-client.js";
import { ModelLibraryError } from "../../../src/core/errors.js";
import { tempDir } from "../../helpers/library-fixtures.js";
import { runCli } from "../../helpers/cli.js";
import { fakeHubConfig, startFakeHub } from "../../helpers/fake-hub.js";

/** A server that accepts connections and never answers. */
async function silentServer(): Promise<{ url: string; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const server = createServer((s) => {
    sockets.add(s);
    s.on("error", () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise((r) => server.close(r));
    },
  };
}

test("a Hub that accepts the connection but never answers: hub info and hub search fail with E_NETWORK instead of hanging", { timeout: 20_000 }, async () => {
  const silent = await silentServer();
  const tmp = tempDir("mlib-hubsilent-");
  const client = new HubClient({ endpoint: silent.url, token: null, tokenSource: null, offline: false, cacheDir: join(tmp.dir, "cache") }, {
    answerMs: 200,
    retry: { attempts: 2, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 },
  });
  try {
    const started = Date.now();
    await assert.rejects(client.info("acme/model"), (e: ModelLibraryError) => e.code === "E_NETWORK" && /no answer/.test(e.message));
    await assert.rejects(client.search({ query: "qwen" }), (e: ModelLibraryError) => e.code === "E_NETWORK" && /no answer/.test(e.message));
    assert.ok(Date.now() - started < 10_000);
  } finally {
    client.close();
    await silent.close();
    tmp.cleanup();
  }
});

test("HF_ENDPOINT without its scheme (hf-mirror.com): a usage error naming the variable at once, not 'cannot reach the server' after retries", async () => {
  const tmp = tempDir("mlib-hubendpoint-");
  try {
    const r = await runCli(["hub", "search", "qwen"], { env: { HF_ENDPOINT: "hf-mirror.invalid", HF_HUB_OFFLINE: undefined, MLIB_CACHE_DIR: join(tmp.dir, "cache") } });
    assert.equal(r.code, 2, r.stderr);
    assert.match(r.stderr, /HF_ENDPOINT "hf-mirror\.invalid" is not an http\(s\) URL/);
    const d = await runCli(["download", "acme/model", "--library", join(tmp.dir, "lib")], { env: { HF_ENDPOINT: "hf-mirror.invalid", HF_HUB_OFFLINE: undefined, MLIB_CACHE_DIR: join(tmp.dir, "cache") } });
    assert.equal(d.code, 2, d.stderr);
    assert.match(d.stderr, /HF_ENDPOINT/);
  } finally {
    tmp.cleanup();
  }
});

test("a 429 asking to wait longer than a command waits: the message gives the wait (it said 'still limited after retrying' without retrying)", async () => {
  const hub = await startFakeHub({ repos: [{ id: "acme/model", files: [{ path: "m.gguf", content: Buffer.from("GGUF") }] }] });
  const tmp = tempDir("mlib-hub429-");
  const client = new HubClient(fakeHubConfig(hub, join(tmp.dir, "cache")), { retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 } });
  try {
    hub.faults.push({ on: "hub", kind: "status", status: 429, retryAfter: "166", times: 5 });
    await assert.rejects(client.info("acme/model"), (e: ModelLibraryError) => e.code === "E_NETWORK" && /HTTP 429\); it asks to wait 166 s; try again later/.test(e.message));
    assert.equal(hub.requests.length, 1, "not retried: the wait is too long");
  } finally {
    client.close();
    await hub.close();
    tmp.cleanup();
  }
});

test("a Hub answering an HTML page (captive portal, HF_ENDPOINT pointing at a web page): the error names the URL and what is wrong, not a bare JSON parse error", async () => {
  const server = createHttpServer((_req, res) => {
    res.writeHead(200, { "Content-Type": "text/html" });
    res.end("<html><body>Please log in to the Wi-Fi</body></html>");
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  const tmp = tempDir("mlib-hubhtml-");
  const client = new HubClient({ endpoint: url, token: null, tokenSource: null, offline: false, cacheDir: join(tmp.dir, "cache") });
  try {
    for (const call of [() => client.info("acme/model"), () => client.search({ query: "qwen" }), () => client.treeOf("acme/model")]) {
      await assert.rejects(call(), (e: ModelLibraryError) => e.code === "E_NETWORK" && e.message.startsWith(`${url}/api/models`) && /not the Hub's JSON \(text\/html/.test(e.message) && /HF_ENDPOINT/.test(e.message));
    }
  } finally {
    client.close();
    server.closeAllConnections();
    await new Promise((r) => server.close(r));
    tmp.cleanup();
  }
});
