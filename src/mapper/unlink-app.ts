// `mlib unlink --app APP --root DIR`: removes exactly the links we made for that app in that folder, after
// proving each is still ours (remove-link.ts); what is not ours any more is reported and left on disk.
import * as path from "node:path";
import { ModelLibraryError, throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import { isInside } from "./plan.js";
import { removeLinkIfOurs, type RemovalOutcome } from "./remove-link.js";
import { withRegistry, type LinkEntry, type LinkRegistry } from "./registry.js";

export interface UnlinkParams {
  app: string;
  root: string;
}

export interface RemovalResult {
  outcomes: RemovalOutcome[];
  removed: number;
  /** Entries whose target was already gone. */
  gone: number;
  /** On disk and not provably ours: left, and forgotten by the registry. */
  kept: number;
  errors: { target: string; message: string }[];
}

/** Removes the given entries' links (those proven ours) and forgets the entries; errors keep their entry. */
export function removeEntries(reg: LinkRegistry, entries: LinkEntry[], signal?: AbortSignal, what = "unlink"): RemovalResult {
  const r: RemovalResult = { outcomes: [], removed: 0, gone: 0, kept: 0, errors: [] };
  const dirs = new Map<string, string | null>();
  for (let i = 0; i < entries.length; i++) {
    if (i % 256 === 0) throwIfAborted(signal, what);
    try {
      const o = removeLinkIfOurs(entries[i], reg.libraryRoot, dirs);
      reg.unregister(entries[i].target);
      r.outcomes.push(o);
      r[o.outcome]++;
    } catch (e) {
      r.errors.push({ target: entries[i].target, message: e instanceof ModelLibraryError ? e.message : `${entries[i].target}: ${(e as Error).message}` });
    }
  }
  return r;
}

export async function unlinkApp(library: ModelLibrary, params: UnlinkParams, options: OperationOptions = {}): Promise<RemovalResult> {
  if (!params.root) throw new ModelLibraryError("E_USAGE", "the app's models folder is needed (--root DIR)");
  const root = path.resolve(params.root);
  const appDir = path.dirname(root);
  return withRegistry(library.root, (reg) => {
    const entries = reg.forApp(params.app).filter((e) => (typeof e.app_root === "string" ? path.resolve(e.app_root) === root : isInside(appDir, e.target)));
    options.onProgress?.({ op: "unlink", phase: "remove", done: 0, total: entries.length, unit: "items" });
    return removeEntries(reg, entries, options.signal);
  });
}
