// What the original reads, as original-behaviour.md documents it, checked on a file we wrote: every field of its
// ModelMetadata (§2.6) with the type it deserializes (each one optional: null or absent is fine; keys it does not
// know it drops), and the link registry's {by_target, by_model} with its LinkEntry (§10.6). A wrong type in one
// field makes serde refuse the whole file there, so each is listed by name.
const isStr = (v: unknown) => typeof v === "string";
const isU64 = (v: unknown) => typeof v === "number" && Number.isInteger(v) && v >= 0;
const isObj = (v: unknown) => typeof v === "object" && v !== null && !Array.isArray(v);
const strArray = (v: unknown) => Array.isArray(v) && v.every(isStr);

type Check = (v: unknown) => boolean;
const METADATA: Record<string, Check> = {
  model_id: isStr,
  family: isStr,
  model_type: isStr,
  subtype: isStr,
  official_name: isStr,
  cleaned_name: isStr,
  tags: strArray,
  base_model: (v) => isStr(v) || strArray(v), // the original also accepts a string
  preview_image: isStr,
  release_date: isStr,
  download_url: isStr,
  model_card: () => true, // free-form JSON
  inference_settings: () => true, // free-form JSON
  compatible_apps: strArray,
  hashes: (v) => isObj(v) && ["sha256", "blake3"].every((k) => (v as Record<string, unknown>)[k] == null || isStr((v as Record<string, unknown>)[k])),
  notes: isStr,
  added_date: isStr,
  updated_date: isStr,
  size_bytes: isU64,
  files: (v) =>
    Array.isArray(v) &&
    v.every((f: Record<string, unknown>) =>
      isObj(f) && isStr(f.name) && (f.original_name == null || isStr(f.original_name)) && (f.size == null || isU64(f.size)) &&
      (f.sha256 == null || isStr(f.sha256)) && (f.blake3 == null || isStr(f.blake3))),
  match_source: isStr,
  match_method: isStr,
  match_confidence: (v) => typeof v === "number" && Number.isFinite(v),
  pending_online_lookup: (v) => typeof v === "boolean",
  lookup_attempts: (v) => isU64(v) && (v as number) <= 0xffffffff,
  last_lookup_attempt: isStr,
  conversion_source: (v) => {
    if (!isObj(v)) return false;
    const c = v as Record<string, unknown>;
    return isStr(c.source_model_id) && isStr(c.source_format) && isStr(c.target_format) && typeof c.was_dequantized === "boolean" &&
      isStr(c.conversion_date) && (c.source_quant == null || isStr(c.source_quant)) && (c.target_quant == null || isStr(c.target_quant));
  },
  repo_id: isStr,
  expected_files: strArray,
};

/** The fields of a parsed metadata.json the original would not read, with why; [] when it reads them all. */
export function originalMetadataProblems(raw: unknown): string[] {
  if (!isObj(raw)) return ["not a JSON object"];
  const m = raw as Record<string, unknown>;
  const out: string[] = [];
  for (const [k, ok] of Object.entries(METADATA)) {
    if (m[k] === undefined || m[k] === null) continue;
    if (!ok(m[k])) out.push(`${k}: ${JSON.stringify(m[k]).slice(0, 200)}`);
  }
  return out;
}

/** What in a parsed link_registry.json the original would not read; [] when it reads it all. */
export function originalRegistryProblems(raw: unknown): string[] {
  if (!isObj(raw)) return ["not a JSON object"];
  const r = raw as Record<string, unknown>;
  const out: string[] = [];
  if (r.by_target !== undefined && !isObj(r.by_target)) out.push("by_target is not an object");
  if (r.by_model !== undefined && !isObj(r.by_model)) out.push("by_model is not an object");
  for (const [target, e] of Object.entries((r.by_target ?? {}) as Record<string, Record<string, unknown>>)) {
    if (!isObj(e)) {
      out.push(`${target}: not an object`);
      continue;
    }
    for (const k of ["model_id", "source", "target", "created_at", "app_id"]) if (!isStr(e[k])) out.push(`${target}: ${k} ${JSON.stringify(e[k])}`);
    if (!["symlink", "hardlink", "copy"].includes(e.link_type as string)) out.push(`${target}: link_type ${JSON.stringify(e.link_type)}`);
    if (!(e.app_version === null || isStr(e.app_version))) out.push(`${target}: app_version ${JSON.stringify(e.app_version)}`);
    if (e.target !== target) out.push(`${target}: its entry's target is ${JSON.stringify(e.target)}`);
  }
  for (const [id, targets] of Object.entries((r.by_model ?? {}) as Record<string, unknown>)) {
    if (!strArray(targets)) out.push(`by_model ${id}: not a list of paths`);
  }
  return out;
}
