// Who may talk to the server. A page on another site must not drive it (CSRF), a DNS name re-pointed at
// 127.0.0.1 must not reach it (DNS rebinding: the browser then sends that name as Host), and nothing may
// change the library without the token `mlib serve` printed (the page keeps it in a cookie).
import type { IncomingMessage } from "node:http";
import { randomBytes, timingSafeEqual } from "node:crypto";
import { networkInterfaces } from "node:os";
import { HttpError } from "./http-json.js";

export const TOKEN_HEADER = "x-mlib-token";

export function newToken(): string {
  return randomBytes(24).toString("base64url");
}

/** The cookie the page keeps the token in: one per port, so two servers on one host do not clash. */
export function tokenCookieName(port: number): string {
  return `mlib_token_${port}`;
}

export interface GuardConfig {
  port: number;
  /** The host the server listens on (127.0.0.1 by default); its own name is always accepted as Host. */
  host: string;
  token: string;
}

/**
 * The Host values this server answers to, with the port: its loopback names, the address it was bound to,
 * and — bound to every address (0.0.0.0, ::) — each address of this machine's interfaces. Never a DNS name
 * other than localhost: a name is what DNS rebinding forges.
 */
export function allowedHosts(config: GuardConfig): Set<string> {
  const p = config.port;
  const withPort = (addr: string) => `${addr.includes(":") ? `[${addr}]` : addr}:${p}`.toLowerCase();
  const hosts = new Set([`127.0.0.1:${p}`, `localhost:${p}`, `[::1]:${p}`]);
  const bound = config.host.replace(/^\[|\]$/g, "");
  if (bound === "0.0.0.0" || bound === "::") {
    for (const list of Object.values(networkInterfaces())) for (const a of list ?? []) if (a.family === "IPv4" || bound === "::") hosts.add(withPort(a.address.split("%")[0]));
  } else hosts.add(withPort(bound));
  return hosts;
}

const SAFE_METHODS = new Set(["GET", "HEAD", "OPTIONS"]);

export function isMutating(method: string | undefined): boolean {
  return !SAFE_METHODS.has(method ?? "GET");
}

/** Refuses (throws HttpError) a request with a foreign Host, or a mutating one from a foreign origin. */
export function checkRequest(req: IncomingMessage, hosts: Set<string>): void {
  const host = String(req.headers.host ?? "").toLowerCase();
  if (!hosts.has(host)) throw new HttpError(403, "E_FORBIDDEN_HOST", `Host "${host.slice(0, 100)}" is not this server's name`);
  if (!isMutating(req.method)) return;
  const origin = req.headers.origin;
  if (origin !== undefined) {
    let originHost: string;
    try {
      const u = new URL(origin);
      originHost = u.protocol === "http:" ? u.host.toLowerCase() : "";
    } catch {
      originHost = "";
    }
    if (!hosts.has(originHost)) throw new HttpError(403, "E_FORBIDDEN_ORIGIN", `a request from ${origin.slice(0, 100)} may not change this library`);
  }
  // Browsers that send Fetch Metadata say when a request comes from another site, even without Origin.
  const site = req.headers["sec-fetch-site"];
  if (site === "cross-site" || site === "same-site") throw new HttpError(403, "E_FORBIDDEN_ORIGIN", "a request from another site may not change this library");
}

/** Throws 401 unless the request carries the token (header, Bearer, or the page's cookie). */
export function checkToken(req: IncomingMessage, config: GuardConfig): void {
  const given = tokenOf(req, config.port);
  if (given === null || !sameSecret(given, config.token)) {
    throw new HttpError(401, "E_AUTH", "this request changes the library: it needs the token printed by `mlib serve` (open the URL it printed)");
  }
}

function tokenOf(req: IncomingMessage, port: number): string | null {
  const header = req.headers[TOKEN_HEADER];
  if (typeof header === "string" && header !== "") return header;
  const auth = req.headers.authorization;
  if (typeof auth === "string" && auth.startsWith("Bearer ")) return auth.slice(7).trim();
  return cookieValue(req.headers.cookie, tokenCookieName(port));
}

export function cookieValue(header: string | undefined, name: string): string | null {
  if (!header) return null;
  for (const part of header.split(";")) {
    const eq = part.indexOf("=");
    if (eq > 0 && part.slice(0, eq).trim() === name) return decodeURIComponent(part.slice(eq + 1).trim());
  }
  return null;
}

export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a);
  const y = Buffer.from(b);
  return x.length === y.length && timingSafeEqual(x, y);
}

/** True for the loopback addresses `--host` may name without a warning. */
export function isLoopback(host: string): boolean {
  return host === "127.0.0.1" || host === "::1" || host === "localhost" || /^127\.\d+\.\d+\.\d+$/.test(host);
}
