// The query string of GET /api/models and /api/facets → the library's search options, validated:
// `?q=qwen&type=llm&type=vae&tag=a&tagMode=all&sort=name&limit=50&offset=100` (repeat a filter for several values).
import type { SearchFilters, SearchOptions, SortMode } from "../index/index-types.js";
import { HttpError } from "./http-json.js";

/** Most models one request may ask for. */
export const MAX_PAGE = 1000;
const SORTS: SortMode[] = ["relevance", "name", "updated", "added", "size"];
const FILTERS: [string, keyof SearchFilters][] = [
  ["type", "types"],
  ["subtype", "subtypes"],
  ["family", "families"],
  ["format", "formats"],
  ["quant", "quantizations"],
  ["tag", "tags"],
];
const KNOWN = new Set(["q", "tagMode", "sort", "limit", "offset", ...FILTERS.map(([k]) => k)]);

export interface SearchParams {
  query: string;
  filters: SearchFilters;
  options: SearchOptions;
}

export function parseSearchParams(params: URLSearchParams): SearchParams {
  for (const key of params.keys()) if (!KNOWN.has(key)) throw bad(`unknown parameter "${key.slice(0, 40)}"`);
  const query = params.get("q") ?? "";
  if (query.length > 500) throw bad("q is longer than 500 characters");
  const filters: SearchFilters = {};
  for (const [name, field] of FILTERS) {
    const values = params.getAll(name).filter((v) => v !== "");
    if (values.length > 100) throw bad(`more than 100 values of ${name}`);
    if (values.some((v) => v.length > 200)) throw bad(`a value of ${name} is longer than 200 characters`);
    if (values.length > 0) (filters[field] as string[]) = values;
  }
  const tagMode = params.get("tagMode");
  if (tagMode !== null && tagMode !== "") {
    if (tagMode !== "any" && tagMode !== "all") throw bad(`tagMode must be "any" or "all", not "${tagMode.slice(0, 40)}"`);
    filters.tagMode = tagMode;
  }
  const options: SearchOptions = { ...filters };
  const sort = params.get("sort");
  if (sort !== null && sort !== "") {
    if (!SORTS.includes(sort as SortMode)) throw bad(`sort must be one of ${SORTS.join(", ")}`);
    options.sort = sort as SortMode;
  }
  options.limit = intParam(params, "limit", 50, 1, MAX_PAGE);
  options.offset = intParam(params, "offset", 0, 0, Number.MAX_SAFE_INTEGER);
  return { query, filters, options };
}

function intParam(params: URLSearchParams, name: string, fallback: number, min: number, max: number): number {
  const raw = params.get(name);
  if (raw === null || raw === "") return fallback;
  if (!/^\d+$/.test(raw)) throw bad(`${name} must be a whole number`);
  const n = Number(raw);
  if (n < min || n > max) throw bad(`${name} must be between ${min} and ${max}`);
  return n;
}

function bad(message: string): HttpError {
  return new HttpError(400, "E_USAGE", message);
}
