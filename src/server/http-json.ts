// JSON in and out: answers, errors as { code, message } with the HTTP status their code means, and request
// bodies read with a size limit (a body past the limit is refused before it is all read).
import type { IncomingMessage, ServerResponse } from "node:http";
import { ModelLibraryError } from "../core/errors.js";

/** Largest request body accepted (JSON edits, import paths): far above any real one. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** An error with its HTTP status, for what the request itself got wrong (401, 403, 404, 405, 413...). */
export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
  ) {
    super(message);
  }
}

const STATUS_OF_CODE: Record<string, number> = {
  E_USAGE: 400,
  E_INVALID: 400,
  E_NOT_FOUND: 404,
  E_EXISTS: 409,
  E_DUPLICATE: 409,
  E_LOCKED: 409,
  E_UNSUPPORTED: 501,
  E_CANCELLED: 409,
  // a model's metadata.json that cannot be read (damaged, too big): the library's state, not a server failure
  E_CORRUPT: 422,
  // a model still linked into apps (DELETE without cascade=1): the answer names the links
  E_LINKED: 409,
  // the Hub could not be reached, or refused us (its token, not this server's): the gateway failed
  E_NETWORK: 502,
  E_AUTH: 502,
};

export function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, {
    "content-type": "application/json; charset=utf-8",
    "content-length": Buffer.byteLength(text),
    "cache-control": "no-store",
    ...headers,
  });
  res.end(text);
}

/** The status and { code, message } body of any error thrown by a route. */
export function errorBody(e: unknown): { status: number; body: { code: string; message: string; completed?: string[] } } {
  if (e instanceof HttpError) return { status: e.status, body: { code: e.code, message: e.message } };
  if (e instanceof ModelLibraryError) {
    // A batch cancelled part-way says what it had committed before (kept), as the CLI does.
    const completed = e.completed.length > 0 ? { completed: e.completed } : {};
    return { status: STATUS_OF_CODE[e.code] ?? 500, body: { code: e.code, message: e.message, ...completed } };
  }
  const message = e instanceof Error ? e.message : String(e);
  return { status: 500, body: { code: "E_INTERNAL", message } };
}

export function sendError(res: ServerResponse, e: unknown): void {
  const { status, body } = errorBody(e);
  if (res.headersSent) {
    res.destroy();
    return;
  }
  // The rest of a body refused as too large is never read: the connection closes after the answer, so a
  // keep-alive client sends its next request on a new one (not into the unread body, or a reset socket).
  sendJson(res, status, body, status === 413 ? { connection: "close" } : {});
}

/** Reads a JSON object body (empty body → {}), refusing more than `limit` bytes and anything not JSON. */
export async function readJsonBody(req: IncomingMessage, limit = MAX_BODY_BYTES): Promise<Record<string, unknown>> {
  const declared = Number(req.headers["content-length"] ?? NaN);
  if (Number.isFinite(declared) && declared > limit) throw tooLarge(limit);
  const type = String(req.headers["content-type"] ?? "");
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req as AsyncIterable<Buffer>) {
    size += chunk.length;
    if (size > limit) throw tooLarge(limit);
    chunks.push(chunk);
  }
  if (size === 0) return {};
  if (!/^application\/json\b/i.test(type)) throw new HttpError(415, "E_USAGE", "the body must be JSON (content-type: application/json)");
  let value: unknown;
  try {
    value = JSON.parse(Buffer.concat(chunks).toString("utf8"));
  } catch {
    throw new HttpError(400, "E_USAGE", "the body is not valid JSON");
  }
  if (!value || typeof value !== "object" || Array.isArray(value)) throw new HttpError(400, "E_USAGE", "the body must be a JSON object");
  return value as Record<string, unknown>;
}

function tooLarge(limit: number): HttpError {
  return new HttpError(413, "E_TOO_LARGE", `the body is larger than ${limit} bytes`);
}
