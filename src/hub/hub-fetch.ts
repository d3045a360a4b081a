// Every request to the Hub goes through here: the offline switch (no connection at all), the token sent to
// the Hub's own origin only, and redirects followed by hand so the token never follows a cross-origin
// redirect to the CDN (resolve → 302 → cas-bridge.xethub.hf.co). `apiFetch` adds retries (429/5xx/network, an
// answer or its body that stalls or is cut short; honouring Retry-After) and error mapping, for the JSON API calls
// made through @huggingface/hub.
import { ModelLibraryError, cancelledError } from "../core/errors.js";
import { checkEndpoint, type HubConfig } from "./config.js";
import { hubHttpError, offlineError } from "./hub-errors.js";
import { backoffMs, isRetryableStatus, serverWaitMs, sleep, type RetryPolicy } from "./retry.js";

const MAX_REDIRECTS = 10;

export interface HubResponse {
  res: Response;
  /** The URL that answered (after redirects). */
  url: string;
  /** Headers of the Hub's own redirect answer (X-Linked-Etag, X-Linked-Size, X-Repo-Commit), when there was one. */
  redirectHeaders: Headers | null;
}

function sameOrigin(a: string, b: string): boolean {
  return new URL(a).origin === new URL(b).origin;
}

/** One request with redirects followed by hand; the Authorization header only ever goes to the Hub's origin. */
export async function hubRequest(config: HubConfig, url: string, init: RequestInit = {}): Promise<HubResponse> {
  if (config.offline) throw offlineError(url);
  checkEndpoint(config);
  let current = url;
  let redirectHeaders: Headers | null = null;
  for (let hop = 0; ; hop++) {
    const headers = new Headers(init.headers);
    headers.delete("authorization");
    if (config.token && sameOrigin(current, config.endpoint)) headers.set("authorization", `Bearer ${config.token}`);
    if (!headers.has("user-agent")) headers.set("user-agent", "model-library");
    const res = await fetch(current, { ...init, headers, redirect: "manual" });
    if (res.status < 300 || res.status >= 400 || res.status === 304) return { res, url: current, redirectHeaders };
    const location = res.headers.get("location");
    if (!location) return { res, url: current, redirectHeaders };
    if (hop >= MAX_REDIRECTS) {
      await res.body?.cancel().catch(() => undefined);
      throw new ModelLibraryError("E_NETWORK", `${url}: more than ${MAX_REDIRECTS} redirects`);
    }
    // A renamed repo answers a relative 307 first; the 302 to the CDN carries the file's size and sha256.
    if (sameOrigin(current, config.endpoint) && (!redirectHeaders || res.headers.has("x-linked-size"))) redirectHeaders = res.headers;
    await res.body?.cancel().catch(() => undefined);
    current = new URL(location, current).toString();
  }
}

/** Network-level failure (connection refused/reset, DNS...) as opposed to an HTTP answer. */
export function networkError(url: string, e: unknown): ModelLibraryError {
  const cause = (e as { cause?: { code?: string; message?: string } }).cause;
  const why = cause?.code ?? cause?.message ?? (e as Error).message;
  return new ModelLibraryError("E_NETWORK", `${url}: cannot reach the server (${why})`, { cause: e });
}

const API_RETRY: RetryPolicy = { attempts: 4, baseMs: 500, capMs: 8000, maxServerWaitMs: 60_000 };
/** How long a JSON API answer's headers may take before the request is dropped and tried again. */
export const API_ANSWER_MS = 30_000;

/**
 * A `fetch` for @huggingface/hub's API helpers: hubRequest + retries; a final HTTP failure is thrown as our
 * error (naming `what`), so callers never see the library's own error type.
 */
export function apiFetch(config: HubConfig, what: string, options: { signal?: AbortSignal; retry?: RetryPolicy; answerMs?: number } = {}): typeof fetch {
  const policy = options.retry ?? API_RETRY;
  const answerMs = options.answerMs ?? API_ANSWER_MS;
  return (async (input: string | URL | Request, init?: RequestInit) => {
    const url = typeof input === "string" ? input : input instanceof URL ? input.toString() : input.url;
    for (let attempt = 1; ; attempt++) {
      if (options.signal?.aborted) throw cancelledError("hub request");
      let r: HubResponse;
      // A server that accepts the connection and never answers would hang the command for good: no answer
      // (headers) within answerMs drops the request and tries again. The caller's signal still ends the body.
      const noAnswer = new AbortController();
      const timer = setTimeout(() => noAnswer.abort(), answerMs);
      try {
        r = await hubRequest(config, url, { ...init, signal: eitherSignal(options.signal, noAnswer.signal) });
      } catch (e) {
        if (e instanceof ModelLibraryError) throw e;
        if (options.signal?.aborted) throw cancelledError("hub request");
        if (attempt >= policy.attempts) {
          if (noAnswer.signal.aborted) throw new ModelLibraryError("E_NETWORK", `${url}: no answer from the server within ${answerMs / 1000} s (${attempt} attempts)`);
          throw networkError(url, e);
        }
        await sleep(backoffMs(attempt, policy), options.signal).catch(() => undefined);
        continue;
      } finally {
        clearTimeout(timer);
      }
      if (r.res.ok) {
        // The body is read here, under the same watch (no byte for answerMs: dropped and tried again): the watch
        // used to end with the headers, and a body that stalled after them hung the command for good.
        let body: Uint8Array | null;
        try {
          body = await readBody(r.res, answerMs);
        } catch (e) {
          if (options.signal?.aborted) throw cancelledError("hub request");
          if (attempt >= policy.attempts) {
            const why = e instanceof BodyStalled ? `no byte for ${answerMs / 1000} s after ${e.bytes} bytes` : `cut short (${(e as Error).message})`;
            throw new ModelLibraryError("E_NETWORK", `${url}: the answer stopped coming in: ${why} (${attempt} attempts)`, { cause: e });
          }
          await sleep(backoffMs(attempt, policy), options.signal).catch(() => undefined);
          continue;
        }
        return jsonOrClearError(new Response(body, { status: r.res.status, statusText: r.res.statusText, headers: r.res.headers }), url);
      }
      if (isRetryableStatus(r.res.status) && attempt < policy.attempts) {
        const asked = serverWaitMs(r.res.headers);
        await r.res.body?.cancel().catch(() => undefined);
        if (asked !== null && asked > policy.maxServerWaitMs) throw hubHttpError(r.res, what, config);
        await sleep(asked ?? backoffMs(attempt, policy), options.signal).catch(() => undefined);
        continue;
      }
      await r.res.body?.cancel().catch(() => undefined);
      throw hubHttpError(r.res, what, config);
    }
  }) as typeof fetch;
}

class BodyStalled extends Error {
  constructor(readonly bytes: number) {
    super(`no byte after ${bytes} bytes`);
  }
}

/** A JSON answer's whole body (small: a page of results), failing with BodyStalled when no byte comes for `stallMs`. */
async function readBody(res: Response, stallMs: number): Promise<Uint8Array | null> {
  if (!res.body || res.status === 204 || res.status === 205) return null;
  const reader = res.body.getReader();
  const chunks: Uint8Array[] = [];
  let total = 0;
  let stalled = false;
  let timer: NodeJS.Timeout | undefined;
  // A cancelled reader ends the pending read (done): whatever the signal given to fetch (Node 20.0-20.2 has no AbortSignal.any).
  const arm = (): void => {
    clearTimeout(timer);
    timer = setTimeout(() => {
      stalled = true;
      void reader.cancel().catch(() => undefined);
    }, stallMs);
  };
  try {
    arm();
    for (;;) {
      const { done, value } = await reader.read();
      if (stalled) throw new BodyStalled(total);
      if (done) break;
      chunks.push(value);
      total += value.length;
      arm();
    }
  } finally {
    clearTimeout(timer);
  }
  return Buffer.concat(chunks);
}

/**
 * The answer, whose json() says what is wrong when the body is not JSON (an HTML page from a captive portal or a
 * proxy, an HF_ENDPOINT that is a web page), rather than a bare "Unexpected token '<'" naming nothing.
 */
function jsonOrClearError(res: Response, url: string): Response {
  const json = res.json.bind(res);
  const checked = async (): Promise<unknown> => {
    try {
      return await json();
    } catch (e) {
      if (!(e instanceof SyntaxError)) throw e;
      const type = res.headers.get("content-type") ?? "no content type";
      throw new ModelLibraryError("E_NETWORK", `${url}: the answer is not the Hub's JSON (${type}: ${e.message}); is HF_ENDPOINT right, or is a proxy or captive portal in the way?`, { cause: e });
    }
  };
  Object.defineProperty(res, "json", { value: checked });
  return res;
}

/** A signal that fires when either does (AbortSignal.any, Node 20.3+; before it, the caller's signal alone). */
function eitherSignal(caller: AbortSignal | undefined, timeout: AbortSignal): AbortSignal {
  if (!caller) return timeout;
  const any = (AbortSignal as { any?: (signals: AbortSignal[]) => AbortSignal }).any;
  return any ? any([caller, timeout]) : caller;
}
