// The page's own files, read into memory once at start-up from the web/ folder beside this module. A
// request is answered only when its path is exactly one of those names (or one of the page's own routes,
// which all get index.html): no request path ever reaches the filesystem, so `..`, `%2e%2e`, encoded
// slashes or absolute paths can name nothing else.
import { readFileSync } from "node:fs";
import { createHash } from "node:crypto";
import { join, extname } from "node:path";
import { fileURLToPath } from "node:url";
import { walkFoldersSync } from "../core/walk.js";

export interface Asset {
  body: Buffer;
  type: string;
  etag: string;
}

const TYPES: Record<string, string> = {
  ".html": "text/html; charset=utf-8",
  ".js": "text/javascript; charset=utf-8",
  ".css": "text/css; charset=utf-8",
  ".svg": "image/svg+xml",
  ".png": "image/png",
  ".ico": "image/x-icon",
  ".json": "application/json; charset=utf-8",
};

/** The routes of the single page: each is answered with index.html, the page reads the rest from the URL. */
export const PAGE_ROUTES = new Set(["/", "/model", "/stats", "/actions", "/apps", "/hub"]);

export function defaultWebDir(): string {
  return fileURLToPath(new URL("./web/", import.meta.url));
}

/** Every file under `dir` (no dot-files), keyed by its URL path ("/app.js", "/views/list.js"). */
export function loadAssets(dir: string = defaultWebDir()): Map<string, Asset> {
  const assets = new Map<string, Asset>();
  walkFoldersSync(dir, ({ abs, rel, entries }) => {
    for (const entry of entries) {
      if (!entry.isFile() || !TYPES[extname(entry.name)]) continue;
      const body = readFileSync(join(abs, entry.name));
      const etag = `"${createHash("sha256").update(body).digest("base64url").slice(0, 22)}"`;
      assets.set(`${rel ? `/${rel}` : ""}/${entry.name}`, { body, type: TYPES[extname(entry.name)], etag });
    }
  });
  if (!assets.has("/index.html")) throw new Error(`${dir}: the web page's index.html is missing`);
  return assets;
}

/** The asset for a request path (the raw, still-encoded path without the query), or null. */
export function assetFor(assets: Map<string, Asset>, rawPath: string): Asset | null {
  if (PAGE_ROUTES.has(rawPath)) return assets.get("/index.html") ?? null;
  if (rawPath === "/index.html") return null; // one URL per page: "/"
  return assets.get(rawPath) ?? null;
}
