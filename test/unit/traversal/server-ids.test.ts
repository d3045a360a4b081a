// Model ids in the web API's URLs and bodies are data from any page the browser runs: an id that climbs out of the
// library ("../outside/m", percent-encoded, double-encoded, with NUL) must be refused with a 4xx naming it, and a
// model-like folder outside the library must never be shown, edited or deleted through it. Over real HTTP.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import { join } from "node:path";
import { serveLibrary, raw, api, type Served } from "../server/server-fixture.js";

let s: Served;
let victim: string;
let victimMeta: string;
before(async () => {
  s = await serveLibrary();
  // A copy of a real model folder outside the library, at <tmp>/outside/m: reached by the id "../outside/m".
  victim = join(s.tmp, "outside", "m");
  fs.cpSync(join(s.root, ...s.ids[0].split("/")), victim, { recursive: true });
  victimMeta = fs.readFileSync(join(victim, "metadata.json"), "utf8");
});
after(async () => {
  await s.close();
});

const HOSTILE = [
  "..%2Foutside%2Fm",
  "%2e%2e%2Foutside%2Fm",
  "%2E%2E%2foutside%2fm",
  "llm%2F..%2F..%2F..%2Foutside%2Fm",
  "llm/..%2F..%2F..%2Foutside%2Fm",
  "%252e%252e%252Foutside%252Fm",
  "..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd",
  "%2Fetc%2Fpasswd",
  "x%00y",
  "..",
  "%2e",
];

test("a model id that leaves the library is refused by show, edit and delete; nothing outside is touched", async () => {
  for (const id of HOSTILE) {
    for (const [method, body] of [["GET", undefined], ["PATCH", { notes: "pwned" }], ["DELETE", undefined]] as const) {
      const r = method === "GET" ? await raw(s.server.port, method, `/api/models/${id}`) : await api(s, method, `/api/models/${id}${method === "DELETE" ? "?cascade=1" : ""}`, body);
      assert.ok(r.status >= 400 && r.status < 500, `${method} ${id}: ${r.status} ${r.body}`);
      assert.match((r.json() as { message: string }).message, /invalid model id|not found|no API route/, `${method} ${id}: ${r.body}`);
    }
  }
  assert.equal(fs.readFileSync(join(victim, "metadata.json"), "utf8"), victimMeta, "the folder outside the library was changed");
  assert.ok(fs.readdirSync(victim).length > 1, "the folder outside the library was emptied");
});

test("verify and redetect refuse such ids in their body before starting", async () => {
  for (const op of ["verify", "redetect"]) {
    for (const id of ["../outside/m", "llm/../../outside/m", "/etc/passwd", "a\u0000b"]) {
      const r = await api(s, "POST", `/api/${op}`, { ids: [id] });
      assert.ok(r.status >= 400 && r.status < 500, `${op} ${JSON.stringify(id)}: ${r.status} ${r.body}`);
    }
  }
  assert.equal(fs.readFileSync(join(victim, "metadata.json"), "utf8"), victimMeta);
});
