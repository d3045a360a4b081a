// One place that turns a Hub answer into a ModelLibraryError saying what to do: a gated or private repo
// (how to set a token), a missing repo, revision or file, rate limits and server failures.
import { ModelLibraryError } from "../core/errors.js";
import type { HubConfig } from "./config.js";
import { tokenFilePath } from "./config.js";
import { serverWaitMs } from "./retry.js";

/** The error for a final (non-retried, or retried out) HTTP answer about `what` (a repo, a file URL). */
export function hubHttpError(res: { status: number; headers: { get(name: string): string | null } }, what: string, config: HubConfig): ModelLibraryError {
  const code = res.headers.get("x-error-code") ?? "";
  const message = res.headers.get("x-error-message") ?? "";
  const status = res.status;
  const suffix = message ? ` (${message})` : "";
  if (status === 401 || status === 403) {
    const howTo = tokenAdvice(config);
    if (code === "GatedRepo") {
      return new ModelLibraryError(
        "E_AUTH",
        `${what}: this repo is gated (HTTP ${status})${suffix}. Accept its terms on ${config.endpoint}, then ${howTo}`,
      );
    }
    if (status === 401 && code === "RepoNotFound") {
      return new ModelLibraryError("E_NOT_FOUND", `${what}: repository not found on ${config.endpoint} (or it is private: ${howTo})`);
    }
    return new ModelLibraryError("E_AUTH", `${what}: access refused (HTTP ${status})${suffix}; ${howTo}`);
  }
  if (status === 404) {
    const kind = code === "RevisionNotFound" ? "revision not found" : code === "EntryNotFound" ? "file not found in the repo" : code === "RepoNotFound" ? "repository not found" : "not found";
    return new ModelLibraryError("E_NOT_FOUND", `${what}: ${kind} (HTTP 404)${suffix}`);
  }
  if (status === 429) {
    // Given up at once when the wait asked for is longer than we hold a command (the Hub's windows are 5 minutes).
    const wait = serverWaitMs(res.headers);
    const asked = wait !== null ? `; it asks to wait ${Math.ceil(wait / 1000)} s` : "";
    return new ModelLibraryError("E_NETWORK", `${what}: rate limited by the Hub (HTTP 429)${asked}; try again later`);
  }
  // A 503 (or another failure) asking for a wait longer than a command holds was reported as a bare "HTTP 503".
  const wait = status >= 500 ? serverWaitMs(res.headers) : null;
  const asked = wait !== null && wait > 0 ? `; it asks to wait ${Math.ceil(wait / 1000)} s, try again later` : "";
  return new ModelLibraryError("E_NETWORK", `${what}: HTTP ${status}${suffix}${asked}`);
}

function tokenAdvice(config: HubConfig): string {
  if (config.token) return `the token from ${config.tokenSource} has no access to it (check the token's scope, or set another with HF_TOKEN)`;
  return `set a token: HF_TOKEN=hf_... in the environment, or put it in ${tokenFilePath()} (what \`hf auth login\` does)`;
}

export function offlineError(url: string): ModelLibraryError {
  return new ModelLibraryError("E_NETWORK", `HF_HUB_OFFLINE is set: not connecting to ${url} (and nothing cached answers it)`);
}
