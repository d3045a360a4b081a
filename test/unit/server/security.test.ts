// What the server refuses, over real HTTP: foreign Host (DNS rebinding), foreign Origin on a change (CSRF),
// changes without the token, any path outside the page's own files, bodies too large or not JSON.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { Agent, request as httpRequest } from "node:http";
import { serveLibrary, raw, api, enc, type Served } from "./server-fixture.js";

let s: Served;
let port: number;
before(async () => {
  s = await serveLibrary();
  port = s.server.port;
});
after(async () => {
  await s.close();
});

test("a request whose Host is not the server's own name is refused (DNS rebinding), even a read", async () => {
  for (const host of [`evil.example:${port}`, "attacker.test", `127.0.0.1.nip.io:${port}`, `127.0.0.1:${port + 1}`, "127.0.0.1", `localhost.evil.example:${port}`]) {
    const r = await raw(port, "GET", "/api/models", { headers: { host } });
    assert.equal(r.status, 403, host);
    assert.equal((r.json() as { code: string }).code, "E_FORBIDDEN_HOST");
  }
  for (const host of [`127.0.0.1:${port}`, `localhost:${port}`, `LOCALHOST:${port}`, `[::1]:${port}`]) {
    assert.equal((await raw(port, "GET", "/api/models", { headers: { host } })).status, 200, host);
  }
});

test("a change from a foreign Origin is refused, with the token or not; the page's own origin is accepted", async () => {
  const id = s.ids[0];
  for (const origin of ["http://evil.example", `http://127.0.0.1:${port + 1}`, "null", `https://127.0.0.1:${port}`]) {
    const r = await api(s, "PATCH", `/api/models/${enc(id)}`, { notes: "x" }, { origin });
    assert.equal(r.status, 403, origin);
    assert.equal((r.json() as { code: string }).code, "E_FORBIDDEN_ORIGIN");
  }
  const crossSite = await api(s, "PATCH", `/api/models/${enc(id)}`, { notes: "x" }, { "sec-fetch-site": "cross-site" });
  assert.equal(crossSite.status, 403);
  for (const origin of [`http://127.0.0.1:${port}`, `http://localhost:${port}`]) {
    assert.equal((await api(s, "PATCH", `/api/models/${enc(id)}`, { notes: "ok" }, { origin })).status, 200, origin);
  }
  // a read from a foreign origin gets no CORS header, so the browser keeps the answer from that page
  const read = await raw(port, "GET", "/api/models", { headers: { origin: "http://evil.example" } });
  assert.equal(read.headers["access-control-allow-origin"], undefined);
});

test("every mutating route needs the token: 401 without it, or with a wrong one", async () => {
  const id = s.ids[0];
  const routes: [string, string, unknown][] = [
    ["PATCH", `/api/models/${enc(id)}`, { notes: "x" }],
    ["DELETE", `/api/models/${enc(id)}`, undefined],
    ["POST", "/api/import", { paths: ["/tmp"] }],
    ["POST", "/api/verify", {}],
    ["POST", "/api/redetect", {}],
    ["POST", "/api/map", {}],
    ["POST", "/api/download", {}],
    ["POST", "/api/unlink", {}],
    ["POST", "/api/downloads/x/pause", undefined],
    ["POST", "/api/downloads/x/resume", undefined],
    ["POST", "/api/downloads/x/cancel", undefined],
    ["POST", "/api/operations/x/cancel", undefined],
  ];
  for (const [method, path, body] of routes) {
    const headers: Record<string, string> = body !== undefined ? { "content-type": "application/json" } : {};
    const none = await raw(port, method, path, { headers, body: body !== undefined ? JSON.stringify(body) : undefined });
    assert.equal(none.status, 401, `${method} ${path}`);
    assert.equal((none.json() as { code: string }).code, "E_AUTH");
    const wrong = await raw(port, method, path, { headers: { ...headers, "x-mlib-token": "wrong" }, body: body !== undefined ? JSON.stringify(body) : undefined });
    assert.equal(wrong.status, 401, `${method} ${path} (wrong token)`);
  }
  assert.equal((await raw(port, "GET", `/api/models/${enc(id)}`)).status, 200, "the model is still there");
  const bearer = await raw(port, "POST", "/api/verify", { headers: { authorization: `Bearer ${s.server.token}`, "content-type": "application/json" }, body: "{}" });
  assert.equal(bearer.status, 202);
});

test("the printed URL's token becomes an HttpOnly cookie and leaves the address bar; the cookie then authorizes", async () => {
  const r = await raw(port, "GET", `/?token=${s.server.token}&q=qwen`);
  assert.equal(r.status, 302);
  assert.equal(r.headers.location, "/?q=qwen");
  const cookie = String(r.headers["set-cookie"]);
  assert.match(cookie, /HttpOnly/);
  assert.match(cookie, /SameSite=Strict/);
  const pair = cookie.split(";")[0];
  const session = (await raw(port, "GET", "/api/session", { headers: { cookie: pair } })).json() as { authorized: boolean };
  assert.equal(session.authorized, true);
  // (One model: the verify of every model the test before started may still run, and the same one is refused then.)
  const withCookie = await raw(port, "POST", "/api/verify", { headers: { cookie: pair, "content-type": "application/json" }, body: JSON.stringify({ ids: [s.ids[0]] }) });
  assert.equal(withCookie.status, 202);
  const bad = await raw(port, "GET", "/?token=wrong");
  assert.equal(bad.status, 302);
  assert.equal(bad.headers["set-cookie"], undefined);
  assert.equal(((await raw(port, "GET", "/api/session")).json() as { authorized: boolean }).authorized, false);
});

test("only the page's own files are served: traversal, encoded dots and slashes, absolute paths are 404", async () => {
  const page = await raw(port, "GET", "/");
  assert.equal(page.status, 200);
  assert.match(String(page.headers["content-type"]), /text\/html/);
  assert.match(String(page.headers["content-security-policy"]), /default-src 'self'/);
  assert.equal((await raw(port, "GET", "/app.js")).status, 200);
  assert.equal((await raw(port, "GET", "/model?id=x")).status, 200);
  const attempts = [
    "/../package.json",
    "/..%2fpackage.json",
    "/%2e%2e/package.json",
    "/%2e%2e%2f%2e%2e%2fetc%2fpasswd",
    "/..\\..\\package.json",
    "/etc/passwd",
    "//etc/passwd",
    "/%2Fetc%2Fpasswd",
    "/app.js/../../server.ts",
    "/app.js%00.css",
    "/server.ts",
    "/../server.ts",
    "/web/app.js",
    "/.hidden",
    "/index.html/..",
    "file:///etc/passwd",
    "/api/../package.json",
    "/%252e%252e/package.json",
  ];
  for (const path of attempts) {
    const r = await raw(port, "GET", path);
    assert.ok(r.status === 404 || r.status === 400, `${path} → ${r.status}`);
    assert.doesNotMatch(r.body, /"name": "model-library"|root:x:0|startServer/, path);
  }
});

test("bodies are size-limited (413), must be JSON objects (400/415); the library is unchanged", async () => {
  const id = s.ids[0];
  const big = Buffer.alloc(1024 * 1024 + 10, 0x20);
  const r = await raw(port, "PATCH", `/api/models/${enc(id)}`, { headers: { "x-mlib-token": s.server.token, "content-type": "application/json" }, body: big });
  assert.equal(r.status, 413);
  for (const [body, status] of [["{not json", 400], ["[1,2]", 400], ["\"text\"", 400]] as const) {
    const res = await raw(port, "PATCH", `/api/models/${enc(id)}`, { headers: { "x-mlib-token": s.server.token, "content-type": "application/json" }, body });
    assert.equal(res.status, status, body);
  }
  const form = await raw(port, "PATCH", `/api/models/${enc(id)}`, { headers: { "x-mlib-token": s.server.token, "content-type": "text/plain" }, body: "{\"notes\":\"x\"}" });
  assert.equal(form.status, 415);
  const tooLong = await api(s, "PATCH", `/api/models/${enc(id)}`, { name: "x".repeat(301) });
  assert.equal(tooLong.status, 400);
});

test("a body over the limit, sent in chunks on a keep-alive connection: 413, and the client's next request still works", async () => {
  // One socket, reused: the 413 must close it cleanly (Connection: close) rather than reset it under the next request.
  const agent = new Agent({ keepAlive: true, maxSockets: 1 });
  const send = (method: string, path: string, body?: Buffer): Promise<{ status: number; connection: string | undefined }> =>
    new Promise((resolve, reject) => {
      const req = httpRequest({ host: "127.0.0.1", port, method, path, agent, headers: { host: `127.0.0.1:${port}`, "x-mlib-token": s.server.token, "content-type": "application/json" } }, (res) => {
        res.resume();
        res.on("end", () => resolve({ status: res.statusCode ?? 0, connection: res.headers.connection }));
      });
      req.on("error", reject);
      if (body) for (let i = 0; i < body.length; i += 64 * 1024) req.write(body.subarray(i, i + 64 * 1024)); // chunked: no Content-Length to refuse early
      req.end();
    });
  try {
    for (let round = 0; round < 3; round++) {
      const big = await send("POST", "/api/verify", Buffer.alloc(2 * 1024 * 1024, 0x20));
      assert.equal(big.status, 413);
      assert.equal(big.connection, "close");
      assert.equal((await send("GET", "/api/session")).status, 200, `round ${round}: the request after the 413`);
    }
  } finally {
    agent.destroy();
  }
});

test("bound to every IPv6 address (--host ::), the printed URL is one the server answers (it named [::], refused as a foreign Host)", async (t) => {
  let other: Served;
  try {
    other = await serveLibrary({ host: "::" });
  } catch (e) {
    t.skip(`no IPv6 here (${(e as Error).message}): skipped`);
    return;
  }
  try {
    const page = await fetch(other.server.url, { redirect: "manual" });
    assert.equal(page.status, 302, `GET ${other.server.url}`);
    assert.match(String(page.headers.get("set-cookie")), /mlib_token_/);
    const session = await fetch(new URL("/api/session", other.server.origin));
    assert.equal(session.status, 200, `GET ${other.server.origin}/api/session`);
  } finally {
    await other.close();
  }
});
