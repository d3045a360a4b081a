// A model whose metadata.json is damaged is the library's state, not a server failure: its page answers 422 with
// what is wrong and how to get it back (the .bak), and the rest of the library answers as usual.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { serveLibrary, raw, enc, type Served } from "./server-fixture.js";

let s: Served;
before(async () => {
  s = await serveLibrary();
});
after(async () => {
  await s.close();
});

test("GET /api/models/:id of a model whose metadata.json does not parse: 422 E_CORRUPT naming the file; the list still answers", async () => {
  const id = s.ids[0];
  writeFileSync(join(s.root, id, "metadata.json"), "{ this is not json");
  const r = await raw(s.server.port, "GET", `/api/models/${enc(id)}`);
  assert.equal(r.status, 422, r.body);
  const body = r.json() as { code: string; message: string };
  assert.equal(body.code, "E_CORRUPT");
  assert.match(body.message, /metadata\.json/);
  assert.equal((await raw(s.server.port, "GET", "/api/models")).status, 200);
});
