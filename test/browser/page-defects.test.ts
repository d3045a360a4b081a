// Defects found by using the page as a person would, each pinned by a test: many tabs open at once, a page
// number past the end of the list, the model page opened from a link, the labels of the controls.
// One chromium for the whole file.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { throwIfAborted } from "../../src/core/errors.js";
import { chromiumMissing, openPage, openWorld, type BrowserWorld, type OpenPage } from "./browser-fixture.js";

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
  await page.goto(w.server.url);
  await page.waitForSelector("table.models tbody tr");
});
after(async () => {
  if (skip) return;
  try {
    await tab.close();
  } finally {
    await w.close();
  }
});

test("eight tabs of the page at once all load, and a verify started in one shows its progress in the others", { skip }, async () => {
  // A browser opens at most 6 connections to one host: a live event stream per tab used them all up.
  const ids = (await page.locator("table.models tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-id")))) as string[];
  const tabs: Page[] = [];
  try {
    for (const id of ids.slice(0, 8)) {
      const p = await page.context().newPage();
      tab.watchErrors(p);
      tabs.push(p);
      await p.goto(`${w.server.origin}/model?id=${encodeURIComponent(id)}`, { timeout: 5000 });
      await p.waitForSelector("#model-page", { timeout: 5000 });
    }
    assert.equal(w.server.runner.subscribers, 1, "nine tabs, one event stream");
    await tabs[7].click("#verify");
    await tabs[7].locator("#action-result", { hasText: /Verified/ }).waitFor({ timeout: 5000 });
    await tabs[0].waitForSelector('.op[data-op="verify"][data-state="done"]', { timeout: 5000 });
  } finally {
    for (const p of tabs) await p.close();
  }
  // the stream is the first tab's still; once no tab of the page is left, it is closed
  await page.goto("about:blank");
  for (let i = 0; i < 50 && w.server.runner.subscribers > 0; i++) await new Promise((r) => setTimeout(r, 20));
  assert.equal(w.server.runner.subscribers, 0, "no tab left: no stream left");
  await page.goto(w.server.origin);
  await page.waitForSelector("table.models tbody tr");
});

test("a page number past the end of the list (a link kept while the library shrank) shows the last page, not 'the library is empty'", { skip }, async () => {
  await page.goto(`${w.server.origin}/?page=7`);
  await page.locator("#total", { hasText: /^9 models$/ }).waitFor();
  await page.waitForURL((u) => u.searchParams.get("page") === null);
  assert.equal(await page.locator("table.models tbody tr").count(), 9);
  assert.equal(await page.locator("#list-message").textContent(), "");
});

test("every control of every view has a name of its own (a label, not only a placeholder)", { skip }, async () => {
  const cdp = await page.context().newCDPSession(page);
  const id = "llm/gemma2/gemma-2-9b-it-q6_k";
  const missing: string[] = [];
  try {
    // each view, once what it loads is in
    const views: [string, string][] = [
      ["/", '.facet[data-group="format"] input'],
      [`/model?id=${encodeURIComponent(id)}`, "#model-page"],
      ["/actions", "#recent > *"],
      ["/apps", "#map-links > *, #map-app option"],
      ["/hub", "#downloads > *"],
      ["/stats", "#stats"],
      // the question "Delete…" asks, open
      [`/model?id=${encodeURIComponent(id)}#delete`, "dialog#confirm[open]"],
    ];
    for (const [path, loaded] of views) {
      await page.goto(`${w.server.origin}${path.replace(/#.*/, "")}`);
      if (path.endsWith("#delete")) await page.click("#delete");
      await page.waitForSelector(loaded, { state: "attached" });
      const { nodes } = (await cdp.send("Accessibility.getFullAXTree")) as { nodes: AxNode[] };
      for (const n of nodes) {
        if (n.ignored || !CONTROLS.has(n.role?.value ?? "")) continue;
        // the source the name was taken from: the first one with a value that nothing supersedes
        const from = n.name?.sources?.find((s) => s.value && !s.superseded);
        if (!n.name?.value?.trim() || from?.type === "placeholder") missing.push(`${path}: ${n.role?.value} ${JSON.stringify(n.name?.value ?? "")} (${await describe(cdp, n)})`);
      }
      if (path.endsWith("#delete")) await page.keyboard.press("Escape");
    }
  } finally {
    await cdp.detach();
  }
  assert.deepEqual(missing, []);
});

const CONTROLS = new Set(["textbox", "searchbox", "combobox", "checkbox", "button", "spinbutton", "radio", "slider", "dialog"]);

interface AxNode {
  ignored: boolean;
  role?: { value: string };
  name?: { value?: string; sources?: { type: string; value?: unknown; superseded?: boolean }[] };
  backendDOMNodeId?: number;
}

/** The element's id or tag, to say which control it is. */
async function describe(cdp: import("playwright-core").CDPSession, n: AxNode): Promise<string> {
  const { object } = (await cdp.send("DOM.resolveNode", { backendNodeId: n.backendDOMNodeId })) as { object: { objectId: string } };
  const r = (await cdp.send("Runtime.callFunctionOn", { objectId: object.objectId, functionDeclaration: "function () { return this.id ? '#' + this.id : this.tagName; }", returnByValue: true })) as { result: { value: string } };
  return r.result.value;
}

test("‹ Back on a model page opened from a link (a new tab) goes to the list; reached from the list, it returns to that list", { skip }, async () => {
  const id = "llm/gemma2/gemma-2-9b-it-q6_k";
  const fresh = await page.context().newPage();
  tab.watchErrors(fresh);
  try {
    await fresh.goto(`${w.server.origin}/model?id=${encodeURIComponent(id)}`);
    await fresh.waitForSelector("#model-page");
    await fresh.click("a.back");
    await fresh.waitForURL((u) => u.pathname === "/", { timeout: 3000 });
    await fresh.waitForSelector("table.models tbody tr");
  } finally {
    await fresh.close();
  }
  await page.goto(`${w.server.origin}/?q=gemma`);
  await page.locator("table.models tbody tr td.name a").first().click();
  await page.waitForSelector("#model-page");
  await page.click("a.back");
  await page.waitForURL((u) => u.pathname === "/" && u.searchParams.get("q") === "gemma");
});

test("/model without an id says so (it showed the API's \"no API route /api/models/\")", { skip }, async () => {
  await page.goto(`${w.server.origin}/model`);
  await page.locator("#view .message.error").waitFor();
  assert.match(await page.locator("#view .message.error").textContent() ?? "", /^No model given/);
});

test("the Cancel button of a running operation keeps the keyboard focus while progress arrives, and Enter cancels it", { skip }, async () => {
  await page.goto(`${w.server.origin}/`);
  await page.waitForSelector("table.models tbody tr");
  // An operation of the real runner that reports progress every 20 ms until it is cancelled.
  const opId = w.server.runner.start("verify", async ({ signal, onProgress }) => {
    for (let done = 0; ; done++) {
      throwIfAborted(signal, "verify");
      onProgress({ op: "verify", phase: "hash", item: `file-${done}.gguf`, done, total: 1_000_000, unit: "bytes" });
      await new Promise((r) => setTimeout(r, 20));
    }
  });
  const cancel = page.locator(`.op[data-id="${opId}"] button`);
  await cancel.waitFor();
  await cancel.focus();
  await page.waitForTimeout(600); // ~30 progress events, a few of them sent on (one per 100 ms)
  assert.equal(await page.evaluate('document.activeElement?.closest(".op")?.getAttribute("data-id")'), opId, "the focus stayed on the card's button");
  await page.keyboard.press("Enter");
  await page.waitForSelector(`.op[data-id="${opId}"][data-state="cancelled"]`);
  assert.equal(w.server.runner.get(opId)?.state, "cancelled");
});

test("saving the edit form with only the notes changed records only the notes as edited by hand (a Hub lookup may still fill the name and tags)", { skip }, async () => {
  const id = "llm/qwen2/qwen2_5-coder-1_5b-q8_0";
  const before = JSON.parse(readFileSync(join(w.root, id, "metadata.json"), "utf8")) as Record<string, unknown>;
  await page.goto(`${w.server.origin}/model?id=${encodeURIComponent(id)}`);
  await page.waitForSelector("#edit-form");
  await page.fill("#edit-notes", "fast for completion");
  await page.locator("#edit-save").focus();
  await page.keyboard.press("Enter");
  await page.locator("#edit-status", { hasText: /^saved$/ }).waitFor();
  // the page is drawn again with what was saved: the keyboard's place stays on Save
  assert.equal(await page.evaluate("document.activeElement?.id ?? null"), "edit-save");
  const after = JSON.parse(readFileSync(join(w.root, id, "metadata.json"), "utf8")) as Record<string, unknown>;
  assert.equal(after.notes, "fast for completion");
  assert.deepEqual(after.manual_fields, ["notes"]);
  assert.deepEqual([after.official_name, after.tags], [before.official_name, before.tags]);
});

test("a filter ticked with the keyboard keeps the focus when the facet counts are redrawn", { skip }, async () => {
  await page.goto(`${w.server.origin}/`);
  await page.waitForSelector('#facets[data-for="/"]', { state: "attached" });
  const gguf = page.locator('.facet[data-group="format"] .facet-value', { hasText: "gguf" }).locator("input");
  await gguf.focus();
  await page.keyboard.press("Space");
  await page.waitForSelector('#facets[data-for="/?format=gguf"]', { state: "attached" });
  const focused = await page.evaluate(`(() => {
    const el = document.activeElement;
    return el?.type === "checkbox" ? el.closest(".facet")?.getAttribute("data-group") + "=" + el.value + " " + el.checked : el?.tagName ?? null;
  })()`);
  assert.equal(focused, "format=gguf true");
  await page.keyboard.press("Space"); // and untick it again, still from the keyboard
  await page.waitForSelector('#facets[data-for="/"]', { state: "attached" });
  await page.locator("#total", { hasText: /^9 models$/ }).waitFor();
});

test("Next › pressed with the keyboard keeps the focus on the pager (it fell back to the top of the page)", { skip }, async () => {
  const { writeGgufModel } = await import("../helpers/library-fixtures.js");
  const { importModels } = await import("../../src/operations/import-models.js");
  const more = Array.from({ length: 45 }, (_, i) => writeGgufModel(join(w.sources, "more", `extra-${i}-q4_k_m.gguf`), `Extra ${i}`, 500 + i));
  await importModels(w.library, more);
  await page.goto(`${w.server.origin}/`);
  await page.locator("#total", { hasText: /^54 models$/ }).waitFor();
  await page.locator("#next").focus();
  await page.keyboard.press("Enter");
  await page.waitForURL((u) => u.searchParams.get("page") === "2");
  await page.locator("#pager", { hasText: /page 2 of 2/ }).waitFor();
  assert.equal(await page.evaluate("document.activeElement?.id ?? null"), "prev", "Next is disabled on the last page: the focus is on Previous");
  await page.keyboard.press("Enter");
  await page.locator("#pager", { hasText: /page 1 of 2/ }).waitFor();
  assert.equal(await page.evaluate("document.activeElement?.id ?? null"), "next", "and back on the first page, on Next");
});

test("after deleting a model, the browser's Back does not lead to its page (\"not found\") but to where the user was before", { skip }, async () => {
  const id = "llm/llama/extra-0-q4_k_m";
  await page.goto(`${w.server.origin}/?q=extra-0`);
  await page.locator(`table.models tbody tr[data-id="${id}"] td.name a`).click();
  await page.waitForSelector("#model-page");
  await page.click("#delete");
  await page.click("#confirm-ok");
  await page.waitForURL((u) => u.pathname === "/" && u.search === "");
  await page.goBack();
  await page.waitForURL((u) => u.pathname === "/" && u.searchParams.get("q") === "extra-0");
  await page.locator("#list-message", { hasText: /^No model matches\.$/ }).waitFor();
});

test("where the browser has no SharedWorker, the tab opens its own event stream: a verify still shows its progress and outcome", { skip }, async () => {
  const context = await w.browser.newContext();
  try {
    await context.addInitScript("delete window.SharedWorker");
    const p = await context.newPage();
    tab.watchErrors(p);
    await p.goto(w.server.url);
    await p.goto(`${w.server.origin}/model?id=${encodeURIComponent("llm/gemma2/gemma-2-9b-it-q6_k")}`);
    await p.waitForSelector("#model-page");
    assert.equal(await p.evaluate("typeof SharedWorker"), "undefined");
    await p.click("#verify");
    await p.locator("#action-result", { hasText: /Verified/ }).waitFor();
    await p.waitForSelector('.op[data-op="verify"][data-state="done"]');
  } finally {
    await context.close();
  }
});

test("leaving a model's page (or Stats) before it has loaded: its answer, arriving late, does not replace the view the user went to", { skip }, async () => {
  // the model's details and the stats answer 600 ms late
  const slow = async (route: import("playwright-core").Route) => {
    await new Promise((r) => setTimeout(r, 600));
    await route.continue().catch(() => undefined);
  };
  await page.route(/\/api\/(models\/|stats)/, slow);
  try {
    await page.goto(`${w.server.origin}/?q=gemma`);
    await page.locator("table.models tbody tr td.name a").first().click();
    await page.waitForURL((u) => u.pathname === "/model");
    await page.goBack(); // before its details have come
    await page.waitForURL((u) => u.pathname === "/");
    await page.waitForTimeout(1000);
    assert.equal(await page.locator("#model-page").count(), 0, "no model page over the list");
    await page.click('nav a[data-tab="stats"]');
    await page.click('nav a[data-tab="models"]'); // before the stats have come
    await page.waitForTimeout(1000);
    assert.equal(await page.locator("#stats").count(), 0, "no stats over the list");
    assert.equal(await page.locator("table.models").count(), 1);
  } finally {
    await page.unroute(/\/api\/(models\/|stats)/, slow);
  }
});

test("the browser's Back while \"Delete…\" asks: the question goes with the page it was about (it stayed open over the list)", { skip }, async () => {
  const id = "llm/llama/extra-1-q4_k_m";
  await page.goto(`${w.server.origin}/?q=extra-1`);
  await page.locator(`table.models tbody tr[data-id="${id}"] td.name a`).click();
  await page.waitForSelector("#model-page");
  await page.click("#delete");
  await page.waitForSelector("dialog#confirm[open]");
  await page.goBack();
  await page.waitForSelector("table.models tbody tr");
  await page.waitForSelector("dialog#confirm:not([open])", { state: "attached", timeout: 2000 });
  assert.ok(existsSync(join(w.root, id)), "the model stays");
});

test("with the event stream down, a verify started from the page still shows its outcome (it said \"starting…\" for good)", { skip }, async () => {
  const context = await w.browser.newContext();
  try {
    // The tab's own stream (no shared worker), refused: as behind a proxy that drops it, or while it reconnects.
    await context.addInitScript("delete window.SharedWorker");
    await context.route("**/api/events", (route) => route.abort());
    const p = await context.newPage();
    tab.watchErrors(p);
    await p.goto(w.server.url);
    await p.goto(`${w.server.origin}/model?id=${encodeURIComponent("llm/gemma2/gemma-2-9b-it-q6_k")}`);
    await p.waitForSelector("#model-page");
    await p.click("#verify");
    await p.locator("#action-result", { hasText: /Verified/ }).waitFor({ timeout: 8000 });
    await p.waitForSelector('.op[data-op="verify"][data-state="done"]');
  } finally {
    await context.close();
  }
});

test("a server that no longer answers (stopped) is said in words, not as \"Failed to fetch\"", { skip }, async () => {
  await page.route(/\/api\/models\?/, (route) => route.abort("connectionrefused"));
  try {
    await page.goto(`${w.server.origin}/?q=gemma`);
    await page.locator("#list-message.error").waitFor();
    assert.match(await page.locator("#list-message").textContent() ?? "", /^The server does not answer/);
  } finally {
    await page.unroute(/\/api\/models\?/);
  }
});
