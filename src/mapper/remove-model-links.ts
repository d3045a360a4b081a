// Links of one model, for `mlib rm`: `linksOfModel` (rm refuses a linked model without --cascade and names
// them) and `removeModelLinks` (the cascade: every link we made for the model — symlinks to it, hard links
// with its inode, copies with its content — and nothing else; one that changed is reported, not deleted).
import { ModelLibraryError } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import { removeModel, type RemoveResult } from "../operations/remove-model.js";
import { LinkRegistry, withRegistry, type LinkEntry } from "./registry.js";
import { removeEntries, type RemovalResult } from "./unlink-app.js";

export interface ModelLinksParams {
  modelId: string;
}

export function linksOfModel(libraryRoot: string, modelId: string): LinkEntry[] {
  return LinkRegistry.load(libraryRoot).forModel(modelId.replace(/\/+$/, ""));
}

export async function removeModelLinks(library: ModelLibrary, params: ModelLinksParams, options: OperationOptions = {}): Promise<RemovalResult> {
  return withRegistry(library.root, (reg) => removeEntries(reg, reg.forModel(params.modelId.replace(/\/+$/, "")), options.signal, "rm --cascade"));
}

export interface BeforeRemovalParams {
  modelId: string;
  /** Remove the model's links too (`rm --cascade`); without it a linked model is refused. */
  cascade: boolean;
}

/**
 * The hook `mlib rm` calls before deleting a model: with no links, nothing (null); with links and no cascade,
 * E_LINKED naming them (the model stays); with cascade, removes them (removeModelLinks) and throws if any
 * could not be removed, so the model is never deleted under links that would then dangle.
 * (Deleting: removeModelUnlinked, which holds the registry lock from this check to the deletion.)
 */
export async function unlinkBeforeRemoval(library: ModelLibrary, params: BeforeRemovalParams, options: OperationOptions = {}): Promise<RemovalResult | null> {
  return withRegistry(library.root, (reg) => unlinkIn(reg, params, options));
}

/**
 * `mlib rm`: the link check (or the cascade) and the deletion under one hold of the registry lock. Checked, then
 * deleted later, a `map apply` in another process could link the model in between: its links then pointed at
 * a deleted model, and a linked model was deleted without --cascade. A running apply is waited for (its links
 * are then seen), and an apply started meanwhile waits and plans without the deleted model.
 */
export async function removeModelUnlinked(
  library: ModelLibrary,
  params: BeforeRemovalParams,
  options: OperationOptions = {},
): Promise<{ removed: RemoveResult; links: RemovalResult | null }> {
  return withRegistry(library.root, async (reg) => {
    const links = unlinkIn(reg, params, options);
    // The registry forgets the links before the model goes: killed in between, the model is still there without
    // them and the same `rm` finishes; saved after, a kill left entries of a model that no longer exists.
    reg.save();
    return { removed: await removeModel(library, { id: params.modelId }, options), links };
  });
}

function unlinkIn(reg: LinkRegistry, params: BeforeRemovalParams, options: OperationOptions): RemovalResult | null {
  const links = reg.forModel(params.modelId.replace(/\/+$/, ""));
  if (links.length === 0) return null;
  if (!params.cascade) {
    const shown = links.slice(0, 10).map((e) => `  ${e.target} (${e.app_id}, ${e.link_type})`);
    if (links.length > 10) shown.push(`  ... and ${links.length - 10} more`);
    throw new ModelLibraryError(
      "E_LINKED",
      `model ${params.modelId} is linked into apps; not deleted. Its links:\n${shown.join("\n")}\nUse \`mlib rm ${params.modelId} --cascade\` to remove them with it, or \`mlib unlink\` first.`,
    );
  }
  const r = removeEntries(reg, links, options.signal, "rm --cascade");
  if (r.errors.length > 0) {
    throw new ModelLibraryError("E_IO", `model ${params.modelId} not deleted: ${r.errors.length} of its links could not be removed:\n${r.errors.map((e) => `  ${e.message}`).join("\n")}`);
  }
  return r;
}
