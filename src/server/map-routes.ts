// The mapper's routes: the app profiles, the links made, preview/apply of a mapping into an app's models
// folder, and unlink. Apply and unlink change files in the app's folder: they run as operations (progress
// over /api/events, cancellable); preview reads only and answers at once.
import type { IncomingMessage, ServerResponse } from "node:http";
import * as adapter from "./library-adapter.js";
import { readJsonBody, sendJson } from "./http-json.js";
import { APP_ID, SHORT_WORD, absolutePathField, bad, boolField, choiceField, onlyFields, stringField } from "./body-fields.js";
import type { ApiContext } from "./api-routes.js";
import type { ApplyParams } from "../mapper/apply-mapping.js";

const CONFLICTS = ["skip", "rename", "overwrite"] as const;
const LINKS = ["auto", "symlink", "hardlink", "reflink", "copy"] as const;

export function listApps(_req: IncomingMessage, res: ServerResponse): void {
  sendJson(res, 200, { apps: adapter.apps() });
}

export async function listLinks(_req: IncomingMessage, res: ServerResponse, url: URL, ctx: ApiContext): Promise<void> {
  for (const key of url.searchParams.keys()) if (key !== "app" && key !== "model") throw bad(`unknown parameter "${key.slice(0, 40)}" (app, model)`);
  const app = url.searchParams.get("app") || null;
  const model = url.searchParams.get("model") || null;
  if (app !== null && !APP_ID.test(app)) throw bad(`app "${app.slice(0, 64)}" is not an app id`);
  if (model !== null && (model.length > 1000 || model.includes("\0"))) throw bad("invalid model id");
  sendJson(res, 200, { links: await adapter.links(ctx.library, { app, model }) });
}

/** POST /api/map { app, root, onConflict?, link?, appVersion?, dryRun? }: dryRun answers the preview; else apply starts. */
export async function map(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const body = await readJsonBody(req);
  onlyFields(body, ["app", "root", "onConflict", "link", "appVersion", "dryRun"]);
  const params: ApplyParams = {
    app: stringField(body, "app", { required: true, max: 64, pattern: APP_ID, shape: "an app id such as comfyui" })!,
    root: absolutePathField(body, "root"),
    onConflict: choiceField(body, "onConflict", CONFLICTS) ?? "skip",
    link: choiceField(body, "link", LINKS) ?? "auto",
    appVersion: stringField(body, "appVersion", { max: 64, pattern: SHORT_WORD, shape: "a version such as 0.3.10" }) ?? null,
  };
  if (boolField(body, "dryRun")) {
    sendJson(res, 200, { preview: await adapter.previewMap(ctx.library, params) });
    return;
  }
  const id = ctx.runner.start("map", (o) => adapter.applyMap(ctx.library, params, o), (r) => ({
    app: r.app,
    root: r.root,
    made: r.made.length,
    existing: r.existing,
    conflicts: r.conflicts.length,
    errors: r.errors.length,
    firstErrors: r.errors.slice(0, 20),
    movedAside: r.made.filter((m) => m.movedAside).map((m) => ({ target: m.target, movedAside: m.movedAside })).slice(0, 20),
  }));
  sendJson(res, 202, { id, op: "map" });
}

/** POST /api/unlink { app, root }: removes exactly the links we made for that app there. */
export async function unlink(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const body = await readJsonBody(req);
  onlyFields(body, ["app", "root"]);
  const params = {
    app: stringField(body, "app", { required: true, max: 64, pattern: APP_ID, shape: "an app id such as comfyui" })!,
    root: absolutePathField(body, "root"),
  };
  const id = ctx.runner.start("unlink", (o) => adapter.unlink(ctx.library, params, o), (r) => ({
    removed: r.removed,
    gone: r.gone,
    kept: r.kept,
    errors: r.errors.length,
    firstErrors: r.errors.slice(0, 20),
  }));
  sendJson(res, 202, { id, op: "unlink" });
}

/** The `{ app?, model? }` body of the link check and repair routes (both optional: every link). */
function linkFilter(body: Record<string, unknown>): { app: string | null; model: string | null } {
  onlyFields(body, ["app", "model"]);
  return {
    app: stringField(body, "app", { max: 64, pattern: APP_ID, shape: "an app id such as comfyui" }) ?? null,
    model: stringField(body, "model", { max: 1000 }) ?? null,
  };
}

/** POST /api/links/check { app?, model? } (`mlib links check`): each link's state, as an operation. */
export async function checkLinks(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const filter = linkFilter(await readJsonBody(req));
  const id = ctx.runner.start("links-check", (o) => adapter.linksCheck(ctx.library, filter, o), (r) => ({
    ok: r.ok,
    counts: r.counts,
    checked: r.links.length,
    // the links that are not healthy (the healthy ones are what GET /api/links lists)
    problems: r.links.filter((l) => l.status !== "healthy").slice(0, 200).map((l) => ({ target: l.entry.target, app: l.entry.app_id, modelId: l.entry.model_id, status: l.status, detail: l.detail })),
  }));
  sendJson(res, 202, { id, op: "links-check" });
}

/** POST /api/links/repair { app?, model? } (`mlib links repair`): re-make broken links of ours, forget the others. */
export async function repairLinks(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const filter = linkFilter(await readJsonBody(req));
  const id = ctx.runner.start("links-repair", (o) => adapter.linksRepair(ctx.library, filter, o), (r) => ({
    repaired: r.actions.length,
    healthy: r.healthy,
    errors: r.errors.length,
    actions: r.actions.slice(0, 200),
    firstErrors: r.errors.slice(0, 20),
  }));
  sendJson(res, 202, { id, op: "links-repair" });
}

/** POST /api/map/config { app, root, appVersion? } (`mlib map config`): ComfyUI's yaml written, or A1111/Forge flags. */
export async function mapConfig(req: IncomingMessage, res: ServerResponse, _url: URL, ctx: ApiContext): Promise<void> {
  const body = await readJsonBody(req);
  onlyFields(body, ["app", "root", "appVersion"]);
  const params = {
    app: stringField(body, "app", { required: true, max: 64, pattern: APP_ID, shape: "an app id such as comfyui" })!,
    root: absolutePathField(body, "root"),
    appVersion: stringField(body, "appVersion", { max: 64, pattern: SHORT_WORD, shape: "a version such as 0.3.10" }) ?? null,
  };
  // One file written (or nothing): it answers at once, as the preview does.
  sendJson(res, 200, await adapter.mapConfig(ctx.library, params));
}
