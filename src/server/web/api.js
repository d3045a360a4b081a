// The page's calls to the JSON API. The token travels in the HttpOnly cookie the server set when the printed
// URL was opened; the page never sees it. Errors come back as { code, message } and are thrown as ApiError.

export class ApiError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function call(method, path, body, signal) {
  const init = { method, signal, credentials: "same-origin", headers: {} };
  if (body !== undefined) {
    init.headers["content-type"] = "application/json";
    init.body = JSON.stringify(body);
  }
  let res;
  try {
    res = await fetch(path, init);
  } catch (e) {
    if (e.name === "AbortError") throw e;
    // fetch says only "Failed to fetch" (TypeError) when nothing answers: most often `mlib serve` was stopped
    throw new ApiError(0, "E_OFFLINE", `The server does not answer (${location.host}): is \`mlib serve\` still running? Start it again and reload the page.`);
  }
  const text = await res.text();
  let data = null;
  try {
    data = text ? JSON.parse(text) : null;
  } catch {
    data = null;
  }
  if (!res.ok) throw new ApiError(res.status, data?.code ?? `HTTP_${res.status}`, data?.message ?? `${method} ${path}: HTTP ${res.status}`);
  return data;
}

/** `?q=..&type=a&type=b...` from a state object whose list values repeat. */
export function queryString(params) {
  const sp = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (Array.isArray(value)) for (const v of value) sp.append(key, v);
    else if (value !== undefined && value !== null && value !== "") sp.set(key, String(value));
  }
  const s = sp.toString();
  return s ? `?${s}` : "";
}

export const api = {
  session: () => call("GET", "/api/session"),
  models: (params, signal) => call("GET", `/api/models${queryString(params)}`, undefined, signal),
  facets: (params, signal) => call("GET", `/api/facets${queryString(params)}`, undefined, signal),
  model: (id) => call("GET", `/api/models/${encodeURIComponent(id)}`),
  edit: (id, fields) => call("PATCH", `/api/models/${encodeURIComponent(id)}`, fields),
  remove: (id, cascade) => call("DELETE", `/api/models/${encodeURIComponent(id)}${cascade ? "?cascade=1" : ""}`),
  stats: () => call("GET", "/api/stats"),
  importPaths: (paths, options) => call("POST", "/api/import", { paths, ...options }),
  verify: (ids) => call("POST", "/api/verify", { ids }),
  redetect: (ids) => call("POST", "/api/redetect", { ids }),
  operations: () => call("GET", "/api/operations"),
  operation: (id) => call("GET", `/api/operations/${encodeURIComponent(id)}`),
  cancel: (id) => call("POST", `/api/operations/${encodeURIComponent(id)}/cancel`),
  apps: () => call("GET", "/api/apps"),
  links: (params) => call("GET", `/api/links${queryString(params ?? {})}`),
  previewMap: (body) => call("POST", "/api/map", { ...body, dryRun: true }),
  applyMap: (body) => call("POST", "/api/map", body),
  unlink: (app, root) => call("POST", "/api/unlink", { app, root }),
  mapConfig: (body) => call("POST", "/api/map/config", body),
  linksCheck: (filter) => call("POST", "/api/links/check", filter ?? {}),
  linksRepair: (filter) => call("POST", "/api/links/repair", filter ?? {}),
  lookup: (ids, force) => call("POST", "/api/lookup", { ids, force: Boolean(force) }),
  completeDownload: (modelId) => call("POST", "/api/download", { completeModelId: modelId }),
  hubSearch: (params, signal) => call("GET", `/api/hub/search${queryString(params)}`, undefined, signal),
  hubInfo: (repo) => call("GET", `/api/hub/info${queryString({ repo })}`),
  download: (body) => call("POST", "/api/download", body),
  downloads: () => call("GET", "/api/downloads"),
  controlDownload: (id, action) => call("POST", `/api/downloads/${encodeURIComponent(id)}/${action}`),
};
