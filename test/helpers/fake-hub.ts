// A fake Hugging Face Hub for the tests and the download benchmark: two real HTTP servers on 127.0.0.1,
// the Hub (the JSON API and `resolve`) and a second origin standing for the CDN, shaped like the real
// huggingface.co: /api/models with Link pagination, model info by revision, the tree
// (recursive, paginated), `resolve` answering LFS files with a 302 to the CDN carrying X-Linked-Etag /
// X-Linked-Size / X-Repo-Commit, and the CDN serving bytes with Range / 206 / Content-Range.
// Faults are switched on per test: a body dropped mid-way, 429 with Retry-After, 5xx, wrong bytes, Range
// ignored, a wrong Content-Range, stalls, gated repos; on the Hub's own routes a status or a dropped connection. Every request is logged (with its Authorization).
import type { HubConfig } from "../../src/hub/config.js";
import { createHash, randomBytes } from "node:crypto";
import { createReadStream, readFileSync, statSync } from "node:fs";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface FakeFile {
  path: string;
  /** In-memory content, or `file`: a path on disk served by streaming (the benchmark's 1 GiB file). */
  content?: Buffer;
  file?: string;
  /** Stored in Git LFS (served through the CDN). Default: true for files of 1 KiB and more. */
  lfs?: boolean;
  /** For `file` content, its SHA-256 if already known (saves hashing a large file). */
  sha256?: string;
}

export interface FakeRepo {
  id: string;
  files: FakeFile[];
  sha?: string;
  tags?: string[];
  pipeline_tag?: string;
  library_name?: string;
  config?: Record<string, unknown>;
  cardData?: Record<string, unknown>;
  downloads?: number;
  likes?: number;
  lastModified?: string;
  /** A gated repo: everything needs `Authorization: Bearer <token>` (401 without, 403 with another token). */
  gatedToken?: string;
  /** Old ids answered with a relative 307 to this repo (a renamed repo). */
  aliases?: string[];
}

/** A fault fires on the next `times` matching requests (default 1), then switches itself off. */
export interface Fault {
  kind: "drop" | "status" | "wrong-bytes" | "ignore-range" | "bad-content-range" | "stall";
  /** Where: "cdn" (default) or "hub" (the API and resolve). */
  on?: "cdn" | "hub";
  times?: number;
  /** Only requests whose path contains this. */
  match?: string;
  /** Only requests whose Range header contains this (e.g. "bytes=16777216-" for one part). */
  matchRange?: string;
  /** drop/stall: after this many body bytes (default 0). */
  afterBytes?: number;
  /** status: the code (429, 500, 503...). */
  status?: number;
  /** status: the Retry-After header value. */
  retryAfter?: string;
  /** stall: how long no byte is sent (then the body goes on). */
  stallMs?: number;
}

export interface LoggedRequest {
  origin: "hub" | "cdn";
  method: string;
  url: string;
  range: string | null;
  authorization: string | null;
  status: number;
  /** When it arrived (ms since the epoch). */
  at: number;
}

interface StoredFile {
  path: string;
  size: number;
  sha256: string;
  gitSha1: string;
  lfs: boolean;
  content?: Buffer;
  file?: string;
}

interface StoredRepo extends FakeRepo {
  sha: string;
  stored: StoredFile[];
}

export interface FakeHub {
  url: string;
  cdnUrl: string;
  requests: LoggedRequest[];
  faults: Fault[];
  addRepo(repo: FakeRepo): void;
  close(): Promise<void>;
}

export interface FakeHubOptions {
  repos?: FakeRepo[];
  /** Items per page of /api/models and of the tree (the client must follow Link headers). Default 2. */
  pageSize?: number;
}

export async function startFakeHub(options: FakeHubOptions = {}): Promise<FakeHub> {
  const pageSize = options.pageSize ?? 2;
  const repos = new Map<string, StoredRepo>();
  const aliases = new Map<string, string>();
  const blobs = new Map<string, StoredFile>();
  const requests: LoggedRequest[] = [];
  const faults: Fault[] = [];

  const addRepo = (r: FakeRepo): void => {
    const stored: StoredFile[] = r.files.map((f) => {
      const size = f.content ? f.content.length : statSync(f.file!).size;
      const sha256 = f.sha256 ?? (f.content ? createHash("sha256").update(f.content).digest("hex") : hashFileSync(f.file!));
      const lfs = f.lfs ?? size >= 1024;
      // A plain git file's tree oid is its git blob sha1 (clients check downloads with it); an LFS file's stands for
      // its pointer's (not computed here: nothing checks it).
      const bytes = f.content ?? (lfs ? Buffer.from(sha256) : readFileSync(f.file!));
      const gitSha1 = createHash("sha1").update(`blob ${size}\0`).update(bytes).digest("hex");
      const s: StoredFile = { path: f.path, size, sha256, gitSha1, lfs, content: f.content, file: f.file };
      blobs.set(sha256, s);
      return s;
    });
    const sha = r.sha ?? createHash("sha1").update(r.id + JSON.stringify(stored.map((s) => s.sha256))).digest("hex");
    repos.set(r.id, { ...r, sha, stored });
    for (const a of r.aliases ?? []) aliases.set(a, r.id);
  };
  for (const r of options.repos ?? []) addRepo(r);

  const takeFault = (origin: "hub" | "cdn", url: string, kinds: Fault["kind"][], range: string | undefined = undefined): Fault | null => {
    const i = faults.findIndex(
      (f) => (f.on ?? "cdn") === origin && kinds.includes(f.kind) && (!f.match || url.includes(f.match)) && (!f.matchRange || (range ?? "").includes(f.matchRange)),
    );
    if (i < 0) return null;
    const f = faults[i];
    f.times = (f.times ?? 1) - 1;
    if (f.times <= 0) faults.splice(i, 1);
    return f;
  };

  let hubUrl = "";
  let cdnUrl = "";

  const log = (origin: "hub" | "cdn", req: IncomingMessage, res: ServerResponse): void => {
    const entry: LoggedRequest = {
      origin,
      method: req.method ?? "GET",
      url: req.url ?? "",
      range: req.headers.range ?? null,
      authorization: req.headers.authorization ?? null,
      status: 0,
      at: Date.now(),
    };
    requests.push(entry);
    res.on("finish", () => (entry.status = res.statusCode));
    res.on("close", () => (entry.status ||= res.statusCode));
  };

  const bodyFaults = new WeakMap<ServerResponse, Fault>();
  const sendJson = (res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void => {
    const text = JSON.stringify(body);
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "Content-Length": Buffer.byteLength(text), ...headers });
    const f = bodyFaults.get(res);
    if (!f) return void res.end(text);
    const bytes = Buffer.from(text);
    void pump(chunksOf(bytes), res, { wrong: null, drop: f.kind === "drop" ? f : null, stall: f.kind === "stall" ? f : null });
  };
  const sendError = (res: ServerResponse, status: number, code: string, message: string): void => {
    res.writeHead(status, { "Content-Type": "application/json; charset=utf-8", "X-Error-Code": code, "X-Error-Message": message });
    res.end(JSON.stringify({ error: message }));
  };

  // Gated repos: 401 without a token (the Hub's answer for missing, private and gated repos alike), 403 with a wrong one.
  const authorized = (repo: StoredRepo, req: IncomingMessage, res: ServerResponse): boolean => {
    if (!repo.gatedToken) return true;
    const auth = req.headers.authorization;
    if (!auth) {
      sendError(res, 401, "GatedRepo", `Access to model ${repo.id} is restricted. You must have access to it and be authenticated to access it.`);
      return false;
    }
    if (auth !== `Bearer ${repo.gatedToken}`) {
      sendError(res, 403, "GatedRepo", `Access to model ${repo.id} is restricted and you are not in the authorized list.`);
      return false;
    }
    return true;
  };

  const apiItem = (r: StoredRepo, expand: string[]): Record<string, unknown> => {
    const full: Record<string, unknown> = {
      _id: createHash("md5").update(r.id).digest("hex").slice(0, 24),
      id: r.id,
      modelId: r.id,
      author: r.id.split("/")[0],
      sha: r.sha,
      private: false,
      gated: r.gatedToken ? "manual" : false,
      disabled: false,
      downloads: r.downloads ?? 0,
      likes: r.likes ?? 0,
      tags: r.tags ?? [],
      pipeline_tag: r.pipeline_tag,
      library_name: r.library_name,
      lastModified: r.lastModified ?? "2025-01-01T00:00:00.000Z",
      createdAt: "2024-01-01T00:00:00.000Z",
      config: r.config,
      cardData: r.cardData,
      siblings: r.stored.map((s) => ({ rfilename: s.path })),
    };
    if (expand.length === 0) return full;
    const out: Record<string, unknown> = { _id: full._id, id: r.id };
    for (const k of expand) if (k in full) out[k] = full[k];
    return out;
  };

  const handleHub = (req: IncomingMessage, res: ServerResponse): void => {
    log("hub", req, res);
    const u = new URL(req.url ?? "/", hubUrl);
    const fault = takeFault("hub", u.pathname + u.search, ["status", "drop", "stall"]);
    if (fault && fault.kind !== "status") {
      // A JSON answer cut short or stalled after `afterBytes` of its body; a drop at 0: closed without an answer.
      if (fault.kind === "drop" && !fault.afterBytes) {
        req.socket.destroy();
        return;
      }
      bodyFaults.set(res, fault);
    }
    if (fault?.kind === "status") {
      res.writeHead(fault.status ?? 500, fault.retryAfter ? { "Retry-After": fault.retryAfter } : {});
      res.end("fault");
      return;
    }
    const path = decodeURIComponent(u.pathname);
    if (path === "/api/models") return listModelsRoute(u, res);
    let m = /^\/api\/models\/(.+?)\/tree\/([^/]+)(?:\/(.*))?$/.exec(u.pathname);
    if (m) return treeRoute(req, res, u, decodeURIComponent(m[1]), decodeURIComponent(m[2]), m[3] ? decodeURIComponent(m[3]) : "");
    m = /^\/api\/models\/(.+?)(?:\/revision\/([^/]+))?$/.exec(u.pathname);
    if (m) return infoRoute(req, res, u, decodeURIComponent(m[1]), m[2] ? decodeURIComponent(m[2]) : "main");
    m = /^\/(.+?)\/resolve\/([^/]+)\/(.+)$/.exec(u.pathname);
    if (m) return resolveRoute(req, res, u, decodeURIComponent(m[1]), decodeURIComponent(m[2]), decodeURIComponent(m[3]));
    sendError(res, 404, "NotFound", "Not Found");
  };

  const listModelsRoute = (u: URL, res: ServerResponse): void => {
    const q = (u.searchParams.get("search") ?? "").toLowerCase();
    const task = u.searchParams.get("pipeline_tag");
    const filters = u.searchParams.getAll("filter");
    const limit = Number(u.searchParams.get("limit") ?? "1000");
    const cursor = Number(u.searchParams.get("cursor") ?? "0");
    const sort = u.searchParams.get("sort");
    let all = [...repos.values()].filter(
      (r) => r.id.toLowerCase().includes(q) && (!task || r.pipeline_tag === task) && filters.every((f) => (r.tags ?? []).includes(f)),
    );
    if (sort === "downloads" || sort === "likes") all = all.sort((a, b) => (b[sort] ?? 0) - (a[sort] ?? 0));
    const page = Math.min(limit, pageSize);
    const items = all.slice(cursor, cursor + page);
    const headers: Record<string, string> = { "X-Total-Count": String(all.length) };
    if (cursor + page < all.length) {
      const next = new URL(u.toString());
      next.searchParams.set("cursor", String(cursor + page));
      headers.Link = `<${next.toString()}>; rel="next"`;
    }
    sendJson(res, 200, items.map((r) => apiItem(r, u.searchParams.getAll("expand"))), headers);
  };

  const findRepo = (res: ServerResponse, id: string, location: (canonical: string) => string): StoredRepo | null => {
    const alias = aliases.get(id);
    if (alias) {
      const to = location(alias);
      res.writeHead(307, { Location: to, "Content-Type": "text/plain" });
      res.end(`Temporary Redirect. Redirecting to ${to}`);
      return null;
    }
    const repo = repos.get(id);
    if (!repo) {
      // The real Hub answers 401 for a missing repo when unauthenticated.
      sendError(res, 401, "RepoNotFound", "Repository not found");
      return null;
    }
    return repo;
  };

  const revisionOk = (repo: StoredRepo, rev: string, res: ServerResponse): boolean => {
    if (rev === "main" || rev === "HEAD" || rev === repo.sha) return true;
    sendError(res, 404, "RevisionNotFound", `Invalid rev id: ${rev}`);
    return false;
  };

  const infoRoute = (req: IncomingMessage, res: ServerResponse, u: URL, id: string, rev: string): void => {
    const repo = findRepo(res, id, (c) => u.pathname.replace(encodeURI(id), c) + u.search);
    if (!repo || !authorized(repo, req, res) || !revisionOk(repo, rev, res)) return;
    const item = apiItem(repo, u.searchParams.getAll("expand"));
    if (u.searchParams.get("blobs") === "true") {
      item.siblings = repo.stored.map((s) => ({
        rfilename: s.path,
        size: s.size,
        blobId: s.gitSha1,
        ...(s.lfs ? { lfs: { size: s.size, sha256: s.sha256, pointerSize: 134 } } : {}),
      }));
    }
    sendJson(res, 200, item, { ETag: `W/"${repo.sha.slice(0, 8)}"` });
  };

  const treeRoute = (req: IncomingMessage, res: ServerResponse, u: URL, id: string, rev: string, dir: string): void => {
    const repo = findRepo(res, id, (c) => u.pathname.replace(encodeURI(id), c) + u.search);
    if (!repo || !authorized(repo, req, res) || !revisionOk(repo, rev, res)) return;
    const recursive = u.searchParams.get("recursive") === "true";
    const prefix = dir ? `${dir}/` : "";
    const entries: Record<string, unknown>[] = [];
    const dirs = new Set<string>();
    for (const s of repo.stored) {
      if (!s.path.startsWith(prefix)) continue;
      const rest = s.path.slice(prefix.length);
      const slash = rest.indexOf("/");
      if (slash >= 0) {
        const d = prefix + rest.slice(0, slash);
        if (!dirs.has(d)) {
          dirs.add(d);
          entries.push({ type: "directory", oid: createHash("sha1").update(d).digest("hex"), size: 0, path: d });
        }
        if (!recursive) continue;
      }
      entries.push({
        type: "file",
        oid: s.gitSha1,
        size: s.size,
        path: s.path,
        ...(s.lfs ? { lfs: { oid: s.sha256, size: s.size, pointerSize: 134 } } : {}),
      });
    }
    const cursor = Number(u.searchParams.get("cursor") ?? "0");
    const items = entries.slice(cursor, cursor + pageSize);
    const headers: Record<string, string> = {};
    if (cursor + pageSize < entries.length) {
      const next = new URL(u.toString());
      next.searchParams.set("cursor", String(cursor + pageSize));
      headers.Link = `<${next.toString()}>; rel="next"`;
    }
    sendJson(res, 200, items, headers);
  };

  const resolveRoute = (req: IncomingMessage, res: ServerResponse, u: URL, id: string, rev: string, file: string): void => {
    const repo = findRepo(res, id, (c) => `/${c}/resolve/${encodeURIComponent(rev)}/${encodeURI(file)}`);
    if (!repo || !authorized(repo, req, res) || !revisionOk(repo, rev, res)) return;
    const s = repo.stored.find((f) => f.path === file);
    if (!s) {
      res.writeHead(404, { "X-Error-Code": "EntryNotFound", "X-Error-Message": "Entry not found", "X-Repo-Commit": repo.sha });
      res.end("Entry not found");
      return;
    }
    if (s.lfs) {
      const location = `${cdnUrl}/xet-bridge/${s.sha256}?X-Amz-Expires=3600&X-Amz-Signature=${randomBytes(8).toString("hex")}`;
      res.writeHead(302, {
        Location: location,
        "X-Repo-Commit": repo.sha,
        "X-Linked-Etag": `"${s.sha256}"`,
        "X-Linked-Size": String(s.size),
        ETag: `"${s.gitSha1}"`,
        "Accept-Ranges": "bytes",
        "Content-Type": "text/plain",
      });
      res.end(`Found. Redirecting to ${location}`);
      return;
    }
    serveBytes("hub", req, res, u, s, { "X-Repo-Commit": repo.sha, ETag: `"${s.gitSha1}"` });
  };

  const handleCdn = (req: IncomingMessage, res: ServerResponse): void => {
    log("cdn", req, res);
    const u = new URL(req.url ?? "/", cdnUrl);
    const m = /^\/xet-bridge\/([0-9a-f]{64})$/.exec(u.pathname);
    const s = m ? blobs.get(m[1]) : undefined;
    if (!s) {
      res.writeHead(404);
      res.end("NoSuchKey");
      return;
    }
    const fault = takeFault("cdn", u.pathname, ["status"]);
    if (fault) {
      res.writeHead(fault.status ?? 500, fault.retryAfter ? { "Retry-After": fault.retryAfter } : {});
      res.end("fault");
      return;
    }
    serveBytes("cdn", req, res, u, s, { ETag: `"${s.sha256}"` });
  };

  const serveBytes = (origin: "hub" | "cdn", req: IncomingMessage, res: ServerResponse, u: URL, s: StoredFile, extra: Record<string, string>): void => {
    let start = 0;
    let end = s.size - 1;
    let status = 200;
    const range = /^bytes=(\d+)-(\d*)$/.exec(req.headers.range ?? "");
    // Faults hit data requests, not a client's one-byte probe (`bytes=0-0`), so a test can aim at the parts.
    const probe = req.headers.range === "bytes=0-0";
    const ignore = range && !probe ? takeFault(origin, u.pathname, ["ignore-range"]) : null;
    if (range && !ignore) {
      start = Number(range[1]);
      end = range[2] ? Math.min(Number(range[2]), s.size - 1) : s.size - 1;
      if (start >= s.size || start > end) {
        res.writeHead(416, { "Content-Range": `bytes */${s.size}` });
        res.end();
        return;
      }
      status = 206;
    }
    const headers: Record<string, string> = { ...extra, "Accept-Ranges": "bytes", "Content-Type": "application/octet-stream", "Content-Length": String(end - start + 1) };
    if (status === 206) {
      const bad = probe ? null : takeFault(origin, u.pathname, ["bad-content-range"]);
      headers["Content-Range"] = bad ? `bytes ${start + 1}-${end + 1}/${s.size}` : `bytes ${start}-${end}/${s.size}`;
    }
    res.writeHead(status, headers);
    if (req.method === "HEAD") {
      res.end();
      return;
    }
    const wrong = probe ? null : takeFault(origin, u.pathname, ["wrong-bytes"], req.headers.range);
    const drop = probe ? null : takeFault(origin, u.pathname, ["drop"], req.headers.range);
    const stall = probe ? null : takeFault(origin, u.pathname, ["stall"], req.headers.range);
    if (s.content && !drop && !stall && !wrong) {
      res.end(s.content.subarray(start, end + 1));
      return;
    }
    const source = s.content
      ? chunksOf(s.content.subarray(start, end + 1))
      : createReadStream(s.file!, { start, end, highWaterMark: 1024 * 1024 });
    void pump(source, res, { wrong, drop, stall });
  };

  const hub = createServer(handleHub);
  const cdn = createServer(handleCdn);
  for (const server of [hub, cdn]) server.keepAliveTimeout = 10_000;
  await Promise.all([listen(hub), listen(cdn)]);
  hubUrl = `http://127.0.0.1:${(hub.address() as AddressInfo).port}`;
  cdnUrl = `http://127.0.0.1:${(cdn.address() as AddressInfo).port}`;

  return {
    url: hubUrl,
    cdnUrl,
    requests,
    faults,
    addRepo,
    close: async () => {
      for (const server of [hub, cdn]) server.closeAllConnections();
      await Promise.all([close(hub), close(cdn)]);
    },
  };
}

async function* chunksOf(buf: Buffer): AsyncGenerator<Buffer> {
  for (let i = 0; i < buf.length; i += 64 * 1024) yield buf.subarray(i, i + 64 * 1024);
}

/** Streams `source` into `res`, applying the faults: a flipped byte, a dropped socket, a pause with no byte sent. */
async function pump(
  source: AsyncIterable<Buffer>,
  res: ServerResponse,
  f: { wrong: Fault | null; drop: Fault | null; stall: Fault | null },
): Promise<void> {
  let sent = 0;
  let stalled = false;
  try {
    for await (let chunk of source) {
      if (f.drop && sent + chunk.length > (f.drop.afterBytes ?? 0)) {
        const keep = (f.drop.afterBytes ?? 0) - sent;
        if (keep > 0) await write(res, chunk.subarray(0, keep));
        res.socket?.destroy();
        return;
      }
      if (f.stall && !stalled && sent + chunk.length > (f.stall.afterBytes ?? 0)) {
        stalled = true;
        const keep = (f.stall.afterBytes ?? 0) - sent;
        if (keep > 0) {
          if (!(await write(res, chunk.subarray(0, keep)))) return;
          sent += keep;
          chunk = chunk.subarray(keep);
        } else {
          res.flushHeaders();
        }
        await new Promise((r) => setTimeout(r, f.stall!.stallMs ?? 5000));
        if (res.destroyed) return;
      }
      if (f.wrong && sent === 0) {
        chunk = Buffer.from(chunk);
        chunk[0] ^= 0xff; // one flipped byte at the start of this response
      }
      if (!(await write(res, chunk))) return;
      sent += chunk.length;
    }
    res.end();
  } catch {
    res.destroy();
  }
}

function write(res: ServerResponse, chunk: Buffer): Promise<boolean> {
  if (res.destroyed) return Promise.resolve(false);
  return new Promise((resolve) => {
    const ok = res.write(chunk);
    if (ok) return resolve(true);
    const done = (): void => {
      res.off("drain", done);
      res.off("close", done);
      resolve(!res.destroyed);
    };
    res.on("drain", done);
    res.on("close", done);
  });
}

function hashFileSync(path: string): string {
  // Only used when a test hands a file without its sha256; the benchmark passes it.
  return createHash("sha256").update(readFileSync(path)).digest("hex");
}

function listen(server: Server): Promise<void> {
  return new Promise((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
}

function close(server: Server): Promise<void> {
  return new Promise((resolve) => server.close(() => resolve()));
}

/** A client configuration for the fake Hub: no token, online, the caches in `cacheDir`. */
export function fakeHubConfig(hub: FakeHub, cacheDir: string): HubConfig {
  return { endpoint: hub.url, token: null, tokenSource: null, offline: false, cacheDir };
}
