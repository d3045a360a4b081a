// Where the Hub is, who we are to it, and whether we may talk to it at all — read from the same variables as
// huggingface_hub, so a machine already set up for `hf` works as it is:
// HF_ENDPOINT (default https://huggingface.co), HF_TOKEN else the token file `$HF_HOME/token`
// (HF_HOME default ~/.cache/huggingface), HF_HUB_OFFLINE=1 (answer from caches, never open a connection).
import { readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";
import { ModelLibraryError } from "../core/errors.js";

export const DEFAULT_ENDPOINT = "https://huggingface.co";

export interface HubConfig {
  /** The Hub's base URL, no trailing slash. The token is sent to this origin only. */
  endpoint: string;
  token: string | null;
  /** Where the token came from ("HF_TOKEN", the token file's path), for messages; null when none. */
  tokenSource: string | null;
  offline: boolean;
  /** Our cache folder (search cache, repo trees): `$XDG_CACHE_HOME/model-library`, else ~/.cache/model-library. */
  cacheDir: string;
}

const TRUE = new Set(["1", "true", "yes", "on"]);

export function hubConfig(env: NodeJS.ProcessEnv = process.env): HubConfig {
  const endpoint = (env.HF_ENDPOINT?.trim() || DEFAULT_ENDPOINT).replace(/\/+$/, "");
  let token: string | null = env.HF_TOKEN?.trim() || null;
  let tokenSource: string | null = token ? "HF_TOKEN" : null;
  if (!token) {
    const file = tokenFilePath(env);
    try {
      token = readFileSync(file, "utf8").trim() || null;
      if (token) tokenSource = file;
    } catch {
      // no token file: anonymous access
    }
  }
  const cacheBase = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), ".cache");
  return {
    endpoint,
    token,
    tokenSource,
    offline: TRUE.has((env.HF_HUB_OFFLINE ?? "").trim().toLowerCase()),
    cacheDir: env.MLIB_CACHE_DIR ? resolve(env.MLIB_CACHE_DIR) : join(cacheBase, "model-library"),
  };
}

/** huggingface_hub's token file: `$HF_TOKEN_PATH`, else `$HF_HOME/token`, else ~/.cache/huggingface/token. */
export function tokenFilePath(env: NodeJS.ProcessEnv = process.env): string {
  if (env.HF_TOKEN_PATH) return resolve(env.HF_TOKEN_PATH);
  const home = env.HF_HOME ? resolve(env.HF_HOME) : join(env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), ".cache"), "huggingface");
  return join(home, "token");
}

/**
 * Refuses an endpoint that is not an http(s) URL (`HF_ENDPOINT=hf-mirror.com`, the scheme left out): said at once
 * as a usage error, rather than retried as a network failure and reported as "cannot reach the server".
 */
export function checkEndpoint(config: HubConfig): void {
  let ok = false;
  try {
    const u = new URL(config.endpoint);
    ok = (u.protocol === "https:" || u.protocol === "http:") && u.hostname !== "";
  } catch {
    ok = false;
  }
  if (!ok) {
    throw new ModelLibraryError("E_USAGE", `HF_ENDPOINT "${config.endpoint}" is not an http(s) URL: give it with its scheme, e.g. HF_ENDPOINT=https://hf-mirror.com`);
  }
}
