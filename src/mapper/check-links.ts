// `mlib links check`: the state of every registered link (inspect-link.ts). Reads only; lstat/readlink/stat
// per link, synchronously (tens of thousands of small calls are far cheaper without a promise each).
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import { inspectLink, UnreachableLinkError, type LinkStatus } from "./inspect-link.js";
import { filterEntries, type LinkFilter } from "./list-links.js";
import { LinkRegistry, type LinkEntry } from "./registry.js";

export interface CheckedLink {
  entry: LinkEntry;
  status: LinkStatus;
  detail: string | null;
}

export interface CheckResult {
  links: CheckedLink[];
  counts: Record<LinkStatus, number>;
  /** Every link healthy. */
  ok: boolean;
}

export async function checkLinks(library: ModelLibrary, params: LinkFilter = {}, options: OperationOptions = {}): Promise<CheckResult> {
  const entries = filterEntries(LinkRegistry.load(library.root), params);
  const counts: Record<LinkStatus, number> = { healthy: 0, broken: 0, changed: 0, foreign: 0, missing: 0, unreadable: 0 };
  const links: CheckedLink[] = [];
  for (let i = 0; i < entries.length; i++) {
    if (i % 1024 === 0) {
      throwIfAborted(options.signal, "links check");
      options.onProgress?.({ op: "links-check", phase: "check", done: i, total: entries.length, unit: "items" });
    }
    let r: { status: LinkStatus; detail: string | null };
    try {
      r = inspectLink(entries[i]);
    } catch (e) {
      // One folder the user cannot read (or a stale mount) must not hide the state of every other link.
      // (A disk not mounted is said as it is; an OS error with its code.)
      r = { status: "unreadable", detail: e instanceof UnreachableLinkError ? e.message : `cannot look at it (${(e as NodeJS.ErrnoException).code ?? "error"}: ${(e as Error).message})` };
    }
    counts[r.status]++;
    links.push({ entry: entries[i], status: r.status, detail: r.detail });
  }
  return { links, counts, ok: counts.healthy === entries.length };
}
