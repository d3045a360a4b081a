// Facet counting over a subset of the library (a query's hits, a filter's matches) without grouping in SQL.
//
// Why: grouping the matches six ways in SQLite cost 100-270 ms at 100k models (a temp table of the matches,
// then a sort per column, and the tags joined by a scan of model_tags with a probe per row). Here each facet
// value's doc_ids are read once per data version (~0.1 s at 100k, from the column indexes and the model_tags
// key), and a query only fetches its matching doc_ids (one group_concat) and counts them against those lists
// in JS: a few ms for 100k matches.
import type { Facets } from "./index-types.js";

/** The grouped columns in Facets order; tags come from model_tags. */
export const FACET_COLUMNS: readonly [keyof Facets, string][] = [
  ["types", "model_type"],
  ["subtypes", "subtype"],
  ["families", "family"],
  ["formats", "format"],
  ["quantizations", "quantization"],
];

/** One facet: each value (as GROUP BY on its NOCASE column names it; null for NULL) with its models' doc_ids. */
interface FacetColumn {
  values: (string | null)[];
  docs: Int32Array[];
}

/** Rows of `SELECT value, group_concat(doc_id) ... GROUP BY value`. */
export type GroupedIds = [string | null, string | null][];

export class FacetColumns {
  private readonly columns: Map<keyof Facets, FacetColumn>;
  /** One past the largest doc_id in any list: the size of a match mask. */
  readonly size: number;

  /** `read(sql)` runs a grouping statement; all of them must see one snapshot (call inside a read transaction). */
  constructor(read: (sql: string) => GroupedIds) {
    this.columns = new Map();
    let max = 0;
    const add = (key: keyof Facets, rows: GroupedIds): void => {
      const col: FacetColumn = { values: [], docs: [] };
      for (const [value, ids] of rows) {
        const docs = parseIds(ids);
        for (const d of docs) if (d > max) max = d;
        col.values.push(value);
        col.docs.push(docs);
      }
      this.columns.set(key, col);
    };
    // Grouping on the bare column walks its (column, size_bytes) index, which holds the doc_id too.
    for (const [key, column] of FACET_COLUMNS) add(key, read(`SELECT ${column}, group_concat(doc_id) FROM models GROUP BY ${column}`));
    add("tags", read("SELECT tag, group_concat(doc_id) FROM model_tags GROUP BY tag"));
    this.size = max + 1;
  }

  /** The GROUP BY rows of one facet among the models marked in `mask` (every model when null): [value, count], counts > 0. */
  rows(key: keyof Facets, mask: Uint8Array | null): [string | null, number][] {
    const col = this.columns.get(key)!;
    const out: [string | null, number][] = [];
    for (let i = 0; i < col.values.length; i++) {
      const docs = col.docs[i];
      let n = 0;
      if (mask === null) n = docs.length;
      else for (let j = 0; j < docs.length; j++) n += mask[docs[j]];
      if (n > 0) out.push([col.values[i], n]);
    }
    return out;
  }

  /** A mask of `size` bytes with 1 at each doc_id of the values of one facet that `keep` accepts (a filter). */
  union(key: keyof Facets, keep: (value: string | null) => boolean): Uint8Array {
    const col = this.columns.get(key)!;
    const mask = new Uint8Array(this.size);
    for (let i = 0; i < col.values.length; i++) {
      if (!keep(col.values[i])) continue;
      const docs = col.docs[i];
      for (let j = 0; j < docs.length; j++) mask[docs[j]] = 1;
    }
    return mask;
  }

  /** A mask of `size` bytes with 1 at each doc_id of a group_concat list (ids beyond the lists are ignored). */
  mask(ids: string | null): Uint8Array {
    const mask = new Uint8Array(this.size);
    forEachId(ids, (d) => {
      if (d < mask.length) mask[d] = 1;
    });
    return mask;
  }
}

/** The doc_ids of a group_concat list ("3,17,42"; null when empty), read without splitting into strings. */
export function parseIds(ids: string | null): Int32Array {
  if (!ids) return new Int32Array(0);
  let count = 1;
  for (let i = 0; i < ids.length; i++) if (ids.charCodeAt(i) === 44) count++;
  const out = new Int32Array(count);
  let k = 0;
  forEachId(ids, (d) => {
    out[k++] = d;
  });
  return out;
}

function forEachId(ids: string | null, fn: (d: number) => void): void {
  if (!ids) return;
  let n = 0;
  for (let i = 0; i < ids.length; i++) {
    const c = ids.charCodeAt(i);
    if (c === 44) {
      fn(n);
      n = 0;
    } else n = n * 10 + (c - 48);
  }
  fn(n);
}
