// A real library (small real-format models imported through the real importer) served by the real server on
// a free loopback port, and a raw HTTP client that sends exactly the path and headers given (fetch would
// normalize `..` away before it reaches the server).
import { request as httpRequest } from "node:http";
import { join } from "node:path";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { importModels } from "../../../src/operations/import-models.js";
import { startServer, type RunningServer, type ServeOptions } from "../../../src/server/server.js";
import { tempDir, writeGgufModel, writeSafetensorsModel, llamaTensors } from "../../helpers/library-fixtures.js";

export interface Served {
  /** A temp folder of the test's own (removed by close). */
  tmp: string;
  server: RunningServer;
  library: ModelLibrary;
  root: string;
  sources: string;
  ids: string[];
  close(): Promise<void>;
}

/** `extra`: more server options (the Hub's config for the Hub routes' tests). */
export async function serveLibrary(extra: Partial<ServeOptions> = {}): Promise<Served> {
  const tmp = tempDir("mlib-server-");
  const sources = join(tmp.dir, "sources");
  writeGgufModel(join(sources, "qwen2.5-7b-instruct-q4_k_m.gguf"), "Qwen2.5 7B Instruct", 1);
  writeGgufModel(join(sources, "llama-3-8b-q4_k_m.gguf"), "Llama 3 8B", 2);
  writeSafetensorsModel(join(sources, "mistral-7b.safetensors"), llamaTensors(2, 16, 5));
  const root = join(tmp.dir, "library");
  const library = await ModelLibrary.open(root);
  const results = await importModels(library, [sources]);
  const ids = results.map((r) => r.modelId).filter((x): x is string => x !== null).sort();
  const server = await startServer({ library, port: 0, ...extra });
  return {
    tmp: tmp.dir,
    server,
    library,
    root,
    sources,
    ids,
    async close() {
      await server.close();
      library.close();
      tmp.cleanup();
    },
  };
}

export interface RawResponse {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  body: string;
  json: () => unknown;
}

/** One HTTP request with the raw path and headers given (Host defaults to 127.0.0.1:port). */
export function raw(port: number, method: string, path: string, options: { headers?: Record<string, string>; body?: string | Buffer } = {}): Promise<RawResponse> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: "127.0.0.1", port, method, path, headers: { host: `127.0.0.1:${port}`, ...options.headers } }, (res) => {
      const chunks: Buffer[] = [];
      res.on("data", (c: Buffer) => chunks.push(c));
      res.on("end", () => {
        const body = Buffer.concat(chunks).toString("utf8");
        resolve({ status: res.statusCode ?? 0, headers: res.headers, body, json: () => JSON.parse(body) });
      });
    });
    req.on("error", reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

/** A JSON request carrying the token, as the page's own requests do. */
export function api(s: Served, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<RawResponse> {
  return raw(s.server.port, method, path, {
    headers: { "x-mlib-token": s.server.token, ...(body !== undefined ? { "content-type": "application/json" } : {}), ...headers },
    body: body !== undefined ? JSON.stringify(body) : undefined,
  });
}

export const enc = encodeURIComponent;

/** Opens /api/events and collects events until `until` says stop (or times out). */
export function collectEvents(port: number, until: (e: Record<string, unknown>, all: Record<string, unknown>[]) => boolean, timeoutMs = 10_000): { ready: Promise<void>; done: Promise<Record<string, unknown>[]> } {
  let markReady: () => void = () => undefined;
  const ready = new Promise<void>((r) => (markReady = r));
  const done = new Promise<Record<string, unknown>[]>((resolve, reject) => {
    const events: Record<string, unknown>[] = [];
    const req = httpRequest({ host: "127.0.0.1", port, path: "/api/events", headers: { host: `127.0.0.1:${port}` } }, (res) => {
      markReady();
      let buffer = "";
      res.setEncoding("utf8");
      res.on("data", (chunk: string) => {
        buffer += chunk;
        let cut;
        while ((cut = buffer.indexOf("\n\n")) >= 0) {
          const block = buffer.slice(0, cut);
          buffer = buffer.slice(cut + 2);
          for (const line of block.split("\n")) {
            if (!line.startsWith("data: ")) continue;
            const e = JSON.parse(line.slice(6)) as Record<string, unknown>;
            events.push(e);
            if (until(e, events)) {
              clearTimeout(timer);
              req.destroy();
              resolve(events);
              return;
            }
          }
        }
      });
    });
    const timer = setTimeout(() => {
      req.destroy();
      reject(new Error(`no final event within ${timeoutMs} ms; got ${JSON.stringify(events).slice(0, 500)}`));
    }, timeoutMs);
    req.on("error", (e) => {
      if (!req.destroyed) reject(e);
    });
    req.end();
  });
  return { ready, done };
}
