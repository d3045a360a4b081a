// Messages between the server and its facet-counting thread.
import type { Facets, SearchFilters } from "../index/index-types.js";

export interface FacetRequest {
  seq: number;
  query: string;
  filters: SearchFilters;
}

export interface FacetReply {
  seq: number;
  ready?: boolean;
  facets?: Facets;
  error?: { code: string; message: string };
}
