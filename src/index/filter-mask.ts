// Filtered lists and searches answered in memory, from the doc_id lists facets already keep (facet-columns.ts)
// and each sort order's doc_ids read once per data version.
//
// Why: in SQL a filter joins every hit (or every row of the filter's index) to `models` one primary-key lookup
// at a time and sorts the survivors in a temp B-tree: `type=llm` (63k models) sorted by date took 60-110 ms at
// 100k models, `q=mistr&format=gguf&quant=Q4_K_M` 36 ms of lookups for 600 results. Here a filter is a byte
// mask built from the value lists (~0.2 ms), a query's hits are read from FTS5 alone (group_concat of rowids,
// no join), and a page is a walk of the sort order through the mask (~0.1-0.3 ms for 100k models).
import { ModelLibraryError } from "../core/errors.js";
import type { FacetColumns } from "./facet-columns.js";
import type { Facets, SearchFilters, SortMode } from "./index-types.js";

/** The filter columns and their facet key; NOCASE columns compare ASCII letters case-folded. */
const COLUMNS: [keyof SearchFilters & keyof Facets, boolean][] = [
  ["types", false],
  ["subtypes", true],
  ["families", true],
  ["formats", true],
  ["quantizations", true],
];

/** SQLite's NOCASE: only ASCII letters fold. */
function nocase(s: string): string {
  return s.replace(/[A-Z]+/g, (c) => c.toLowerCase());
}

function listOf(values: string[] | undefined): string[] {
  return (values ?? []).map((v) => v.trim()).filter((v) => v.length > 0);
}

/**
 * The models a filter keeps, as a mask over doc_ids (1 = kept), or null when the filter keeps everything.
 * The same rule as the SQL filter (model-index.ts filterSql): a list is `column IN (...)` on a NOCASE column,
 * "unknown" also takes NULL on the nullable columns; tags are lower-cased and matched exactly, any or all.
 */
export function filterMask(columns: FacetColumns, o: SearchFilters): Uint8Array | null {
  let mask: Uint8Array | null = null;
  const and = (part: Uint8Array): void => {
    if (mask === null) mask = part;
    else for (let i = 0; i < mask.length; i++) mask[i] &= part[i];
  };
  for (const [key, nullable] of COLUMNS) {
    const list = listOf(o[key] as string[] | undefined);
    if (list.length === 0) continue;
    const wanted = new Set(list.map(nocase));
    const withNull = nullable && list.some((v) => v.toLowerCase() === "unknown");
    and(columns.union(key, (value) => (value === null ? withNull : wanted.has(nocase(value)))));
  }
  const tags = [...new Set(listOf(o.tags).map((t) => t.toLowerCase()))];
  if (tags.length > 0) {
    const mode = o.tagMode ?? "any";
    if (mode === "any") and(columns.union("tags", (value) => value !== null && tags.includes(value)));
    else if (mode === "all") for (const t of tags) and(columns.union("tags", (value) => value === t));
    else throw new ModelLibraryError("E_USAGE", `search: tagMode must be "any" or "all", not "${String(mode)}"`);
  }
  return mask;
}

/** How many doc_ids the mask keeps. */
export function countMask(mask: Uint8Array): number {
  let n = 0;
  for (let i = 0; i < mask.length; i++) n += mask[i];
  return n;
}

/** mask AND the doc_ids of a group_concat list (ids past the mask are not in any filter list: dropped). */
export function intersectIds(mask: Uint8Array, ids: string | null): Uint8Array {
  const out = new Uint8Array(mask.length);
  if (!ids) return out;
  let n = 0;
  for (let i = 0; i <= ids.length; i++) {
    const c = i < ids.length ? ids.charCodeAt(i) : 44;
    if (c === 44) {
      if (n < mask.length) out[n] = mask[n];
      n = 0;
    } else n = n * 10 + (c - 48);
  }
  return out;
}

/** The page [offset, offset + limit) of the doc_ids of `order` that the mask keeps, in that order. */
export function pageInOrder(order: Int32Array, mask: Uint8Array, offset: number, limit: number): number[] {
  const out: number[] = [];
  let skip = offset;
  for (let i = 0; i < order.length && out.length < limit; i++) {
    const d = order[i];
    if (d >= mask.length || mask[d] === 0) continue;
    if (skip > 0) skip--;
    else out.push(d);
  }
  return out;
}

/**
 * A page of "names first, then the rest, each newest first" (model-index.ts broadPage): the doc_ids of `first`,
 * then those of `all` not in `first`, both by doc_id descending.
 */
export function pageTwoGroups(first: Uint8Array, all: Uint8Array, offset: number, limit: number): number[] {
  const out: number[] = [];
  let skip = offset;
  for (let d = first.length - 1; d >= 0 && out.length < limit; d--) {
    if (first[d] === 0) continue;
    if (skip > 0) skip--;
    else out.push(d);
  }
  for (let d = all.length - 1; d >= 0 && out.length < limit; d--) {
    if (all[d] === 0 || first[d] === 1) continue;
    if (skip > 0) skip--;
    else out.push(d);
  }
  return out;
}

/** The doc_ids listed in a mask, ascending. */
export function idsOfMask(mask: Uint8Array): number[] {
  const out: number[] = [];
  for (let d = 0; d < mask.length; d++) if (mask[d] === 1) out.push(d);
  return out;
}

/** Each sort order's doc_ids, read once per data version (what a filtered page walks). */
export class SortOrders {
  private readonly orders = new Map<SortMode, Int32Array>();

  /** `read(sort)` returns every doc_id in that order (the same ORDER BY as the SQL list). */
  constructor(private readonly read: (sort: Exclude<SortMode, "relevance">) => number[]) {}

  get(sort: Exclude<SortMode, "relevance">): Int32Array {
    let o = this.orders.get(sort);
    if (!o) {
      o = Int32Array.from(this.read(sort));
      this.orders.set(sort, o);
    }
    return o;
  }
}
