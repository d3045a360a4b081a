// What every `mlib` command shares: the --json/--library/--debug options, opening the library,
// option parsers (repeatable and comma-separated lists, integers) and the exit status of "some item failed".
import { Command, InvalidArgumentError, Option } from "commander";
import { existsSync } from "node:fs";
import { resolve } from "node:path";
import { ModelLibraryError } from "../core/errors.js";
import type { ModelLibrary, OpenOptions } from "../operations/index.js";
import { defaultLibraryRoot } from "../store/layout.js";

export interface CommonOptions {
  json: boolean;
  /** The library root given with --library (on the command or before it), or null for the default. */
  library: string | null;
  debug: boolean;
}

/**
 * Adds --json, --library DIR and --debug to a command (they are also accepted before the command name).
 * `library: "hidden"`: a command that uses no library (identify, hash, apps) still accepts --library, unlisted, so
 * that "every command takes --library" holds for scripts that pass it to each call; `false`: the command has its own.
 */
export function withCommonOptions(cmd: Command, options: { library?: boolean | "hidden" } = {}): Command {
  cmd.option("--json", "print machine-readable JSON on stdout");
  if (options.library === "hidden") cmd.addOption(new Option("--library <dir>", "not used by this command").hideHelp());
  else if (options.library !== false) cmd.option("--library <dir>", "library folder (default: $MODEL_LIBRARY_HOME, $XDG_DATA_HOME/model-library or ~/.local/share/model-library)");
  cmd.option("--debug", "print stack traces of errors");
  return cmd;
}

/**
 * The common options of `cmd`: its own value wins, then its parent command's (`mlib links --json check`),
 * then mlib's, given before the command name (`mlib --json hub search`).
 */
export function commonOptions(cmd: Command): CommonOptions {
  let json: boolean | undefined;
  let library: string | undefined;
  let debug: boolean | undefined;
  for (let c: Command | null = cmd; c; c = c.parent) {
    const o = c.opts<{ json?: boolean; library?: string; debug?: boolean }>();
    json ??= o.json;
    library ??= o.library;
    debug ??= o.debug;
  }
  return { json: Boolean(json), library: library ?? null, debug: Boolean(debug) };
}

export function libraryRoot(common: CommonOptions): string {
  return common.library ?? defaultLibraryRoot();
}

/**
 * For the commands that may make a library of an existing folder of model files (adopt, watch, doctor): a folder
 * that does not exist at all is a mistyped --library, refused as the read commands refuse it, never created.
 */
export function requireFolder(common: CommonOptions): CommonOptions {
  const root = resolve(libraryRoot(common));
  if (!existsSync(root)) throw new ModelLibraryError("E_NOT_FOUND", `no library at ${root} (create one with mlib init or mlib import)`, { path: root });
  return common;
}

/** Opens the library, runs `fn`, and closes it whatever happens. */
export async function withLibrary<T>(common: CommonOptions, fn: (lib: ModelLibrary) => Promise<T>, options: OpenOptions = {}): Promise<T> {
  // Loaded on use, so `mlib --help`, usage errors, identify and hash never load SQLite and the library (the store
  // module itself: operations/index.js would load every operation).
  const { ModelLibrary } = await import("../store/model-library.js");
  // Notices (index moved or rebuilt, staging removed or left in place...) go to stderr as they happen.
  const { err } = await import("./output.js");
  const lib = await ModelLibrary.open(libraryRoot(common), { onNotice: (n) => err(n.message), ...options });
  try {
    return await fn(lib);
  } finally {
    lib.close();
  }
}

/** Marks the run as failed (exit status 1) without stopping it: the other items are still done. */
export function markFailed(): void {
  if (!process.exitCode) process.exitCode = 1;
}

/** An error as `{ code, message }` for --json output (an OS error without a code is E_IO). */
export function errorInfo(e: unknown): { code: string; message: string } {
  if (e instanceof ModelLibraryError) return { code: e.code, message: e.message };
  return { code: "E_IO", message: e instanceof Error ? e.message : String(e) };
}

export function usageError(message: string): ModelLibraryError {
  return new ModelLibraryError("E_USAGE", message);
}

/** Collects a repeatable option whose values may also be comma-separated: `--tag a,b --tag c` → [a, b, c]. */
export function collectList(value: string, previous: string[] | undefined): string[] {
  const parts = value
    .split(",")
    .map((s) => s.trim())
    .filter((s) => s !== "");
  return [...(previous ?? []), ...parts];
}

export function parseNonNegativeInt(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError("expected a whole number (0 or more).");
  const n = Number(value);
  if (!Number.isSafeInteger(n)) throw new InvalidArgumentError("the number is too large.");
  return n;
}

export function parsePositiveInt(value: string): number {
  const n = parseNonNegativeInt(value);
  if (n === 0) throw new InvalidArgumentError("expected a whole number of 1 or more.");
  return n;
}
