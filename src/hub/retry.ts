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

/** The wait a response asks for, in ms, or null: Retry-After (seconds or date), else RateLimit's `t=` when r=0. */
export function serverWaitMs(headers: { get(name: string): string | null }, now: number = Date.now()): number | null {
  const ra = headers.get("retry-after");
  if (ra) {
    if (/^\d+$/.test(ra.trim())) return Number(ra.trim()) * 1000;
    const at = Date.parse(ra);
    if (Number.isFinite(at)) return Math.max(0, at - now);
  }
  const rl = headers.get("ratelimit");
  if (rl) {
    const r = /;\s*r=(\d+)/.exec(rl);
    const t = /;\s*t=(\d+)/.exec(rl);
    if (r && t && Number(r[1]) === 0) return Number(t[1]) * 1000;
  }
  return null;
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
