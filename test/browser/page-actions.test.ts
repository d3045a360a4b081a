// Issue 13's missing page actions in Debian's chromium against the real server, a real library and the fake Hub
// on loopback (nothing reaches the internet): check and repair the links of one app or all (progress in the
// operations panel, the problems listed), write ComfyUI's extra_model_paths.yaml and see A1111's flags, look a
// model's Hub repo up (kept when set by hand unless forced), and download the missing shards of an incomplete
// split model from its page.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { existsSync, mkdirSync, readFileSync, unlinkSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import type { Page } from "playwright-core";
import { buildSafetensors } from "../../src/demo/safetensors-writer.js";
import { importInPlace } from "../../src/operations/import-in-place.js";
import { llamaTensors } from "../helpers/library-fixtures.js";
import { chromiumMissing, openHubPage, waitText, type BrowserWorld, type HubPage, type OpenPage } from "./browser-fixture.js";

const skip = chromiumMissing;
if (skip) console.log(`# ${skip}`);

const shard = (i: number): Buffer => buildSafetensors(llamaTensors(1, 16, 30 + i), { format: "pt" });
const GEMMA = "llm/gemma2/gemma-2-9b-it-q6_k";

let hp: HubPage;
let w: BrowserWorld;
let tab: OpenPage;
let page: Page;

before(async () => {
  if (skip) return;
  hp = await openHubPage({ repos: [{ id: "acme/split", files: [1, 2, 3].map((i) => ({ path: `model-0000${i}-of-00003.safetensors`, content: shard(i) })) }] });
  ({ world: w, tab, page } = hp);
  // the Hub holds the gemma file under its repo's own name: a lookup matches it by hash
  hp.hub.addRepo({ id: "acme/gemma-2-9b-it-GGUF", tags: ["gguf"], files: [{ path: "gemma-2-9b-it-Q6_K.gguf", content: readFileSync(join(w.sources, "gemma-2-9b-it-q6_k.gguf")) }] });
});
after(async () => {
  if (!skip) await hp.close();
});

const waitFor = (selector: string, re: RegExp) => waitText(page, selector, re);

test("Apps: check the links of one app and of all, then repair: a removed link is forgotten, the others stay", { skip }, async () => {
  const root = join(w.tmp, "llama.cpp", "models");
  mkdirSync(join(w.tmp, "llama.cpp"));
  await page.goto(`${w.server.origin}/apps?app=llamacpp&root=${encodeURIComponent(root)}`);
  await page.waitForSelector('#map-app option[value="llamacpp"]', { state: "attached" });
  await page.click("#map-preview");
  await waitFor("#preview-counts", /^6 to create/);
  await page.click("#map-apply");
  await waitFor("#map-message", /^Applied: 6 links made/);
  await page.selectOption("#links-app", "llamacpp");
  await page.click("#links-check");
  await waitFor("#links-status", /^6 links checked: 6 healthy, 0 broken, 0 changed, 0 foreign, 0 missing, 0 unreadable\.$/);
  await page.waitForSelector('.op[data-op="links-check"][data-state="done"]'); // its card in the operations panel
  unlinkSync(join(root, "gemma-2-9b-it-q6_k.gguf"));
  await page.selectOption("#links-app", ""); // all apps
  await page.click("#links-check");
  await waitFor("#links-status", /^6 links checked: 5 healthy, 0 broken, 0 changed, 0 foreign, 1 missing, 0 unreadable\.$/);
  assert.equal(await page.locator("#links-problem-list tbody tr").count(), 1);
  assert.match((await page.locator("#links-problem-list tbody tr").textContent()) ?? "", /gemma-2-9b-it-q6_k\.gguf.*missing.*removed from the app folder/);
  await page.selectOption("#links-app", "comfyui"); // another app: none of its links
  await page.click("#links-check");
  await waitFor("#links-status", /^0 links checked/);
  await page.selectOption("#links-app", "llamacpp");
  await page.click("#links-repair");
  await waitFor("#links-status", /^Repaired: 1 link acted on, 5 healthy, 0 errors\.$/);
  assert.match((await page.locator("#links-repair-list tbody tr").textContent()) ?? "", /gemma-2-9b-it-q6_k\.gguf.*missing.*forgotten/);
  await page.locator("#links-table tbody tr").nth(4).waitFor();
  assert.equal(await page.locator("#links-table tbody tr").count(), 5);
  assert.equal(existsSync(join(root, "gemma-2-9b-it-q6_k.gguf")), false, "a link the user removed is not made again");
  await page.click("#links-check");
  await waitFor("#links-status", /^5 links checked: 5 healthy/);
});

test("Apps: write ComfyUI's extra_model_paths.yaml (the user's own sections kept); A1111's flags shown", { skip }, async () => {
  const comfy = join(w.tmp, "ComfyUI");
  mkdirSync(comfy);
  writeFileSync(join(comfy, "extra_model_paths.yaml"), "# mine\nother:\n  base_path: /elsewhere\n");
  await page.goto(`${w.server.origin}/apps`);
  await page.waitForSelector('#map-app option[value="comfyui"]', { state: "attached" });
  await page.selectOption("#map-app", "comfyui");
  await page.fill("#map-root", join(comfy, "models"));
  await page.click("#map-config");
  await waitFor("#map-config-message", /^Wrote the model_library section of .*extra_model_paths\.yaml \(the previous file is kept as .*mlib-bak\)/);
  const yaml = readFileSync(join(comfy, "extra_model_paths.yaml"), "utf8");
  assert.match(yaml, /# mine/);
  assert.match(yaml, /model_library:/);
  assert.match(yaml, /loras: \|\n +diffusion\/sd1\/pixel-art-style-lora/, "the LoRA's folder is listed");
  const webui = join(w.tmp, "webui");
  mkdirSync(webui);
  await page.selectOption("#map-app", "a1111");
  await page.fill("#map-root", join(webui, "models"));
  await page.click("#map-config");
  await waitFor("#map-config-message", /^Start a1111 with these flags:$/);
  assert.ok(await page.locator("#map-config-flags").isVisible());
  // an app folder that does not exist: the error is shown, nothing made
  await page.fill("#map-root", join(w.tmp, "nothing-here", "models"));
  await page.click("#map-config");
  await waitFor("#map-message", /the app folder \(the parent of --root\) does not exist/);
  assert.equal(existsSync(join(w.tmp, "nothing-here")), false);
});

test("Model page: look the Hub repo up (a hash match); a choice made by hand is kept unless forced", { skip }, async () => {
  await page.goto(`${w.server.origin}/model?id=${encodeURIComponent(GEMMA)}`);
  await page.waitForSelector("#model-page");
  await page.click("#lookup");
  await waitFor("#action-result", /^Hub lookup: matched acme\/gemma-2-9b-it-GGUF \(hash, confidence 1\)\.$/);
  await waitFor("#provenance", /acme\/gemma-2-9b-it-GGUF/);
  await w.library.updateMetadata(GEMMA, (m) => {
    m.repo_id = null;
    m.match_source = "manual";
    m.pending_online_lookup = false;
  });
  await page.reload();
  await page.waitForSelector("#model-page");
  await page.click("#lookup");
  await waitFor("#action-result", /^Hub lookup: kept what was set by hand/);
  assert.equal((await w.library.getMetadata(GEMMA)).repo_id, null);
  await page.check("#lookup-force");
  await page.click("#lookup");
  await waitFor("#action-result", /^Hub lookup: matched acme\/gemma-2-9b-it-GGUF/);
  assert.equal((await w.library.getMetadata(GEMMA)).repo_id, "acme/gemma-2-9b-it-GGUF");
});

test("Model page: an incomplete split model says which shards are missing and downloads them", { skip }, async () => {
  const dir = join(w.root, "llm", "llama", "split");
  mkdirSync(dir, { recursive: true });
  writeFileSync(join(dir, "model-00001-of-00003.safetensors"), shard(1));
  writeFileSync(join(dir, "model-00002-of-00003.safetensors"), shard(2));
  const { modelId } = await importInPlace(w.library, { modelDir: dir, officialName: "split", repoId: "acme/split", allowIncomplete: true });
  await page.goto(`${w.server.origin}/model?id=${encodeURIComponent(modelId)}`);
  await waitFor("#missing-shards", /^Incomplete: 1 shard missing \(model-00003-of-00003\.safetensors\)/);
  await page.click("#complete-download");
  await waitFor("#action-result", /^Downloaded the missing shards: [\d,]+ bytes\.$/);
  assert.equal(await page.locator("#missing-shards").count(), 0);
  assert.equal(await page.locator("#files tbody tr").count(), 3);
  assert.deepEqual(readFileSync(join(dir, "model-00003-of-00003.safetensors")), shard(3));
  await page.waitForSelector('.op[data-op="download"][data-state="done"]');
});

test("The list: rows are reused and refilled; rows below the fold follow; the URL takes a query once typing pauses or the page moves on", { skip }, async () => {
  // 150 px high: a few rows fit, the others are filled when the renderer is idle
  const small = await w.browser.newContext({ viewport: { width: 1280, height: 150 } });
  const p = await small.newPage();
  tab.watchErrors(p);
  try {
    await p.goto(w.server.url);
    await p.waitForSelector("table.models tbody tr");
    const idsInOrder = () => p.locator("table.models tbody tr").evaluateAll((trs) => trs.map((tr) => tr.getAttribute("data-id")));
    const expected = async (q: string) =>
      ((await (await fetch(`${w.server.origin}/api/models?q=${encodeURIComponent(q)}`)).json()) as { models: { id: string }[] }).models.map((m) => m.id);
    const all = await expected("");
    assert.ok(all.length > Math.ceil(150 / 34) + 2, "more rows than fit");
    const shownIds = 'JSON.stringify([...document.querySelectorAll("table.models tbody tr")].map((tr) => tr.getAttribute("data-id")))';
    // polled from here: the page's CSP refuses the eval a string predicate of waitForFunction needs
    const waitIds = async (ids: string[]): Promise<void> => {
      for (const end = Date.now() + 5000; ; await new Promise((r) => setTimeout(r, 20))) {
        const shown = (await p.evaluate(shownIds)) as string;
        if (shown === JSON.stringify(ids)) return;
        if (Date.now() > end) assert.fail(`rows ${shown}, expected ${JSON.stringify(ids)}`);
      }
    };
    await waitIds(all);
    assert.deepEqual(await idsInOrder(), all);
    await p.evaluate('window.firstRow = document.querySelector("table.models tbody tr")');
    for (const q of ["instruct", "q", ""]) {
      await p.fill("#search", q);
      const want = await expected(q);
      await waitIds(want);
      // every cell says its own model's values (a reused row keeps none of its last model's text)
      const rows = await p.locator("table.models tbody tr").evaluateAll((trs) => trs.map((tr) => [tr.getAttribute("data-id"), tr.querySelector(".id")?.textContent, tr.querySelector("a")?.getAttribute("href")]));
      for (const [id, shownId, href] of rows) {
        assert.equal(shownId, id);
        assert.equal(href, `/model?id=${encodeURIComponent(id!)}`);
      }
    }
    assert.equal(await p.evaluate('window.firstRow === document.querySelector("table.models tbody tr")'), true, "the first row's element is the same one");
    // typing: the address bar follows after the pause
    await p.fill("#search", "gemma");
    await p.waitForURL((u) => u.searchParams.get("q") === "gemma");
    // a model opened right after typing: the list's entry keeps the query, back shows it
    await p.fill("#search", "qwen");
    await p.locator("#total", { hasText: /^2 models$/ }).waitFor();
    await p.locator("table.models tbody tr a").first().click();
    await p.waitForSelector("#model-page");
    await p.goBack();
    await p.locator("#total", { hasText: /^2 models$/ }).waitFor();
    assert.equal(new URL(p.url()).searchParams.get("q"), "qwen");
    assert.equal(await p.inputValue("#search"), "qwen");
  } finally {
    await small.close();
  }
});
