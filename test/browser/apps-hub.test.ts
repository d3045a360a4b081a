// The Apps and Hub views in Debian's chromium against the real server, a real library and the fake Hub on
// loopback (nothing reaches the internet): preview and apply a mapping from the page and see the links (in
// the Apps view and on a model's page); search the Hub, see download options per quant with shard sizes
// summed, download a small model and find it in the list; pause and resume a download from the page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { lstatSync, mkdirSync, readdirSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { buildTinyLlamaGguf } from "../../src/demo/gguf-writer.js";
import { throwIfAborted } from "../../src/core/errors.js";
import type { FakeHub } from "../helpers/fake-hub.js";
import { chromiumMissing, openHubPage, waitText, type BrowserWorld, type HubPage } from "./browser-fixture.js";

const skip = chromiumMissing;
if (skip) console.log(`# ${skip}`);

const q4 = buildTinyLlamaGguf({ name: "Hubby", architecture: "llama", fileType: 15, contextLength: 4096, seed: 21 });
const q8 = buildTinyLlamaGguf({ name: "Hubby", architecture: "llama", fileType: 7, contextLength: 4096, seed: 22 });
const q2a = buildTinyLlamaGguf({ name: "Hubby", architecture: "llama", fileType: 10, contextLength: 4096, seed: 23 });
const q2b = buildTinyLlamaGguf({ name: "Hubby", architecture: "llama", fileType: 10, contextLength: 4096, seed: 24 });

let hp: HubPage;
let hub: FakeHub;
let w: BrowserWorld;
let page: Page;

before(async () => {
  if (skip) return;
  hp = await openHubPage({
    repos: [
      {
        id: "acme/Hubby-GGUF",
        tags: ["gguf", "llama"],
        pipeline_tag: "text-generation",
        downloads: 4321,
        files: [
          { path: "README.md", content: Buffer.from("# hubby") },
          { path: "hubby-Q4_K_M.gguf", content: q4 },
          { path: "hubby-Q8_0.gguf", content: q8 },
          { path: "Q2_K/hubby-Q2_K-00001-of-00002.gguf", content: q2a },
          { path: "Q2_K/hubby-Q2_K-00002-of-00002.gguf", content: q2b },
        ],
      },
    ],
  });
  ({ hub, world: w, page } = hp);
});
after(async () => {
  if (!skip) await hp.close();
});

const waitFor = (selector: string, re: RegExp) => waitText(page, selector, re);

test("Apps: preview shows what would be created, apply makes the links, the list and the model page show them", { skip }, async () => {
  const appDir = join(w.tmp, "llama.cpp");
  mkdirSync(appDir);
  const root = join(appDir, "models");
  await page.click('nav a[data-tab="apps"]');
  await page.waitForSelector('#map-app option[value="llamacpp"]', { state: "attached" });
  await page.selectOption("#map-app", "llamacpp");
  await page.fill("#map-root", root);
  await page.click("#map-preview");
  await waitFor("#preview-counts", /^6 to create, 0 already there, 0 to replace \(broken links of ours\), 0 conflicts/);
  assert.equal(await page.locator("#preview-creates tbody tr").count(), 6);
  assert.throws(() => lstatSync(root), "a preview makes nothing");
  assert.equal(await page.locator("#map-apply").isDisabled(), false);
  await page.click("#map-apply");
  await waitFor("#map-message", /^Applied: 6 links made, 0 already there, 0 conflicts left\.$/);
  await page.waitForSelector("#links-table tbody tr");
  assert.equal(await page.locator("#links-table tbody tr").count(), 6);
  assert.equal(readdirSync(root).length, 6);
  assert.ok(readdirSync(root).every((f) => lstatSync(join(root, f)).isSymbolicLink()));
  // the URL keeps the app and folder; the model page lists its link
  assert.equal(new URL(page.url()).searchParams.get("app"), "llamacpp");
  await page.locator("#links-table tbody tr td a", { hasText: "llm/gemma2/gemma-2-9b-it-q6_k" }).click();
  await page.waitForSelector("#model-page");
  await waitFor("#links", /llamacpp/);
  assert.match((await page.locator("#links").textContent()) ?? "", new RegExp(join(root, "gemma-2-9b-it-q6_k.gguf").replace(/[.]/g, "\\.")));
});

test("Hub: search shows download options per quant (shards summed); download a quant; it lands in the list", { skip }, async () => {
  await page.click('nav a[data-tab="hub"]');
  await page.fill("#hub-q", "hubby");
  await page.click("#hub-search");
  const card = page.locator('.hub-model[data-repo="acme/Hubby-GGUF"]');
  await card.waitFor();
  assert.equal(new URL(page.url()).searchParams.get("q"), "hubby");
  const q2Size = await card.locator('tr[data-quant="Q2_K"] td.num').first().textContent();
  const { formatBytes } = await import("../../src/cli/output.js");
  assert.equal(q2Size, formatBytes(q2a.length + q2b.length));
  assert.equal(await card.locator('tr[data-quant="Q2_K"] td.num').nth(1).textContent(), "2");
  // the model card and files, fetched when opened
  await card.locator(".repo-details summary").click();
  await card.locator(".repo-details td.path", { hasText: "Q2_K/hubby-Q2_K-00002-of-00002.gguf" }).waitFor();
  assert.match((await card.locator(".repo-details dl").textContent()) ?? "", /commit[0-9a-f]{40}/);
  await card.locator('tr[data-quant="Q4_K_M"] button.download').click();
  await page.waitForSelector('.op[data-op="download"][data-state="done"]');
  await page.waitForSelector("#downloads-empty");
  await page.goto(`${w.server.origin}/?q=hubby`);
  await page.locator("#total", { hasText: /^1 model$/ }).waitFor();
  assert.match((await page.locator("table.models tbody tr").getAttribute("data-id")) ?? "", /hubby/i);
});

test("Hub: pause a running download from the page, then resume it to the end", { skip }, async () => {
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 4000, times: 1 });
  await page.goto(`${w.server.origin}/hub?q=hubby`);
  const card = page.locator('.hub-model[data-repo="acme/Hubby-GGUF"]');
  await card.locator('tr[data-quant="Q8_0"] button.download').click();
  await page.waitForSelector('#downloads-table tr[data-status="downloading"]');
  await page.click('#downloads-table tr[data-status="downloading"] button.pause');
  await page.waitForSelector('#downloads-table tr[data-status="paused"]');
  await page.waitForSelector('.op[data-op="download"][data-state="cancelled"]');
  await page.click('#downloads-table tr[data-status="paused"] button.resume');
  await page.waitForSelector('.op[data-op="download"][data-state="done"]');
  await page.waitForSelector("#downloads-empty");
});

test("Hub: the Downloads table keeps the keyboard focus on a row's button while another download's progress redraws it", { skip }, async () => {
  // a paused download (stalled, then paused from the page)
  hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 4000, times: 1 });
  await page.goto(`${w.server.origin}/hub?q=hubby`);
  const card = page.locator('.hub-model[data-repo="acme/Hubby-GGUF"]');
  await card.locator('tr[data-quant="Q2_K"] button.download').click();
  await page.waitForSelector('#downloads-table tr[data-status="downloading"]');
  await page.click('#downloads-table tr[data-status="downloading"] button.pause');
  const resume = page.locator('#downloads-table tr[data-status="paused"] button.resume');
  await resume.waitFor();
  // another download's progress, every 20 ms: the table is read again at each of its events (every 500 ms)
  const other = w.server.runner.start("download", async ({ signal, onProgress }) => {
    for (let done = 0; ; done += 1000) {
      throwIfAborted(signal, "download");
      onProgress({ op: "download", phase: "download", item: "other.gguf", done, total: 1e9, unit: "bytes" });
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  try {
    await resume.focus();
    await page.waitForTimeout(1600); // three reads of the table
    assert.equal(await page.evaluate("document.activeElement?.className ?? null"), "small resume", "the focus stayed on Resume");
    await page.keyboard.press("Enter");
    await page.waitForSelector('.op[data-op="download"][data-state="done"]');
  } finally {
    w.server.runner.cancel(other);
    await w.server.runner.whenEnded(other);
  }
  await page.waitForSelector("#downloads-empty");
});
