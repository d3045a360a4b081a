// The lean range GET (raw-range-get.ts) against a real loopback server: a Content-Length answer arrives whole
// (the bytes read with the headers included), status and headers as sent; a chunked answer or a redirect is
// handed back as null before its body is read (the caller asks through node:http); an abort ends the body.
import { test, after } from "node:test";
import assert from "node:assert/strict";
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { rawRangeGet } from "../../../src/hub/raw-range-get.js";
import type { RawResponse } from "../../../src/hub/http-get.js";

const payload = Buffer.alloc(3 * 1024 * 1024 + 17);
for (let i = 0; i < payload.length; i++) payload[i] = (i * 7) & 255;
const server = createServer((req, res) => {
  if (req.url === "/chunked") {
    res.writeHead(206, { "content-range": "bytes 0-9/10" });
    res.write("01234");
    res.end("56789");
  } else if (req.url === "/redirect") {
    res.writeHead(302, { location: "/file", "content-length": "0" });
    res.end();
  } else if (req.url === "/slow") {
    res.writeHead(206, { "content-length": String(payload.length) });
    res.write(payload.subarray(0, 1000));
  } else {
    res.writeHead(206, { "content-length": String(payload.length), "content-range": `bytes 0-${payload.length - 1}/${payload.length}`, "x-test": req.headers.range ?? "" });
    res.end(payload);
  }
});
await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
after(() => new Promise<void>((r) => server.close(() => r())));

function readAll(r: RawResponse): Promise<{ bytes: Buffer; error: unknown }> {
  return new Promise((resolve) => {
    const parts: Buffer[] = [];
    r.body.on("data", (c: Buffer) => parts.push(Buffer.from(c))); // copy: the view is reused after the handler
    r.body.once("end", () => resolve({ bytes: Buffer.concat(parts), error: null }));
    r.body.once("error", (e) => resolve({ bytes: Buffer.concat(parts), error: e }));
  });
}

test("a Content-Length answer arrives whole, with its status and headers", async () => {
  const r = await rawRangeGet(`${base}/file`, { range: "bytes=0-" }, undefined);
  assert.ok(r);
  assert.equal(r.status, 206);
  assert.equal(r.headers.get("X-Test"), "bytes=0-");
  const { bytes, error } = await readAll(r);
  assert.equal(error, null);
  assert.ok(bytes.equals(payload));
});

test("chunked answers and redirects are handed back (null) for node:http to take", async () => {
  assert.equal(await rawRangeGet(`${base}/chunked`, {}, undefined), null);
  assert.equal(await rawRangeGet(`${base}/redirect`, {}, undefined), null);
});

test("an abort ends a body that stopped coming", async () => {
  const ac = new AbortController();
  const r = await rawRangeGet(`${base}/slow`, {}, ac.signal);
  assert.ok(r);
  const done = new Promise<number>((resolve) => {
    let got = 0;
    r.body.on("data", (c: Buffer) => (got += c.length));
    r.body.once("close", () => resolve(got));
  });
  setTimeout(() => ac.abort(), 50);
  assert.equal(await done, 1000);
  assert.equal((r.body as unknown as { complete: boolean }).complete, false);
});
