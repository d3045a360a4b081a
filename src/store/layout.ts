// Where the library lives, and the fixed names inside it.
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/** `$MODEL_LIBRARY_HOME`, else `$XDG_DATA_HOME/model-library`, else `~/.local/share/model-library`. */
export function defaultLibraryRoot(env: NodeJS.ProcessEnv = process.env): string {
  if (env.MODEL_LIBRARY_HOME) return resolve(env.MODEL_LIBRARY_HOME);
  if (env.XDG_DATA_HOME) return resolve(env.XDG_DATA_HOME, "model-library");
  return join(homedir(), ".local", "share", "model-library");
}

export const DB_FILE = "models.db";
export const METADATA_FILE = "metadata.json";
export const OVERRIDES_FILE = "overrides.json";
/** Import staging lives inside the root, so the final rename is on one filesystem and atomic. */
export const STAGING_DIR = ".staging";
/** The original's staging folders (`.tmp_import_<uuid>`), cleaned too. */
export const LEGACY_STAGING_PREFIX = ".tmp_import_";
/** Held while a model is committed into place, so two processes never race for one folder or one hash. */
export const COMMIT_LOCK = ".commit.lock";
