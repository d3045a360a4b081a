// `mlib serve`: the HTTP server on node:http. Every request is checked first (Host, Origin, token for what
// changes the library: request-guard.ts), then answered by the API (/api/...) or from the page's own
// in-memory assets; anything else is a 404. The server keeps one ModelLibrary open for its lifetime.
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { ModelLibrary } from "../store/model-library.js";
import { HttpError, sendError } from "./http-json.js";
import { allowedHosts, checkRequest, checkToken, isMutating, newToken, sameSecret, tokenCookieName, type GuardConfig } from "./request-guard.js";
import { assetFor, loadAssets, type Asset } from "./static-assets.js";
import { findRoute, type ApiContext } from "./api-routes.js";
import { FacetService } from "./facet-service.js";
import { modelFacets } from "./library-adapter.js";
import { OperationRunner } from "./operation-runner.js";
import { DownloadTracker } from "./download-tracker.js";
import { HubClient } from "../hub/hub-client.js";
import type { HubConfig } from "../hub/config.js";

export interface ServeOptions {
  library: ModelLibrary;
  /** Default 8765; 0 picks a free port. */
  port?: number;
  /** Default 127.0.0.1 (loopback only). */
  host?: string;
  /** Default: a new random token. */
  token?: string;
  /** Folder of the page's files (default: web/ beside this module). */
  webDir?: string;
  /** Where the Hub is and our Hub cache (default: from the environment, HF_ENDPOINT, HF_TOKEN, MLIB_CACHE_DIR...). */
  hub?: HubConfig;
}

export interface RunningServer {
  /** The page's URL with the token, as printed: opening it lets the page change the library. */
  url: string;
  /** The URL without the token. */
  origin: string;
  port: number;
  host: string;
  token: string;
  runner: OperationRunner;
  /** Stops accepting, cancels running operations, closes open streams; the library stays open (the caller's). */
  close(): Promise<void>;
}

export const DEFAULT_PORT = 8765;
export const DEFAULT_HOST = "127.0.0.1";

/** What the browser is told about every page and asset: only our own scripts, no framing, no referrer. */
const PAGE_HEADERS = {
  "content-security-policy": "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "x-frame-options": "DENY",
};

export async function startServer(options: ServeOptions): Promise<RunningServer> {
  const host = options.host ?? DEFAULT_HOST;
  const token = options.token ?? newToken();
  const assets = loadAssets(options.webDir);
  const runner = new OperationRunner();
  const hub = new HubClient(options.hub);
  const downloads = new DownloadTracker();
  // A server answers many filtered lists: in memory, from value lists and sort orders read once per data
  // version (index/filter-mask.ts), read now (~0.3 s at 100k models) rather than in the first user's request.
  options.library.index.prepareSearch();
  const facets = new FacetService(options.library.index.dbPath, (query, filters) => modelFacets(options.library, query, filters));
  // The page's first view asks for the whole library's facets: have them counted before it does.
  facets.get("", {}).catch(() => undefined);
  const guard: GuardConfig = { port: options.port ?? DEFAULT_PORT, host, token };
  let hosts = new Set<string>();

  const server = createServer((req, res) => {
    handle(req, res).catch((e: unknown) => sendError(res, e));
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    checkRequest(req, hosts);
    const url = new URL(req.url ?? "/", "http://localhost");
    const rawPath = (req.url ?? "/").split("?")[0];
    if (rawPath.startsWith("/api/")) {
      const route = findRoute(req.method ?? "GET", url.pathname);
      if (isMutating(req.method)) checkToken(req, guard);
      const ctx: ApiContext = { library: options.library, runner, facets, hub, downloads, authorized: hasToken(req) };
      await route.handler(req, res, url, ctx, route.param);
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") throw new HttpError(405, "E_METHOD", `${req.method} is not allowed on ${rawPath.slice(0, 100)}`);
    const asset = assetFor(assets, rawPath);
    if (!asset) throw new HttpError(404, "E_NOT_FOUND", "not found");
    // The printed URL carries the token once: it goes into a cookie, and the address bar loses it, so a
    // link copied from the page never holds it.
    const given = url.searchParams.get("token");
    if (given !== null && rawPath === "/") {
      url.searchParams.delete("token");
      const headers: Record<string, string> = { location: `/${url.search}`, "cache-control": "no-store" };
      if (sameSecret(given, token)) headers["set-cookie"] = `${tokenCookieName(guard.port)}=${encodeURIComponent(token)}; Path=/; HttpOnly; SameSite=Strict`;
      res.writeHead(302, headers);
      res.end();
      return;
    }
    sendAsset(req, res, asset);
  }

  function hasToken(req: IncomingMessage): boolean {
    try {
      checkToken(req, guard);
      return true;
    } catch {
      return false;
    }
  }

  try {
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(guard.port, host, () => {
        server.off("error", reject);
        resolve();
      });
    });
  } catch (e) {
    await facets.close(); // its worker thread would keep the process alive
    hub.close();
    throw e;
  }
  guard.port = (server.address() as AddressInfo).port;
  hosts = allowedHosts(guard);
  // Bound to every address (0.0.0.0, ::), the URL names this machine's loopback: "[::]" is no Host the guard accepts.
  const bare = host.replace(/^\[|\]$/g, "");
  const shownHost = bare === "0.0.0.0" ? "127.0.0.1" : bare === "::" ? "[::1]" : bare.includes(":") ? `[${bare}]` : bare;
  const origin = `http://${shownHost}:${guard.port}`;

  return {
    url: `${origin}/?token=${token}`,
    origin,
    port: guard.port,
    host,
    token,
    runner,
    async close() {
      await runner.stopAll();
      const closed = new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections(); // event streams never end by themselves
      await closed;
      await facets.close();
      hub.close();
    },
  };
}

function sendAsset(req: IncomingMessage, res: ServerResponse, asset: Asset): void {
  const headers = { ...PAGE_HEADERS, "content-type": asset.type, etag: asset.etag, "cache-control": "no-cache" };
  if (req.headers["if-none-match"] === asset.etag) {
    res.writeHead(304, headers);
    res.end();
    return;
  }
  res.writeHead(200, { ...headers, "content-length": asset.body.length });
  res.end(req.method === "HEAD" ? undefined : asset.body);
}

