// Where the library lives, and the fixed names inside it.
import { createHash } from "node:crypto";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** `$MODEL_LIBRARY_HOME`, else `$XDG_DATA_HOME/model-library`, else `~/.local/share/model-library`. */
export function defaultLibraryRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MODEL_LIBRARY_HOME) return resolve(env.MODEL_LIBRARY_HOME);
  if (env.XDG_DATA_HOME) return resolve(env.XDG_DATA_HOME, "model-library");
  return join(homedir(), ".local", "share", "model-library");
}

/**
 * Everything of ours that is not per-model lives in one folder of the root: the index, the commit lock,
 * import staging, journals, download state. The original keeps its own `models.db` (another schema) and
 * `.tmp_import_*` folders in the root itself; both tools can share one library folder.
 */
export const LIBRARY_DIR = ".model-library";
export const INDEX_FILE = "index.db";
/** The original's index file in the root (left exactly as it is); also where our index lived before. */
export const LEGACY_DB_FILE = "models.db";
export const METADATA_FILE = "metadata.json";
export const OVERRIDES_FILE = "overrides.json";
/** Import staging (relative to the root): inside it, so the final rename is on one filesystem and atomic. */
export const STAGING_DIR = `${LIBRARY_DIR}/staging`;
/** Where staging was before `.model-library/` (cleaned by the same lease rules, from the folders' mtimes). */
export const OLD_STAGING_DIR = ".staging";
/** The original's staging folders (`.tmp_import_<uuid>`): reported, never removed. */
export const LEGACY_STAGING_PREFIX = ".tmp_import_";
/** Where the commit lock was before `.model-library/` (cleaned when its holder is gone). */
export const OLD_COMMIT_LOCK = ".commit.lock";
/** Held while a model is committed into place, so two processes never race for one folder or one hash (relative to the root). */
export const COMMIT_LOCK = `${LIBRARY_DIR}/commit.lock`;

/** Where the index of a library we cannot write to lives: `$XDG_CACHE_HOME/model-library/<hash of the root>/`. */
export function cacheIndexDir(root: string, env: NodeJS.ProcessEnv = process.env): string {
  const base = env.XDG_CACHE_HOME ? resolve(env.XDG_CACHE_HOME) : join(homedir(), ".cache");
  return join(base, "model-library", createHash("sha256").update(resolve(root)).digest("hex").slice(0, 16));
}
