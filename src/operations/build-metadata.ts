// The one place a new model's metadata.json is put together, for every way a model enters the library:
// an import (files staged by importModels) and a folder already in place (importInPlace, adoptOrphans).
import { normalizeName } from "../formats/naming.js";
import { IDENTIFY_VERSION, IDENTIFY_VERSION_FIELD } from "../identify/identify-version.js";
import type { Identification } from "../formats/types.js";
import { applyIdentification, blankMetadata, nowIso, type MetadataFile, type ModelMetadata } from "../store/metadata.js";

export interface NewModel {
  id: string;
  /** The display name (official_name); cleaned_name is derived from it. */
  name: string;
  ident: Identification;
  /** Every file of the model, relative to its folder, with sizes and hashes (null when not hashed). */
  files: MetadataFile[];
  /** The weight files among them (the biggest is the primary file whose hashes identify the model). */
  weightFiles: string[];
  /** What the caller said, winning over identification. */
  modelType?: string | null;
  family?: string | null;
  subtype?: string | null;
  tags?: string[];
  /** "import", "download" or "orphan_recovery". */
  matchSource: string;
  repoId?: string | null;
  expectedFiles?: string[] | null;
  /** A name found inside the file (GGUF general.name) differing from the display name. */
  description?: string | null;
}

/** The biggest of the weight files (or of all files when none is a weight file). */
export function primaryFileOf<T extends { size: number | null }>(files: T[], isWeight: (f: T) => boolean): T {
  const weights = files.filter(isWeight);
  return (weights.length > 0 ? weights : files).reduce((a, b) => ((b.size ?? 0) > (a.size ?? 0) ? b : a));
}

export function buildModelMetadata(n: NewModel): ModelMetadata {
  const m = blankMetadata();
  const primary = primaryFileOf(n.files, (f) => n.weightFiles.includes(f.name));
  const now = nowIso();
  m.model_id = n.id;
  m.family = n.family ?? n.ident.family;
  m.model_type = n.modelType ?? n.ident.modelType;
  m.subtype = n.subtype ?? n.ident.subtype;
  m.official_name = n.name;
  m.cleaned_name = normalizeName(n.name);
  m.tags = n.tags && n.tags.length > 0 ? [...new Set(n.tags)] : [];
  m.hashes = { sha256: primary.sha256, blake3: primary.blake3 };
  m.added_date = now;
  m.updated_date = now;
  m.size_bytes = n.files.reduce((a, f) => a + (f.size ?? 0), 0);
  m.files = n.files;
  m.match_source = n.matchSource;
  m.pending_online_lookup = true;
  m.lookup_attempts = 0;
  m.repo_id = n.repoId ?? null;
  m.expected_files = n.expectedFiles ?? null;
  applyIdentification(m, n.ident);
  m.description = n.description ?? null;
  m[IDENTIFY_VERSION_FIELD] = IDENTIFY_VERSION;
  return m;
}
