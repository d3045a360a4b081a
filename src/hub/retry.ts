// How long to wait before trying a request again: exponential backoff with jitter, or what the server
// asked for (Retry-After in seconds or as an HTTP date; the Hub's `RateLimit: "...";r=0;t=<seconds>`).
// The original never retried 429/5xx; the jitter keeps several connections from retrying in lockstep.

export interface RetryPolicy {
  /** Attempts in all (the first one included). */
  attempts: number;
  baseMs: number;
  capMs: number;
  /** The longest server-requested wait we honour; longer asks fail with the server's answer. */
  maxServerWaitMs: number;
}

export const DEFAULT_RETRY: RetryPolicy = { attempts: 6, baseMs: 1000, capMs: 30_000, maxServerWaitMs: 300_000 };

/** Statuses worth another try: rate limits and server-side failures. 4xx other than these are final. */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 408 || status >= 500;
}

/** Delay before attempt `attempt + 1` (attempt counts from 1): base·2^(attempt-1), capped, × a factor in [0.5, 1.5). */
export function backoffMs(attempt: number, policy: RetryPolicy, random: () => number = Math.random): number {
  const raw = Math.min(policy.capMs, policy.baseMs * 2 ** Math.max(0, attempt - 1));
  return Math.round(raw * (0.5 + random()));
}

/**
 * The wait a response asks for, in ms, or null (then our own backoff applies): Retry-After, else RateLimit's `t=`
 * when r=0. Retry-After is read as RFC 9110 §10.2.3 says: delta-seconds (`120`) or an HTTP-date
 * (`Sun, 06 Nov 1994 08:49:37 GMT`, or the obsolete RFC 850 and asctime forms), a decimal (`1.5`) tolerated and
 * rounded up to the millisecond. Anything else is ignored: Date.parse alone took "1.5" for 5 January 2001 and so
 * retried at once. A wait longer than a policy's maxServerWaitMs is the caller's to refuse (see withRetries).
 */
export function serverWaitMs(headers: { get(name: string): string | null }, now: number = Date.now()): number | null {
  const ra = headers.get("retry-after");
  if (ra) {
    const wait = retryAfterMs(ra, now);
    if (wait !== null) return wait;
  }
  const rl = headers.get("ratelimit");
  if (rl) {
    const r = /;\s*r=(\d+)/.exec(rl);
    const t = /;\s*t=(\d+(?:\.\d+)?)/.exec(rl);
    if (r && t && Number(r[1]) === 0) return secondsMs(t[1]);
  }
  return null;
}

// IMF-fixdate `Sun, 06 Nov 1994 08:49:37 GMT`, RFC 850 `Sunday, 06-Nov-94 08:49:37 GMT`, asctime `Sun Nov  6 08:49:37 1994`.
const IMF_FIXDATE = /^[A-Z][a-z]{2}, \d{2} [A-Z][a-z]{2} \d{4} \d{2}:\d{2}:\d{2} GMT$/;
const RFC850_DATE = /^[A-Z][a-z]+, \d{2}-[A-Z][a-z]{2}-\d{2} \d{2}:\d{2}:\d{2} GMT$/;
const ASCTIME_DATE = /^[A-Z][a-z]{2} [A-Z][a-z]{2} [ \d]\d \d{2}:\d{2}:\d{2} \d{4}$/;

/** One Retry-After value in ms (0 for a date already past), or null when it is neither form. */
export function retryAfterMs(value: string, now: number = Date.now()): number | null {
  const v = value.trim();
  if (/^\d+(\.\d+)?$/.test(v)) return secondsMs(v);
  let at = NaN;
  if (IMF_FIXDATE.test(v) || RFC850_DATE.test(v)) at = Date.parse(v);
  // asctime has no zone: it is GMT (Date.parse alone would read it as local time).
  else if (ASCTIME_DATE.test(v)) at = Date.parse(`${v.replace(/\s+/g, " ")} GMT`);
  return Number.isFinite(at) ? Math.max(0, at - now) : null;
}

// Seconds (maybe decimal) → whole ms, rounded up; an absurd number stays finite (it is refused as too long anyway).
function secondsMs(s: string): number {
  return Math.min(Number.MAX_SAFE_INTEGER, Math.ceil(Number(s) * 1000));
}

/** Sleeps `ms`, waking early (rejecting with the signal's reason) when the signal fires. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    const onAbort = (): void => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
