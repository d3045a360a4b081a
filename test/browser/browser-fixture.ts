// A small real library (GGUF files of several architectures and quantizations, a safetensors checkpoint, a
// kohya LoRA, a diffusers folder — all written by the test helpers and imported by the real importer), served
// by the real server, and Debian's chromium driven by playwright-core. Tests skip with a message when
// /usr/bin/chromium is not installed.
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { ModelLibrary } from "../../src/store/model-library.js";
import { importModels } from "../../src/operations/import-models.js";
import { startServer, type RunningServer, type ServeOptions } from "../../src/server/server.js";
import { buildTinyLlamaGguf } from "../../src/demo/gguf-writer.js";
import { tempDir, writeSafetensorsModel, writeKohyaLora, writeDiffusersFolder, llamaTensors } from "../helpers/library-fixtures.js";
import { fakeHubConfig, startFakeHub, type FakeHub, type FakeHubOptions } from "../helpers/fake-hub.js";
import { mkdirSync, writeFileSync } from "node:fs";

export const CHROMIUM = "/usr/bin/chromium";
export const chromiumMissing = existsSync(CHROMIUM) ? false : `${CHROMIUM} is not installed (apt-get install -y chromium): browser tests skipped`;

// general.file_type numbers of llama.cpp: 7 Q8_0, 15 Q4_K_M, 17 Q5_K_M, 18 Q6_K, 1 F16.
const GGUFS: [string, string, string, number, number][] = [
  ["qwen2.5-7b-instruct-q4_k_m.gguf", "Qwen2.5 7B Instruct", "qwen2", 15, 32768],
  ["qwen2.5-coder-1.5b-q8_0.gguf", "Qwen2.5 Coder 1.5B", "qwen2", 7, 32768],
  ["llama-3.1-8b-instruct-q5_k_m.gguf", "Llama 3.1 8B Instruct", "llama", 17, 131072],
  ["gemma-2-9b-it-q6_k.gguf", "Gemma 2 9B it", "gemma2", 18, 8192],
  ["phi-3-mini-4k-instruct-f16.gguf", "Phi 3 mini 4k Instruct", "phi3", 1, 4096],
  ["mistral-nemo-12b-q4_k_m.gguf", "Mistral Nemo 12B", "llama", 15, 131072],
];

export async function writeSampleModels(dir: string): Promise<string[]> {
  const paths: string[] = [];
  for (const [file, name, architecture, fileType, contextLength] of GGUFS) {
    const p = join(dir, file);
    mkdirSync(dir, { recursive: true });
    writeFileSync(p, buildTinyLlamaGguf({ name, architecture, fileType, contextLength, embeddingLength: 32, blockCount: 2 }));
    paths.push(p);
  }
  paths.push(writeSafetensorsModel(join(dir, "tinyllama-1.1b-chat.safetensors"), llamaTensors(2, 32, 4)));
  paths.push(writeKohyaLora(join(dir, "pixel-art-style-lora.safetensors")));
  paths.push(writeDiffusersFolder(join(dir, "stable-diffusion-v1-5")));
  return paths;
}

export interface BrowserWorld {
  /** The world's temp folder (removed by close). */
  tmp: string;
  server: RunningServer;
  library: ModelLibrary;
  root: string;
  sources: string;
  browser: Browser;
  close(): Promise<void>;
}

/** `extra`: more server options (the fake Hub's config for the Hub view's tests). */
export async function openWorld(extra: Partial<ServeOptions> = {}): Promise<BrowserWorld> {
  const tmp = tempDir("mlib-browser-");
  const sources = join(tmp.dir, "sources");
  const paths = await writeSampleModels(sources);
  const root = join(tmp.dir, "library");
  const library = await ModelLibrary.open(root);
  await importModels(library, paths);
  const server = await startServer({ library, port: 0, ...extra });
  const { chromium } = await import("playwright-core");
  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"],
  });
  return {
    tmp: tmp.dir,
    server,
    library,
    root,
    sources,
    browser,
    async close() {
      await browser.close();
      await server.close();
      library.close();
      tmp.cleanup();
    },
  };
}

export interface OpenPage {
  page: Page;
  /** The page's uncaught script errors (other pages of the test may add theirs: `watchErrors`). */
  errors: string[];
  watchErrors(p: Page): void;
  /** Closes the page's context and asserts that no page threw a script error. */
  close(): Promise<void>;
}

/** A page in a fresh browser context, with its script errors collected. */
export async function openPage(w: BrowserWorld, viewport: { width: number; height: number }): Promise<OpenPage> {
  const context = await w.browser.newContext({ viewport });
  const page = await context.newPage();
  const errors: string[] = [];
  const watchErrors = (p: Page): void => void p.on("pageerror", (e) => errors.push(e.message));
  watchErrors(page);
  return {
    page,
    errors,
    watchErrors,
    async close() {
      await context.close();
      assert.deepEqual(errors, [], "no script errors on the page");
    },
  };
}

/** Waits for an element matching `selector` whose text matches `re`. */
export const waitText = (p: Page, selector: string, re: RegExp): Promise<void> => p.locator(selector, { hasText: re }).waitFor();

export interface HubPage {
  hub: FakeHub;
  world: BrowserWorld;
  tab: OpenPage;
  page: Page;
  /** Closes the page (asserting it threw no script error), the server and library, the Hub and its cache. */
  close(): Promise<void>;
}

/**
 * The library served with the fake Hub on loopback as its Hub, and a 1280x900 page on it: logged in (the token's
 * cookie) and showing the model list.
 */
export async function openHubPage(hubOptions: FakeHubOptions): Promise<HubPage> {
  const hub = await startFakeHub(hubOptions);
  const cacheDir = join(process.env.TMPDIR ?? "/tmp", `mlib-browser-hub-cache-${process.pid}-${Date.now()}`);
  const world = await openWorld({ hub: fakeHubConfig(hub, cacheDir) });
  const tab = await openPage(world, { width: 1280, height: 900 });
  await tab.page.goto(world.server.url);
  await tab.page.waitForSelector("table.models tbody tr");
  return {
    hub,
    world,
    tab,
    page: tab.page,
    async close() {
      try {
        await tab.close();
      } finally {
        await world.close();
        await hub.close();
        rmSync(cacheDir, { recursive: true, force: true });
      }
    },
  };
}
