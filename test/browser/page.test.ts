// The real page in Debian's chromium (playwright-core) against the real server and a real library: load,
// search as you type, filter, reload a shared URL, open a model, edit it, verify it and see its progress,
// delete with confirmation, and the read-only page without the token.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { chromiumMissing, openPage, openWorld, waitText, type BrowserWorld, type OpenPage } from "./browser-fixture.js";

const skip = chromiumMissing;
if (skip) console.log(`# ${skip}`);

let w: BrowserWorld;
let tab: OpenPage;
let page: Page;

before(async () => {
  if (skip) return;
  w = await openWorld();
  tab = await openPage(w, { width: 1280, height: 800 });
  page = tab.page;
});
after(async () => {
  if (skip) return;
  try {
    await tab.close();
  } finally {
    await w.close();
  }
});

const rows = () => page.locator("table.models tbody tr");
const rowIds = async () => (await rows().evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-id")))).sort();
/** Waits until the list says it holds exactly `text` ("9 models"). */
const waitTotal = (p: Page, text: string) => p.locator("#total", { hasText: new RegExp(`^${text}$`) }).waitFor();
/** Waits until element `selector` holds text matching `re`. */

test("load: the printed URL shows every model; the token leaves the address bar", { skip }, async () => {
  await page.goto(w.server.url);
  await page.waitForSelector("table.models tbody tr");
  assert.equal(await rows().count(), 9);
  assert.equal(new URL(page.url()).search, "");
  assert.equal(await page.locator("#total").textContent(), "9 models");
  assert.equal(await page.locator("#banner").isHidden(), true);
  await page.waitForSelector('.facet[data-group="format"] .facet-value');
});

test("search as you type narrows the list; the URL holds the query and reloads to the same list", { skip }, async () => {
  await page.locator("#search").pressSequentially("qwe", { delay: 30 });
  await waitTotal(page, "2 models");
  assert.deepEqual(await rowIds(), ["llm/qwen2/qwen2_5-7b-instruct-q4_k_m", "llm/qwen2/qwen2_5-coder-1_5b-q8_0"]);
  // the address bar takes the query once typing pauses
  await page.waitForURL((u) => u.searchParams.get("q") === "qwe");
  await page.reload();
  await waitTotal(page, "2 models");
  assert.equal(await page.locator("#search").inputValue(), "qwe");
  await page.locator("#search").fill("");
  await waitTotal(page, "9 models");
});

test("a facet filter narrows the list, shows its count, goes into the URL, and back undoes it", { skip }, async () => {
  const safetensors = page.locator('.facet[data-group="format"] .facet-value', { hasText: "safetensors" });
  assert.equal(await safetensors.locator(".count").textContent(), "2");
  await safetensors.locator("input").check();
  await waitTotal(page, "2 models");
  assert.deepEqual(new URL(page.url()).searchParams.getAll("format"), ["safetensors"]);
  await page.waitForSelector('#facets[data-for="/?format=safetensors"]', { state: "attached" });
  // the other groups' counts follow the filter; the format group still offers its other values
  const types = await page.locator('.facet[data-group="type"] .facet-value').allTextContents();
  assert.deepEqual(types.sort(), ["diffusion1", "llm1"]);
  const gguf = page.locator('.facet[data-group="format"] .facet-value', { hasText: "gguf" });
  assert.equal(await gguf.locator(".count").textContent(), "6");
  await gguf.locator("input").check();
  await waitTotal(page, "8 models");
  await gguf.locator("input").uncheck();
  await waitTotal(page, "2 models");
  // a shared link with two filters
  await page.goto(`${w.server.origin}/?format=gguf&quant=Q4_K_M`);
  await waitTotal(page, "2 models");
  assert.deepEqual(await rowIds(), ["llm/llama/mistral-nemo-12b-q4_k_m", "llm/qwen2/qwen2_5-7b-instruct-q4_k_m"]);
  await page.goBack();
  await page.waitForURL((u) => u.search === "?format=safetensors");
  await waitTotal(page, "2 models");
  await page.locator("#active-filters button.link").click(); // clear filters
  await waitTotal(page, "9 models");
});

test("sorting by name orders the rows by display name", { skip }, async () => {
  await page.goto(`${w.server.origin}/`);
  await waitTotal(page, "9 models");
  await page.selectOption("#sort", "name");
  await page.waitForURL((u) => u.search.includes("sort=name"));
  await page.locator("table.models tbody tr:first-child td.name a", { hasText: /^gemma-2-9b-it-q6_k$/ }).waitFor();
});

test("open a model: every field, files with sizes and hashes, metadata.json as stored", { skip }, async () => {
  await page.goto(`${w.server.origin}/?q=gemma`);
  await page.locator("table.models tbody tr td.name a").first().click();
  await page.waitForSelector("#model-page");
  const id = "llm/gemma2/gemma-2-9b-it-q6_k";
  assert.equal(new URL(page.url()).searchParams.get("id"), id);
  assert.match(await page.locator("#fields").textContent() ?? "", /Q6_K/);
  const hashes = await page.locator("#files td.hash").allTextContents();
  assert.ok(hashes.length >= 2 && hashes.every((x) => /^[0-9a-f]{64}$/.test(x)), hashes.join(","));
  assert.equal(await page.locator("#metadata-json").textContent(), readFileSync(join(w.root, id, "metadata.json"), "utf8"));
});

test("edit the display name, tags and notes: saved to metadata.json, shown at once", { skip }, async () => {
  const id = "llm/gemma2/gemma-2-9b-it-q6_k";
  await page.fill("#edit-name", "Gemma 2 9B (my favourite)");
  await page.fill("#edit-tags", "chat, favourite");
  await page.fill("#edit-notes", "good at summaries");
  await page.click("#edit-save");
  await waitText(page, "#model-name", /^Gemma 2 9B \(my favourite\)$/);
  const meta = JSON.parse(readFileSync(join(w.root, id, "metadata.json"), "utf8")) as Record<string, unknown>;
  assert.deepEqual([meta.official_name, meta.tags, meta.notes], ["Gemma 2 9B (my favourite)", ["chat", "favourite"], "good at summaries"]);
  assert.ok(existsSync(join(w.root, id)), "the folder did not move");
});

test("verify a model: its progress arrives over server-sent events and the outcome is shown", { skip }, async () => {
  // A second listener on the same stream records every event the page receives.
  await page.evaluate(`new Promise((resolve) => {
    window.seen = [];
    const source = new EventSource("/api/events");
    source.onmessage = (m) => window.seen.push(JSON.parse(m.data));
    source.onopen = resolve;
  })`);
  await page.click("#verify");
  await page.waitForSelector('.op[data-op="verify"][data-state="done"]');
  assert.match(await page.locator('.op[data-op="verify"] .op-detail').textContent() ?? "", /1 OK, 0 failed/);
  assert.match(await page.locator("#action-result").textContent() ?? "", /Verified/);
  const all = (await page.evaluate("window.seen")) as { op: string; phase: string; done?: number; total?: number; state?: string }[];
  const seen = all.filter((e) => e.op === "verify");
  assert.equal(seen[0].phase, "start");
  assert.ok(seen.some((e) => e.phase !== "start" && e.phase !== "end" && typeof e.done === "number" && typeof e.total === "number" && e.total > 0), JSON.stringify(seen));
  assert.equal(seen[seen.length - 1].state, "done");
});

test("verify that finds a changed file says so", { skip }, async () => {
  const id = "llm/llama/llama-3_1-8b-instruct-q5_k_m";
  const file = join(w.root, id, "llama-3.1-8b-instruct-q5_k_m.gguf");
  const { readFileSync: read, writeFileSync } = await import("node:fs");
  const bytes = read(file);
  bytes[bytes.length - 1] ^= 0xff;
  writeFileSync(file, bytes);
  await page.goto(`${w.server.origin}/model?id=${encodeURIComponent(id)}`);
  await page.click("#verify");
  await waitText(page, "#action-result", /FAILED/);
  assert.match(await page.locator("#action-result").textContent() ?? "", /hash-mismatch/);
});

test("delete asks first: cancel keeps the model, confirm removes it and returns to the list", { skip }, async () => {
  const id = "llm/phi3/phi-3-mini-4k-instruct-f16";
  await page.goto(`${w.server.origin}/model?id=${encodeURIComponent(id)}`);
  await page.click("#delete");
  await page.waitForSelector("dialog#confirm[open]");
  assert.match(await page.locator("#confirm-text").textContent() ?? "", /phi-3-mini/);
  await page.click("#confirm-cancel");
  await page.waitForSelector("dialog#confirm:not([open])", { state: "attached" });
  assert.ok(existsSync(join(w.root, id)), "cancel keeps the model");
  await page.click("#delete");
  await page.click("#confirm-ok");
  await page.waitForSelector("table.models tbody tr");
  await waitTotal(page, "8 models");
  assert.ok(!existsSync(join(w.root, id)), "the folder is gone");
  assert.ok(existsSync(join(w.sources, "phi-3-mini-4k-instruct-f16.gguf")), "the import's source is untouched");
});

test("import a path from the page: progress, then the new model is in the list", { skip }, async () => {
  const { writeGgufModel } = await import("../helpers/library-fixtures.js");
  const file = writeGgufModel(join(w.sources, "later", "tinyllama-1.1b-q4_k_m.gguf"), "TinyLlama 1.1B", 77);
  await page.goto(`${w.server.origin}/actions`);
  await page.fill("#import-path", file);
  await page.click("#import-form button[type=submit]");
  await page.waitForSelector('.op[data-op="import"][data-state="done"]');
  assert.match(await page.locator('.op[data-op="import"] .op-detail').textContent() ?? "", /1 imported/);
  await waitText(page, "#recent", /imported: .*tinyllama-1\.1b-q4_k_m\.gguf → llm\//);
  await page.goto(`${w.server.origin}/?q=tinyllama-1.1b-q4`);
  await waitTotal(page, "1 model");
});

test("without the token the page is read-only: a banner says how to get it, changes are disabled", { skip }, async () => {
  const other = await w.browser.newContext();
  try {
    const p = await other.newPage();
    await p.goto(`${w.server.origin}/`);
    await p.waitForSelector("table.models tbody tr");
    assert.match(await p.locator("#banner").textContent() ?? "", /Read-only/);
    await p.locator("table.models tbody tr td.name a").first().click();
    await p.waitForSelector("#model-page");
    assert.equal(await p.locator("#delete").isDisabled(), true);
    assert.equal(await p.locator("#edit-save").isDisabled(), true);
    // and the API refuses a change from this context even if the page tried
    const status = await p.evaluate(async () => (await fetch("/api/verify", { method: "POST", headers: { "content-type": "application/json" }, body: "{}" })).status);
    assert.equal(status, 401);
  } finally {
    await other.close();
  }
});
