// `mlib links [--app APP] [--model ID]`: the registry's entries, filtered. Reads only.
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import { LinkRegistry, type LinkEntry } from "./registry.js";

export interface LinkFilter {
  app?: string | null;
  model?: string | null;
}

export function filterEntries(reg: LinkRegistry, filter: LinkFilter): LinkEntry[] {
  const base = filter.model ? reg.forModel(filter.model.replace(/\/+$/, "")) : reg.all();
  return base.filter((e) => !filter.app || e.app_id === filter.app).sort((a, b) => (a.target < b.target ? -1 : a.target > b.target ? 1 : 0));
}

export async function listLinks(library: ModelLibrary, params: LinkFilter = {}, _options: OperationOptions = {}): Promise<LinkEntry[]> {
  return filterEntries(LinkRegistry.load(library.root), params);
}
