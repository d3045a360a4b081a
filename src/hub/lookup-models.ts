// `lookupModels`: finds the Hub repo of stored models (as the original, plus the hash check it lacked). A Hub LFS
// file whose SHA-256 equals ours is an exact match (confidence 1.0, method "hash"); a repo_id already known is
// checked the same way; else the original's filename heuristics (equal names 1.0, one containing the other 0.8,
// else the Jaccard index of their words) on the search's first candidate. What the user set by hand
// (`match_source: "manual"`) is kept unless `force`. Every attempt counts in lookup_attempts /
// last_lookup_attempt; `pending_online_lookup` turns false once a match is written (or the user decided).
import { ModelLibraryError, throwIfAborted } from "../core/errors.js";
import { extractBaseName } from "../formats/naming.js";
import { nowIso, type ModelMetadata } from "../store/metadata.js";
import { UNCHANGED, type ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import type { HubModel, RepoFile } from "./convert-model.js";
import { HubClient, checkRepoId } from "./hub-client.js";
import { resolveUrl } from "./download-model.js";

export interface LookupParams {
  /** Models to look up; default every model still pending a lookup. */
  ids?: string[];
  /** Overwrite what the user set by hand (match_source "manual"). */
  force?: boolean;
  /** Set this repo by hand (match_source "manual"), no lookup. */
  setRepo?: string | null;
  /** Mark the models as decided by hand without a repo (no more pending lookups). */
  markManual?: boolean;
  /** How many search candidates have their tree compared by hash (default 3). */
  candidates?: number;
  client?: HubClient;
}

export interface LookupResult {
  id: string;
  outcome: "matched" | "candidate" | "no-match" | "kept-manual" | "manual" | "error";
  repoId: string | null;
  method: string | null;
  confidence: number | null;
  /** The Hub file matched (hash matches). */
  matchedFile: string | null;
  requiresConfirmation: boolean;
  error?: string;
}

/** Name similarity of the original: 1.0 equal (case-insensitive), 0.8 one contains the other, else Jaccard of words. */
export function nameConfidence(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  if (x === y) return 1;
  if (x.includes(y) || y.includes(x)) return 0.8;
  const words = (s: string): Set<string> => new Set(s.split(/[^a-z0-9]+/).filter(Boolean));
  const wa = words(x);
  const wb = words(y);
  const inter = [...wa].filter((w) => wb.has(w)).length;
  const union = new Set([...wa, ...wb]).size;
  return union === 0 ? 0 : inter / union;
}

export async function lookupModels(lib: ModelLibrary, params: LookupParams = {}, options: OperationOptions = {}): Promise<LookupResult[]> {
  const client = params.client ?? new HubClient();
  const ids = params.ids && params.ids.length > 0 ? params.ids.map((id) => lib.require(id).id) : await pendingIds(lib);
  if (params.setRepo) checkRepoId(params.setRepo);
  const results: LookupResult[] = [];
  try {
    for (const [i, id] of ids.entries()) {
      throwIfAborted(options.signal, "lookup");
      options.onProgress?.({ op: "lookup", phase: "lookup", item: id, done: i, total: ids.length, unit: "items" });
      const meta = await lib.getMetadata(id);
      if (params.setRepo || params.markManual) {
        await lib.updateMetadata(id, (m) => {
          m.match_source = "manual";
          m.match_method = "manual";
          m.match_confidence = params.setRepo ? 1 : null;
          if (params.setRepo) {
            m.repo_id = params.setRepo;
            m.download_url = `${client.config.endpoint}/${params.setRepo}`;
          }
          m.pending_online_lookup = false;
        });
        results.push({ id, outcome: "manual", repoId: params.setRepo ?? meta.repo_id, method: "manual", confidence: params.setRepo ? 1 : null, matchedFile: null, requiresConfirmation: false });
        continue;
      }
      if (meta.match_source === "manual" && !params.force) {
        results.push({ id, outcome: "kept-manual", repoId: meta.repo_id, method: meta.match_method, confidence: meta.match_confidence, matchedFile: null, requiresConfirmation: false });
        continue;
      }
      try {
        results.push(await lookupOne(lib, client, id, meta, params, options.signal));
      } catch (e) {
        if (options.signal?.aborted) throw e;
        await lib.updateMetadata(id, (m) => countAttempt(m)).catch(() => undefined);
        results.push({ id, outcome: "error", repoId: null, method: null, confidence: null, matchedFile: null, requiresConfirmation: false, error: (e as Error).message });
      }
    }
    options.onProgress?.({ op: "lookup", phase: "done", done: ids.length, total: ids.length, unit: "items" });
    return results;
  } finally {
    if (!params.client) client.close();
  }
}

async function pendingIds(lib: ModelLibrary): Promise<string[]> {
  const out: string[] = [];
  for (const id of lib.allIds()) {
    const m = await lib.getMetadata(id).catch(() => null);
    if (m && m.pending_online_lookup !== false && m.match_source !== "manual") out.push(id); // missing = pending (original)
  }
  return out;
}

function countAttempt(m: ModelMetadata): void {
  m.lookup_attempts = (m.lookup_attempts ?? 0) + 1;
  m.last_lookup_attempt = nowIso();
}

async function lookupOne(lib: ModelLibrary, client: HubClient, id: string, meta: ModelMetadata, params: LookupParams, signal?: AbortSignal): Promise<LookupResult> {
  const files = (meta.files ?? []).filter((f) => f.sha256 && /\.(gguf|safetensors|bin|pt|pth|ckpt|onnx|sft)$/i.test(f.name));
  const ours = new Set(files.map((f) => f.sha256!.toLowerCase()));
  const primary = files.reduce<(typeof files)[number] | null>((a, b) => (!a || (b.size ?? 0) > (a.size ?? 0) ? b : a), null);
  const fileName = primary ? primary.name.slice(primary.name.lastIndexOf("/") + 1) : (meta.official_name ?? id.split("/").pop()!);

  // A repo already known: confirm it by hash when we can.
  const repos: string[] = [];
  if (meta.repo_id) repos.push(meta.repo_id);
  let candidates: HubModel[] = [];
  if (!meta.repo_id || ours.size === 0) {
    const base = extractBaseName(fileName) || fileName;
    candidates = (await client.search({ query: base, limit: 5 }, { signal })).models;
    repos.push(...candidates.slice(0, params.candidates ?? 3).map((c) => c.repoId).filter((r) => !repos.includes(r)));
  }
  for (const repo of ours.size > 0 ? repos : []) {
    const info = await client.info(repo, "main", { signal }).catch((e) => {
      if (repo === meta.repo_id) throw e;
      return null;
    });
    const hit = info?.files.find((f: RepoFile) => f.sha256 && ours.has(f.sha256.toLowerCase()));
    if (info && hit) {
      const manual = await apply(lib, id, params.force === true, {
        repoId: repo,
        method: "hash",
        confidence: 1,
        model: info.model,
        cardData: info.cardData,
        downloadUrl: resolveUrl(client.config.endpoint, repo, info.commitSha ?? "main", hit.path),
      });
      if (manual) return keptManual(id, manual);
      return { id, outcome: "matched", repoId: repo, method: "hash", confidence: 1, matchedFile: hit.path, requiresConfirmation: false };
    }
  }
  if (meta.repo_id) {
    // Known repo, no file of it has our bytes: keep the repo, say so.
    await lib.updateMetadata(id, (m) => countAttempt(m));
    return { id, outcome: "no-match", repoId: meta.repo_id, method: meta.match_method, confidence: meta.match_confidence, matchedFile: null, requiresConfirmation: true };
  }
  const best = candidates[0];
  if (!best) {
    await lib.updateMetadata(id, (m) => countAttempt(m));
    return { id, outcome: "no-match", repoId: null, method: null, confidence: null, matchedFile: null, requiresConfirmation: false };
  }
  const confidence = nameConfidence(extractBaseName(fileName) || fileName, best.name);
  const method = confidence > 0.9 ? "filename_exact" : "filename_fuzzy";
  const requiresConfirmation = confidence < 0.6;
  if (requiresConfirmation) {
    await lib.updateMetadata(id, (m) => countAttempt(m));
    return { id, outcome: "candidate", repoId: best.repoId, method, confidence, matchedFile: null, requiresConfirmation };
  }
  const manual = await apply(lib, id, params.force === true, { repoId: best.repoId, method, confidence, model: best, cardData: null, downloadUrl: `${client.config.endpoint}/${best.repoId}/resolve/main/${fileName}` });
  if (manual) return keptManual(id, manual);
  return { id, outcome: "matched", repoId: best.repoId, method, confidence, matchedFile: null, requiresConfirmation };
}

interface Match {
  repoId: string;
  method: string;
  confidence: number;
  model: HubModel;
  cardData: Record<string, unknown> | null;
  downloadUrl: string;
}

function keptManual(id: string, m: ModelMetadata): LookupResult {
  return { id, outcome: "kept-manual", repoId: m.repo_id, method: m.match_method, confidence: m.match_confidence, matchedFile: null, requiresConfirmation: false };
}

/**
 * Writes a match into metadata.json: repo, names where empty, tags, base model, card fields. Returns null, or the
 * metadata when it was decided by hand meanwhile (`mlib lookup --set-repo` in another process while this one asked
 * the Hub) and is kept: looked at again under the lock (unless force), it was overwritten with the Hub's match.
 */
async function apply(lib: ModelLibrary, id: string, force: boolean, match: Match): Promise<ModelMetadata | null> {
  let manual = false;
  const m = await lib.updateMetadata(id, (m) => {
    if (m.match_source === "manual" && !force) {
      manual = true;
      return UNCHANGED;
    }
    countAttempt(m);
    m.repo_id = match.repoId;
    m.download_url = match.downloadUrl;
    m.match_source = "hf";
    m.match_method = match.method;
    m.match_confidence = match.confidence;
    m.pending_online_lookup = false;
    m.official_name ??= match.model.name;
    m.tags = [...new Set([...(m.tags ?? []), ...match.model.tags.filter((t) => !t.includes(":") && t.length < 40)])];
    const card = match.cardData ?? {};
    const base = card.base_model;
    if (typeof base === "string") m.base_model = [base];
    else if (Array.isArray(base)) m.base_model = base.filter((b): b is string => typeof b === "string");
    const keep: Record<string, unknown> = {};
    for (const k of ["license", "language", "pipeline_tag", "library_name", "datasets", "model_creator", "model_name", "quantized_by"]) if (k in card) keep[k] = card[k];
    if (match.model.kind !== "unknown") keep.pipeline_tag ??= match.model.kind;
    m.model_card = { ...(m.model_card ?? {}), ...keep };
    m.release_date ??= match.model.releaseDate;
  });
  return manual ? m : null;
}

export function assertLookupArgs(p: LookupParams): void {
  if (p.setRepo && p.markManual) throw new ModelLibraryError("E_USAGE", "--set-repo and --mark-manual cannot be used together");
  // A decision by hand is about the models named: without ids it went to every model pending a lookup.
  if ((p.setRepo || p.markManual) && (p.ids ?? []).length === 0) {
    throw new ModelLibraryError("E_USAGE", `${p.setRepo ? "--set-repo" : "--mark-manual"} needs the ids of the models it is about (mlib lookup ID... ${p.setRepo ? `--set-repo ${p.setRepo}` : "--mark-manual"})`);
  }
}
