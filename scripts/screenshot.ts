// `node --import tsx scripts/screenshot.ts [docs/screenshot.png]`: the README's picture of the main page. A
// throw-away library of small real-format models (the browser tests' set), a few tags and notes set through
// the edit operation, served by the real server and photographed in Debian's chromium.
import { resolve } from "node:path";
import { chromiumMissing, openWorld } from "../test/browser/browser-fixture.js";
import { editModel } from "../src/operations/edit-model.js";

if (chromiumMissing) {
  console.error(chromiumMissing);
  process.exit(1);
}
const out = resolve(process.argv[2] ?? "docs/screenshot.png");
const w = await openWorld();
try {
  const tags: Record<string, string[]> = {
    "llm/qwen2/qwen2_5-7b-instruct-q4_k_m": ["chat", "instruct", "multilingual"],
    "llm/qwen2/qwen2_5-coder-1_5b-q8_0": ["code", "instruct"],
    "llm/llama/llama-3_1-8b-instruct-q5_k_m": ["chat", "instruct", "license:llama3"],
    "llm/gemma2/gemma-2-9b-it-q6_k": ["chat", "instruct"],
    "llm/phi3/phi-3-mini-4k-instruct-f16": ["reasoning", "instruct"],
    "llm/llama/mistral-nemo-12b-q4_k_m": ["chat", "roleplay"],
    "diffusion/sd1/pixel-art-style-lora": ["style", "pixel-art"],
    "diffusion/sd1/stable-diffusion-v1-5": ["text-to-image"],
  };
  for (const [id, t] of Object.entries(tags)) await editModel(w.library, { id, tags: t });
  const page = await w.browser.newPage({ viewport: { width: 1280, height: 720 } });
  await page.goto(w.server.url);
  await page.locator("#total", { hasText: /^9 models$/ }).waitFor();
  await page.locator('.facet[data-group="tag"]').waitFor();
  await page.screenshot({ path: out });
  console.log(`wrote ${out}`);
} finally {
  await w.close();
}
