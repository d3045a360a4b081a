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
