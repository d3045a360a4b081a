// The Hub's routes: search (each result with its download options per quant, shard sizes summed), one repo's
// details, and downloads — started as operations (progress over /api/events; cancelling the operation pauses
// the download), listed from the library's downloads.json, paused, resumed and cancelled.
import type { IncomingMessage, ServerResponse } from "node:http";
import * as adapter from "./library-adapter.js";
import { HttpError, readJsonBody, sendJson } from "./http-json.js";
import { REPO_ID, SHORT_WORD, bad, boolField, onlyFields, stringField } from "./body-fields.js";
import type { ApiContext } from "./api-routes.js";
import { HUB_SORTS, type HubSort } from "../hub/hub-client.js";
import { keyOfCompletion, keyOfEntry, keyOfParams } from "./download-tracker.js";
import { isActive } from "../hub/download-state.js";

const KIND = /^[\w-]{1,40}$/;
const DOWNLOAD_ID = /^[\w-]{1,64}$/;
/** A file of a repo: relative, `/`-separated, no `..`, no backslash. */
const REPO_PATH = /^(?!\/)(?!.*(^|\/)\.\.?(\/|$))[^\\\0]{1,500}$/;

/** Aborts when the client goes away, so a search nobody waits for stops. */
function clientGone(res: ServerResponse): AbortSignal {
  const gone = new AbortController();
  res.on("close", () => gone.abort());
  return gone.signal;
}

export async function search(_req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<void> {
  const sp = url.searchParams;
  for (const key of sp.keys()) if (!["q", "kind", "sort", "limit", "refresh"].includes(key)) throw bad(`unknown parameter "${key.slice(0, 40)}" (q, kind, sort, limit, refresh)`);
  const query = sp.get("q") ?? "";
  if (query.length > 200) throw bad("q is longer than 200 characters");
  const kind = sp.get("kind") || null;
  if (kind !== null && !KIND.test(kind)) throw bad(`kind "${kind.slice(0, 40)}" is not a kind (llm, diffusion, audio, embedding or a Hub pipeline tag)`);
  const sort = sp.get("sort") || null;
  if (sort !== null && !HUB_SORTS.includes(sort as HubSort)) throw bad(`sort must be one of ${HUB_SORTS.join(", ")}`);
  const limitText = sp.get("limit") || "20";
  if (!/^\d{1,3}$/.test(limitText) || Number(limitText) < 1 || Number(limitText) > 100) throw bad("limit must be a whole number from 1 to 100");
  const refresh = ["1", "true"].includes(sp.get("refresh") ?? "");
  const result = await adapter.hubSearch(ctx.hub, { query, kind, sort: sort as HubSort | null, limit: Number(limitText), refresh }, clientGone(res));
  if (!res.destroyed) sendJson(res, 200, result);
}

export async function info(_req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<void> {
  const repo = url.searchParams.get("repo") ?? "";
  if (!REPO_ID.test(repo)) throw bad(`repo "${repo.slice(0, 100)}" is not a Hub repo id (owner/name)`);
  const rev = url.searchParams.get("rev") || "main";
  if (!SHORT_WORD.test(rev)) throw bad(`rev "${rev.slice(0, 64)}" is not a revision`);
  const r = await adapter.hubInfo(ctx.hub, repo, rev, clientGone(res));
  if (!res.destroyed) sendJson(res, 200, { model: r.model, commitSha: r.commitSha, revision: r.revision, libraryName: r.libraryName, cardData: r.cardData, files: r.files });
}

function startDownload(ctx: ApiContext, params: adapter.DownloadParams, key: string): string {
  const id = ctx.runner.start("download", (o) => adapter.download(ctx.library, ctx.hub, params, o), (r) => ({
    downloadId: r.downloadId,
    repoId: r.repoId,
    modelId: r.modelId,
    status: r.status,
    totalBytes: r.totalBytes,
    fetchedBytes: r.fetchedBytes,
    seconds: r.seconds,
  }));
  ctx.downloads.add(id, key, params.downloadId ?? null);
  void ctx.runner.whenEnded(id).then(() => ctx.downloads.remove(id));
  return id;
}

/**
 * POST /api/download { repoId, quant?, files?, revision? } → 202 { id, op: "download" }; or { completeModelId }
 * (`mlib download --complete ID`): the missing shards of a stored model, from the repo its metadata names.
 */
export async function download(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const body = await readJsonBody(req);
  onlyFields(body, ["repoId", "quant", "files", "revision", "completeModelId"]);
  if (body.completeModelId !== undefined && body.completeModelId !== null) return downloadMissing(body, res, ctx);
  const repoId = stringField(body, "repoId", { required: true, max: 200, pattern: REPO_ID, shape: "a Hub repo id, owner/name" })!;
  const quant = stringField(body, "quant", { max: 64, pattern: SHORT_WORD, shape: "a quant such as Q4_K_M" }) ?? null;
  const revision = stringField(body, "revision", { max: 64, pattern: SHORT_WORD, shape: "a branch, tag or commit" }) ?? null;
  let files: string[] | null = null;
  if (body.files !== undefined && body.files !== null) {
    if (!Array.isArray(body.files) || body.files.length === 0 || body.files.length > 1000) throw bad("files must be a list of 1 to 1000 paths in the repo");
    for (const f of body.files) if (typeof f !== "string" || !REPO_PATH.test(f)) throw bad(`"${String(f).slice(0, 100)}" is not a file path inside a repo`);
    files = body.files as string[];
  }
  const params: adapter.DownloadParams = { repoId, quant, files, revision };
  const key = keyOfParams(params);
  const running = ctx.downloads.opFor(key, null);
  if (running) throw new HttpError(409, "E_LOCKED", `this download of ${repoId} is already running (operation ${running})`);
  sendJson(res, 202, { id: startDownload(ctx, params, key), op: "download" });
}

/** GET /api/downloads: every recorded download; `operationId` on those this server is running. */
export async function list(_req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const entries = await adapter.downloads(ctx.library);
  const ops = ctx.downloads.match(entries);
  sendJson(res, 200, { downloads: entries.map((d) => ({ ...d, operationId: ops.get(d.download_id) ?? null })) });
}

async function downloadMissing(body: Record<string, unknown>, res: ServerResponse, ctx: ApiContext): Promise<void> {
  for (const other of ["repoId", "quant", "files"]) {
    if (body[other] !== undefined && body[other] !== null) throw bad(`completeModelId fetches the missing shards from the repo the model's metadata names: ${other} cannot be given with it`);
  }
  const given = stringField(body, "completeModelId", { required: true, max: 1000, shape: "a model id" })!;
  const modelId = ctx.library.require(given).id; // unknown: 404 now
  const revision = stringField(body, "revision", { max: 64, pattern: SHORT_WORD, shape: "a branch, tag or commit" }) ?? null;
  // No shard missing, or no repo known: refused now (400/404) rather than as a failed operation.
  const details = await adapter.modelDetails(ctx.library, modelId);
  if (details.missingShards.length === 0) throw bad(`${modelId}: no shard is missing`);
  if (!details.metadata.repo_id) throw new HttpError(404, "E_NOT_FOUND", `${modelId}: its Hub repo is not known; look it up first (a hash match fills repo_id)`);
  const key = keyOfCompletion(modelId);
  const running = ctx.downloads.opFor(key, null);
  if (running) throw new HttpError(409, "E_LOCKED", `the missing shards of ${modelId} are already being fetched (operation ${running})`);
  sendJson(res, 202, { id: startDownload(ctx, { repoId: "", completeModelId: modelId, revision }, key), op: "download" });
}

/** POST /api/lookup { ids?, force? } (`mlib lookup [ID...] [--force]`): the Hub repo of stored models, as an operation. */
export async function lookup(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const body = await readJsonBody(req);
  onlyFields(body, ["ids", "force"]);
  const ids = body.ids ?? [];
  if (!Array.isArray(ids) || ids.length > 10_000 || ids.some((x) => typeof x !== "string" || x.length > 1000 || x.includes("\0"))) {
    throw bad("ids must be a list of model ids (empty: every model still pending a lookup)");
  }
  const force = boolField(body, "force");
  adapter.requireModels(ctx.library, ids as string[]);
  const id = ctx.runner.start("lookup", (o) => adapter.lookup(ctx.library, ctx.hub, { ids: ids as string[], force }, o), (results) => ({
    matched: results.filter((r) => r.outcome === "matched").length,
    results: results.slice(0, 200),
  }));
  sendJson(res, 202, { id, op: "lookup" });
}

function downloadId(param: string): string {
  if (!DOWNLOAD_ID.test(param)) throw bad("invalid download id");
  return param;
}

/** The operation of this server running download `id`, if any. */
async function runningHere(ctx: ApiContext, id: string): Promise<string | null> {
  const ops = ctx.downloads.match(await adapter.downloads(ctx.library));
  return ops.get(id) ?? null;
}

export async function pause(_req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext, param: string): Promise<void> {
  const id = downloadId(param);
  const op = await runningHere(ctx, id);
  if (op) {
    ctx.runner.cancel(op); // downloadModel saves it as paused when its signal fires
    await ctx.runner.whenEnded(op);
    sendJson(res, 200, { downloadId: id, outcome: "paused" });
    return;
  }
  const [r] = await adapter.pauseDownload(ctx.library, id);
  sendJson(res, 200, r);
}

export async function cancel(_req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext, param: string): Promise<void> {
  const id = downloadId(param);
  const op = await runningHere(ctx, id);
  if (op) {
    // Paused first (its operation ends, its files stay consistent), then removed like any paused download.
    ctx.runner.cancel(op);
    await ctx.runner.whenEnded(op);
  }
  const [r] = await adapter.cancelDownload(ctx.library, id);
  sendJson(res, 200, r);
}

export async function resume(_req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext, param: string): Promise<void> {
  const id = downloadId(param);
  const entry = await adapter.findDownload(ctx.library, id);
  if (!entry) throw new HttpError(404, "E_NOT_FOUND", `no download ${id}`);
  const key = keyOfEntry(entry);
  const running = ctx.downloads.opFor(key, id);
  if (running) throw new HttpError(409, "E_LOCKED", `download ${id} is already running (operation ${running})`);
  // listDownloads shows a download whose runner died as paused: one still active is run by a live process
  if (isActive(entry.status)) throw new HttpError(409, "E_LOCKED", `download ${id} is ${entry.status} in another process (pid ${entry.runner?.pid ?? "?"})`);
  sendJson(res, 202, { id: startDownload(ctx, { repoId: entry.repo_id, downloadId: id }, key), op: "download" });
}
