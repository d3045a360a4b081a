// The JSON API: one route per operation, the params and results of the operations layer (through
// library-adapter.ts). Reads answer at once; long operations answer { id } and report over /api/events.
import type { IncomingMessage, ServerResponse } from "node:http";
import { isAbsolute } from "node:path";
import type { ModelLibrary } from "../store/model-library.js";
import { ModelLibraryError } from "../core/errors.js";
import type { ImportMode } from "../operations/import-models.js";
import type { OperationOptions } from "../operations/types.js";
import * as adapter from "./library-adapter.js";
import { HttpError, readJsonBody, sendJson } from "./http-json.js";
import { parseSearchParams } from "./search-params.js";
import type { FacetService } from "./facet-service.js";
import type { OperationRunner } from "./operation-runner.js";
import { openEventStream } from "./event-stream.js";
import type { HubClient } from "../hub/hub-client.js";
import type { DownloadTracker } from "./download-tracker.js";
import * as mapRoutes from "./map-routes.js";
import * as hubRoutes from "./hub-routes.js";

export interface ApiContext {
  library: ModelLibrary;
  runner: OperationRunner;
  facets: FacetService;
  /** The Hub client (HF_ENDPOINT, HF_TOKEN... of the server's environment) and the downloads this server runs. */
  hub: HubClient;
  downloads: DownloadTracker;
  /** Whether this request carries the token (mutating routes are refused before they get here without it). */
  authorized: boolean;
}

type Handler = (req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext, param: string) => Promise<void> | void;

interface Route {
  method: string;
  /** Exact path, or a prefix ending in "/" whose rest is the route's parameter (a model id, an operation id). */
  path: string;
  suffix?: string;
  handler: Handler;
}

const MODELS = "/api/models/";
const OPERATIONS = "/api/operations/";
const DOWNLOADS = "/api/downloads/";

const ROUTES: Route[] = [
  { method: "GET", path: "/api/models", handler: listModels },
  { method: "GET", path: "/api/facets", handler: facets },
  { method: "GET", path: "/api/stats", handler: (_q, res, _u, ctx) => sendJson(res, 200, adapter.libraryStats(ctx.library)) },
  { method: "GET", path: "/api/session", handler: session },
  { method: "GET", path: MODELS, handler: showModel },
  { method: "PATCH", path: MODELS, handler: editModel },
  { method: "DELETE", path: MODELS, handler: deleteModel },
  { method: "POST", path: "/api/import", handler: startImport },
  { method: "POST", path: "/api/verify", handler: (req, res, _u, ctx) => startOnIds(req, res, ctx, "verify", adapter.verify, verifySummary) },
  { method: "POST", path: "/api/redetect", handler: (req, res, _u, ctx) => startOnIds(req, res, ctx, "redetect", adapter.redetect, redetectSummary) },
  { method: "GET", path: "/api/apps", handler: mapRoutes.listApps },
  { method: "GET", path: "/api/links", handler: mapRoutes.listLinks },
  { method: "POST", path: "/api/map", handler: mapRoutes.map },
  { method: "POST", path: "/api/unlink", handler: mapRoutes.unlink },
  { method: "POST", path: "/api/map/config", handler: mapRoutes.mapConfig },
  { method: "POST", path: "/api/links/check", handler: mapRoutes.checkLinks },
  { method: "POST", path: "/api/links/repair", handler: mapRoutes.repairLinks },
  { method: "POST", path: "/api/lookup", handler: hubRoutes.lookup },
  { method: "GET", path: "/api/hub/search", handler: hubRoutes.search },
  { method: "GET", path: "/api/hub/info", handler: hubRoutes.info },
  { method: "POST", path: "/api/download", handler: hubRoutes.download },
  { method: "GET", path: "/api/downloads", handler: hubRoutes.list },
  { method: "POST", path: DOWNLOADS, suffix: "/pause", handler: hubRoutes.pause },
  { method: "POST", path: DOWNLOADS, suffix: "/resume", handler: hubRoutes.resume },
  { method: "POST", path: DOWNLOADS, suffix: "/cancel", handler: hubRoutes.cancel },
  { method: "GET", path: "/api/events", handler: (req, res, _u, ctx) => openEventStream(req, res, ctx.runner) },
  { method: "GET", path: "/api/operations", handler: (_q, res, _u, ctx) => sendJson(res, 200, { operations: ctx.runner.list() }) },
  { method: "GET", path: OPERATIONS, handler: showOperation },
  { method: "POST", path: OPERATIONS, suffix: "/cancel", handler: cancelOperation },
];

/** Finds the route for a request; 404 for an unknown path, 405 for a known path with another method. */
export function findRoute(method: string, pathname: string): { handler: Handler; param: string } {
  let pathKnown = false;
  for (const route of ROUTES) {
    let param = "";
    if (route.path.endsWith("/")) {
      if (!pathname.startsWith(route.path) || pathname.length === route.path.length) continue;
      param = pathname.slice(route.path.length);
      if (route.suffix) {
        if (!param.endsWith(route.suffix)) continue;
        param = param.slice(0, -route.suffix.length);
      } else if (route.path === OPERATIONS && param.includes("/")) continue;
      if (route.path === DOWNLOADS && param.includes("/")) continue;
    } else if (pathname !== route.path) continue;
    pathKnown = true;
    if (route.method === method || (method === "HEAD" && route.method === "GET")) return { handler: route.handler, param };
  }
  if (pathKnown) throw new HttpError(405, "E_METHOD", `${method} is not allowed on ${pathname}`);
  throw new HttpError(404, "E_NOT_FOUND", `no API route ${pathname}`);
}

async function listModels(_req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<void> {
  const { query, options } = parseSearchParams(url.searchParams);
  const result = await adapter.searchModels(ctx.library, query, options);
  sendJson(res, 200, { models: result.models, totalCount: result.totalCount, queryTimeMs: result.queryTimeMs });
}

async function facets(req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<void> {
  const { query, filters } = parseSearchParams(url.searchParams);
  // A client that goes away (the page asks again for the next keystroke) no longer needs its facets counted.
  const gone = new AbortController();
  res.on("close", () => gone.abort());
  const result = await ctx.facets.get(query, filters, gone.signal);
  if (!res.destroyed) sendJson(res, 200, result);
}

function session(_req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): void {
  sendJson(res, 200, { authorized: ctx.authorized, library: ctx.library.root, hub: ctx.hub.config.endpoint, available: { map: true, download: true, links: true, hub: true } });
}

/** The model id of a route: percent-decoded ("llm%2Fqwen%2Fx" and "llm/qwen/x" both work). */
function modelId(param: string): string {
  let id: string;
  try {
    id = decodeURIComponent(param);
  } catch {
    throw new HttpError(400, "E_USAGE", "the model id is not valid percent-encoding");
  }
  if (id.length > 1000 || id.includes("\0")) throw new HttpError(400, "E_USAGE", "invalid model id");
  return id;
}

async function showModel(_req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext, param: string): Promise<void> {
  sendJson(res, 200, await adapter.modelDetails(ctx.library, modelId(param)));
}

async function editModel(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext, param: string): Promise<void> {
  const body = await readJsonBody(req);
  for (const key of Object.keys(body)) if (!["name", "tags", "notes"].includes(key)) throw new HttpError(400, "E_USAGE", `unknown field "${key.slice(0, 40)}" (name, tags, notes)`);
  const result = await adapter.editModelFields(ctx.library, {
    id: modelId(param),
    name: body.name as string | undefined,
    tags: body.tags as string[] | undefined,
    notes: body.notes as string | null | undefined,
  });
  sendJson(res, 200, result);
}

async function deleteModel(_req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext, param: string): Promise<void> {
  const cascade = ["1", "true"].includes(url.searchParams.get("cascade") ?? "");
  const id = modelId(param);
  try {
    sendJson(res, 200, { deleted: true, ...(await adapter.removeModel(ctx.library, { id, cascade })) });
  } catch (e) {
    // A linked model without cascade=1 (as `mlib rm` without --cascade): 409, with the links it has.
    if (!(e instanceof ModelLibraryError) || e.code !== "E_LINKED") throw e;
    const links = await adapter.links(ctx.library, { model: id });
    sendJson(res, 409, { code: e.code, message: e.message, links: links.map((l) => ({ target: l.target, app: l.app_id, linkType: l.link_type })) });
  }
}

const MODES: ImportMode[] = ["copy", "move", "hardlink", "reflink"];

async function startImport(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const body = await readJsonBody(req);
  const paths = body.paths;
  if (!Array.isArray(paths) || paths.length === 0 || paths.length > 100) throw new HttpError(400, "E_USAGE", "paths must be a list of 1 to 100 paths on this machine");
  for (const p of paths) {
    if (typeof p !== "string" || !isAbsolute(p) || p.length > 4096 || p.includes("\0")) {
      throw new HttpError(400, "E_USAGE", `"${String(p).slice(0, 100)}" is not an absolute path`);
    }
  }
  const mode = body.mode ?? "copy";
  if (!MODES.includes(mode as ImportMode)) throw new HttpError(400, "E_USAGE", `mode must be one of ${MODES.join(", ")}`);
  const flag = (name: string): boolean => {
    if (body[name] === undefined) return false;
    if (typeof body[name] !== "boolean") throw new HttpError(400, "E_USAGE", `${name} must be true or false`);
    return body[name] as boolean;
  };
  const params: adapter.ImportParams = {
    paths: paths as string[],
    mode: mode as ImportMode,
    allowPickle: flag("allowPickle"),
    allowDuplicate: flag("allowDuplicate"),
    allowIncomplete: flag("allowIncomplete"),
  };
  const id = ctx.runner.start("import", (o) => adapter.importPaths(ctx.library, params, o), ({ results, imported, duplicates, failed }) => ({
    imported,
    duplicates,
    failed,
    models: results.map((r) => ({ source: r.source, status: r.status, modelId: r.modelId, duplicateOf: r.duplicateOf, error: r.error })).slice(0, 100),
  }));
  sendJson(res, 202, { id, op: "import" });
}

async function startOnIds<T>(
  req: IncomingMessage,
  res: ServerResponse,
  ctx: ApiContext,
  op: string,
  run: (library: ModelLibrary, params: { ids: string[] }, options: OperationOptions) => Promise<T>,
  summarize: (result: T) => unknown,
): Promise<void> {
  const body = await readJsonBody(req);
  const ids = body.ids ?? [];
  if (!Array.isArray(ids) || ids.some((x) => typeof x !== "string") || ids.length > 100_000) throw new HttpError(400, "E_USAGE", "ids must be a list of model ids (empty: every model)");
  adapter.requireModels(ctx.library, ids as string[]); // an unknown id is a 404 now, not a failed operation later
  // The same work twice at once (a double click on "Verify all") would read every byte of the library twice.
  const key = `${op}:${[...(ids as string[])].sort().join("\n")}`;
  const running = ctx.runner.runningWith(key);
  if (running) {
    const what = ids.length === 0 ? "every model" : ids.length === 1 ? String(ids[0]) : `these ${ids.length} models`;
    throw new HttpError(409, "E_LOCKED", `a ${op} of ${what} is already running (operation ${running}); wait for it or cancel it`);
  }
  const id = ctx.runner.start(op, (o) => run(ctx.library, { ids: ids as string[] }, o), summarize, key);
  sendJson(res, 202, { id, op });
}

function verifySummary(r: adapter.VerifySummary): unknown {
  return { ok: r.ok, failed: r.failed, failures: r.results.filter((x) => !x.ok).slice(0, 100) };
}

function redetectSummary(r: adapter.RedetectSummary): unknown {
  return { changed: r.changed, unchanged: r.results.length - r.changed - r.errors, errors: r.errors };
}

function showOperation(_req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext, param: string): void {
  const info = ctx.runner.get(param);
  if (!info) throw new HttpError(404, "E_NOT_FOUND", `no operation ${param.slice(0, 40)}`);
  sendJson(res, 200, info);
}

function cancelOperation(_req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext, param: string): void {
  const info = ctx.runner.get(param);
  if (!info) throw new HttpError(404, "E_NOT_FOUND", `no operation ${param.slice(0, 40)}`);
  const cancelled = ctx.runner.cancel(param);
  sendJson(res, cancelled ? 202 : 409, { id: param, cancelling: cancelled, state: info.state });
}
