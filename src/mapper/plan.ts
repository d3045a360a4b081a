// Which links an app gets: every model of the library against the profile's rules (as the original matched
// them), turned into link units with absolute sources and targets. A unit is all the weight files of one
// model for one rule (every shard of a set together), or the model's whole folder for a folder rule.
// Every target is checked to stay inside the app's folder (the parent of --root) before anything is done.
import * as fs from "node:fs";
import * as path from "node:path";
import { throwIfAborted } from "../core/errors.js";
import { shardInfoOf } from "../formats/sharding.js";
import type { ModelFilesRecord } from "../index/index-types.js";
import type { ModelLibrary } from "../store/model-library.js";
import { METADATA_FILE, OVERRIDES_FILE } from "../store/layout.js";
import { filesByBareName } from "../store/bare-name.js";
import { DEFAULT_EXTENSIONS, type ResolvedProfile } from "./profiles.js";
import { isProjector, ModelFolders, pairingKeys } from "./projector-pairing.js";
import type { MappingRule } from "./types.js";
import { satisfies } from "./version-range.js";

/** What to do at a target (classify.ts): "create" as planned, until classify has looked. */
export type ItemAction = "create" | "exists" | "replace" | "conflict";

export interface PlannedItem {
  source: string;
  target: string;
  /** The source is a folder (linked as one). */
  isDir: boolean;
  /** The source's size as metadata.json records it. */
  size: number | undefined;
  /** Set by classify in place (one object per link from plan to apply: 10,000 copies were a tenth of the GC). */
  action: ItemAction;
  reason: string | null;
}

export interface PlannedUnit {
  modelId: string;
  targetDir: string;
  items: PlannedItem[];
}

export interface PlanExclusion {
  modelId: string;
  reason: string;
}

export interface MappingPlan {
  /** The app's folder: nothing is made or removed outside it. */
  appDir: string;
  root: string;
  units: PlannedUnit[];
  /** Models a rule matched but that are not linked, and why (version range, hostile name, no files). */
  excluded: PlanExclusion[];
}

const lowerSet = (xs: string[] | null | undefined) => (xs ? new Set(xs.map((x) => x.toLowerCase())) : null);

/** A rule's criteria as lower-cased sets, made once per apply rather than once per model (10,000 models). */
interface RuleMatcher {
  types: Set<string> | null;
  subtypes: Set<string> | null;
  families: Set<string> | null;
  formats: Set<string> | null;
  /** null: no constraint (absent or empty, as the original). */
  tags: Set<string> | null;
  excludeTags: Set<string> | null;
  excludeFormats: Set<string> | null;
  excludeFamilies: Set<string> | null;
}

function ruleMatcher(rule: MappingRule): RuleMatcher {
  return {
    types: lowerSet(rule.model_types),
    subtypes: lowerSet(rule.subtypes),
    families: lowerSet(rule.families),
    formats: lowerSet(rule.formats),
    tags: rule.tags && rule.tags.length > 0 ? lowerSet(rule.tags) : null,
    excludeTags: lowerSet(rule.exclude_tags),
    excludeFormats: lowerSet(rule.exclude_formats),
    excludeFamilies: lowerSet(rule.exclude_families),
  };
}

type RuleFields = Pick<ModelFilesRecord, "modelType" | "subtype" | "family" | "tags" | "format">;

// An absent list is no constraint; a present one (even empty) must hold the value.
const inSet = (set: Set<string> | null, v: string | null) => set === null || set.has((v ?? "").toLowerCase());

/** `tags` are the model's tags lower-cased (computed once per model). */
function matches(r: RuleMatcher, m: RuleFields, tags: string[]): boolean {
  if (!inSet(r.types, m.modelType) || !inSet(r.subtypes, m.subtype) || !inSet(r.families, m.family) || !inSet(r.formats, m.format)) return false;
  if (r.tags !== null && !tags.some((t) => r.tags!.has(t))) return false;
  if (r.excludeTags !== null && tags.some((t) => r.excludeTags!.has(t))) return false;
  if (r.excludeFormats !== null && r.excludeFormats.has((m.format ?? "").toLowerCase())) return false;
  if (r.excludeFamilies !== null && r.excludeFamilies.has((m.family ?? "").toLowerCase())) return false;
  return true;
}

/** All criteria of the rule pass (case-insensitive); an absent list is no constraint. */
export function ruleMatches(rule: MappingRule, m: RuleFields): boolean {
  return matches(ruleMatcher(rule), m, m.tags.map((t) => t.toLowerCase()));
}

/** True when `p` lies strictly inside `dir` (lexically, after resolving `.` and `..`). */
export function isInside(dir: string, p: string): boolean {
  const d = path.resolve(dir);
  const q = path.resolve(p);
  return q.length > d.length + 1 && q.startsWith(d === "/" ? d : `${d}/`);
}

/** A name part from outside (a repo id, a file name in metadata.json) that is safe as one path segment. */
function safeSegment(s: string): string | null {
  const t = s.replace(/[\0/\\]/g, "_").trim();
  if (t === "" || t === "." || t === "..") return null;
  return t;
}

interface ModelFiles {
  /** Each file's relative name and its size as recorded (0 or undefined: none recorded). */
  files: readonly { name: string; size: number | undefined }[];
  /** The sizes come from the index, which holds 0 where metadata.json gives none. */
  zeroIsNone: boolean;
  repoId: string | null;
  /** The model's names (official_name, description), for pairing a projector with its LLM (publisher-repo only). */
  names: readonly (string | null)[];
  versionRanges: Record<string, string> | null;
}

// One buffer reused for every metadata.json (open + read + close: no fstat, no buffer per file — at 10k models
// readFileSync's extra call and allocations were a tenth of planning).
let readBuf = Buffer.allocUnsafe(64 * 1024);

function readSmallFile(file: string): string {
  const fd = fs.openSync(file, "r");
  try {
    let len = 0;
    for (;;) {
      if (len === readBuf.length) {
        const bigger = Buffer.allocUnsafe(readBuf.length * 2);
        readBuf.copy(bigger, 0, 0, len);
        readBuf = bigger;
      }
      const n = fs.readSync(fd, readBuf, len, readBuf.length - len, null);
      if (n === 0) break;
      len += n;
    }
    return readBuf.toString("utf8", 0, len);
  } finally {
    fs.closeSync(fd);
  }
}

/** A model's files as the index lists them, with its overrides.json version ranges when asked. */
function indexedFiles(m: ModelFilesRecord, dir: string, withOverrides: boolean): ModelFiles {
  return {
    // The index holds 0 where metadata.json gives no size: planUnit records it as no size.
    files: m.files,
    zeroIsNone: true,
    repoId: null,
    names: [m.officialName],
    versionRanges: withOverrides ? readVersionRanges(dir) : null,
  };
}

function readVersionRanges(dir: string): Record<string, string> | null {
  try {
    const o = JSON.parse(fs.readFileSync(path.join(dir, OVERRIDES_FILE), "utf8")) as { version_ranges?: unknown };
    if (o.version_ranges && typeof o.version_ranges === "object") return o.version_ranges as Record<string, string>;
  } catch {
    // no overrides.json (the common case) or unreadable: no restriction
  }
  return null;
}

function readModelFiles(dir: string, withOverrides: boolean): ModelFiles {
  let meta: { files?: unknown; repo_id?: unknown; official_name?: unknown; description?: unknown } = {};
  try {
    meta = JSON.parse(readSmallFile(path.join(dir, METADATA_FILE))) as typeof meta;
  } catch {
    // unreadable metadata: fall back to the folder listing below
  }
  let files: { name: string; size: number | undefined }[] = [];
  if (Array.isArray(meta.files)) {
    for (const f of meta.files as { name?: unknown; size?: unknown }[]) {
      if (!f || typeof f !== "object" || typeof f.name !== "string") continue;
      files.push({ name: f.name, size: typeof f.size === "number" ? f.size : undefined });
    }
  }
  if (files.length === 0) {
    // The original's rule: the model files directly in the folder.
    try {
      files = fs
        .readdirSync(dir, { withFileTypes: true })
        .filter((d) => d.isFile())
        .map((d) => ({ name: d.name, size: undefined }));
    } catch {
      files = [];
    }
  }
  const str = (v: unknown) => (typeof v === "string" ? v : null);
  return { files, zeroIsNone: false, repoId: str(meta.repo_id), names: [str(meta.official_name), str(meta.description)], versionRanges: withOverrides ? readVersionRanges(dir) : null };
}

/** A rule made ready for planning: its matcher, its extensions, and its folder (checked once against the app folder). */
interface PlanRule {
  rule: MappingRule;
  matcher: RuleMatcher;
  exts: Set<string>;
  /** The rule's absolute folder. */
  base: string;
  /** Set when the folder leaves the app folder: every model the rule matches is excluded with this reason. */
  leaves: string | null;
}

function planRule(rule: MappingRule, absRoot: string, appDir: string, libraryReal: string | null): PlanRule {
  const base = path.resolve(absRoot, rule.target_dir);
  let leaves = isInside(appDir, base) || base === appDir ? null : `rule target_dir "${rule.target_dir}" leaves the app folder ${appDir}`;
  if (leaves === null && libraryReal !== null) {
    const real = resolvedPath(base);
    if (real === libraryReal || isInside(libraryReal, real)) leaves = `the folder ${base} leads to ${real}, inside the library: links are never made there`;
  }
  return {
    rule,
    matcher: ruleMatcher(rule),
    exts: new Set((rule.extensions ?? DEFAULT_EXTENSIONS).map((e) => e.toLowerCase().replace(/^\./, ""))),
    base,
    leaves,
  };
}

/** Where `p` leads: its nearest existing folder resolved (symlinks followed), with the rest of `p` after it. */
export function resolvedPath(p: string): string {
  let rest = "";
  for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
    try {
      return path.join(fs.realpathSync.native(dir), rest);
    } catch {
      if (path.dirname(dir) === dir) return path.resolve(p);
      rest = path.join(path.basename(dir), rest);
    }
  }
}

/** `rel` (safe `/`-separated segments) under the normalized absolute folder `dir`: path.join without its cost. */
function under(dir: string, rel: string): string {
  return dir === "/" ? `/${rel}` : `${dir}/${rel}`;
}

/** The weight files of a model that a rule links: by extension; a shard set's index.json goes with its shards. */
function unitFiles(files: ModelFiles["files"], exts: Set<string>): ModelFiles["files"][number][] {
  let indexJson = false;
  const picked = files.filter((f) => {
    const n = f.name;
    if (n.endsWith(".index.json")) indexJson = true;
    const base = n.slice(n.lastIndexOf("/") + 1);
    if (base === METADATA_FILE || base === OVERRIDES_FILE || base.startsWith(".")) return false;
    const dot = base.lastIndexOf(".");
    return dot > 0 && exts.has(base.slice(dot + 1).toLowerCase());
  });
  // Only a model with an index.json can need one added (most have none: no shard name parsing for them).
  if (indexJson && picked.some((f) => shardInfoOf(f.name.slice(f.name.lastIndexOf("/") + 1)))) {
    for (const f of files) if (f.name.endsWith(".index.json") && !picked.includes(f)) picked.push(f);
  }
  return picked;
}

/**
 * The link units of `profile` for this library into the app folder `root`. `forLinks`: a rule whose folder
 * leads into the library (a user's folder symlinked there, --root inside it) is excluded — links are never
 * made inside the library (false for `map config`, which makes no link there).
 */
export function planMapping(lib: ModelLibrary, profile: ResolvedProfile, root: string, signal?: AbortSignal, forLinks = false): MappingPlan {
  const absRoot = path.resolve(root);
  const appDir = path.dirname(absRoot);
  const libraryReal = forLinks ? resolvedPath(lib.root) : null;
  const rules = profile.rules.map((r) => planRule(r, absRoot, appDir, libraryReal));
  const insideApp = appDir === "/" ? "/" : `${appDir}/`;
  const units: PlannedUnit[] = [];
  const excluded: PlanExclusion[] = [];
  const matched: PlanRule[] = [];
  // Each tag list lower-cased once (the index gives records with the same tags one shared array).
  const lowerTags = new Map<readonly string[], string[]>();
  // publisher-repo (LM Studio): projectors without a repo_id wait for every LLM's folder to be known.
  const projectors: { m: ModelFilesRecord; dir: string; files: ModelFiles; r: PlanRule }[] = [];
  const llmFolders: { r: PlanRule; files: ModelFiles; folder: string }[] = [];
  let n = 0;
  // Names, sizes and rule fields come from the index in one statement (reading 10,000 metadata.json files
  // for them was most of an apply's time outside the links); metadata.json is read only for a model whose
  // row lists no files, or when a rule's layout needs its repo_id.
  for (const m of lib.modelFiles()) {
    if (++n % 512 === 0) throwIfAborted(signal, "map");
    let tags = lowerTags.get(m.tags);
    if (tags === undefined) lowerTags.set(m.tags, (tags = m.tags.map((t) => t.toLowerCase())));
    matched.length = 0;
    for (const r of rules) if (matches(r.matcher, m, tags)) matched.push(r);
    if (matched.length === 0) continue;
    const dir = lib.modelDir(m.id);
    const needRepo = matched.some((r) => r.rule.layout === "publisher-repo");
    const files = m.files.length > 0 && !needRepo ? indexedFiles(m, dir, profile.appVersion !== null) : readModelFiles(dir, profile.appVersion !== null);
    const range = files.versionRanges?.[profile.app];
    if (range && profile.appVersion !== null && !safeSatisfies(profile.appVersion, range)) {
      excluded.push({ modelId: m.id, reason: `overrides.json version_ranges limits it to ${profile.app} ${range} (not ${profile.appVersion})` });
      continue;
    }
    for (const r of matched) {
      if (r.leaves !== null) {
        excluded.push({ modelId: m.id, reason: r.leaves });
        continue;
      }
      const pairs = r.rule.layout === "publisher-repo";
      if (pairs && files.repoId === null && isProjector(m)) {
        projectors.push({ m, dir, files, r });
        continue;
      }
      const unit = planUnit(m, dir, files, r);
      if (pairs && typeof unit !== "string" && m.modelType === "llm") llmFolders.push({ r, files, folder: path.dirname(unit.items[0].target) });
      addUnit(unit, m.id);
    }
  }
  if (projectors.length > 0) {
    const byRule = new Map<PlanRule, ModelFolders>();
    for (const l of llmFolders) {
      let folders = byRule.get(l.r);
      if (!folders) byRule.set(l.r, (folders = new ModelFolders()));
      folders.add(pairingKeys(l.files.files.map((f) => f.name), l.files.names), l.folder);
    }
    for (const { m, dir, files, r } of projectors) {
      const unit = planUnit(m, dir, files, r);
      const beside = byRule.get(r)?.foldersFor(pairingKeys(files.files.map((f) => f.name), files.names)) ?? [];
      // Beside every LLM it belongs to (LM Studio reads it from the model's own folder); else in local/<family>.
      if (typeof unit !== "string" && beside.length > 0) {
        unit.items = beside.flatMap((folder) => unit.items.map((i) => ({ ...i, target: under(folder, path.basename(i.target)) })));
      }
      addUnit(unit, m.id);
    }
  }
  return { appDir, root: absRoot, units, excluded };

  function addUnit(unit: PlannedUnit | string, modelId: string): void {
    if (typeof unit === "string") excluded.push({ modelId, reason: unit });
    // Inside by construction (safe segments under a folder inside the app folder); checked all the same.
    else if (unit.items.some((i) => !i.target.startsWith(insideApp))) excluded.push({ modelId, reason: `a target would leave the app folder ${appDir}` });
    else units.push(unit);
  }
}

function safeSatisfies(version: string, range: string): boolean {
  try {
    return satisfies(version, range);
  } catch {
    return true; // an unreadable range is reported by nobody here; it does not hide the model
  }
}

function planUnit(m: ModelFilesRecord, dir: string, files: ModelFiles, r: PlanRule): PlannedUnit | string {
  const { rule, base } = r;
  const layout = rule.layout ?? "files";
  if (layout === "folder") {
    const name = safeSegment(path.basename(dir));
    if (!name) return `folder name of ${dir} is not usable`;
    return { modelId: m.id, targetDir: rule.target_dir, items: [{ source: dir, target: under(base, name), isDir: true, size: undefined, action: "create", reason: null }] };
  }
  const picked = unitFiles(files.files, r.exts);
  if (picked.length === 0) return `no ${(rule.extensions ?? DEFAULT_EXTENSIONS).join("/")} file to link for ${rule.target_dir}`;
  let prefix = "";
  if (layout === "publisher-repo") {
    const [owner, repo] = (files.repoId ?? "").split("/");
    const o = files.repoId ? safeSegment(owner ?? "") : "local";
    const rp = files.repoId ? safeSegment(repo ?? "") : safeSegment(m.family ?? "unknown");
    if (!o || !rp) return `repo_id "${files.repoId}" is not owner/name`;
    prefix = `${o}/${rp}/`;
  }
  const items: PlannedItem[] = [];
  for (const { name, size } of picked) {
    // Every segment must be a usable name as it is (no "", ".", "..", separators, padding): then joining by
    // "/" is exact and the target cannot leave the rule's folder.
    const slash = name.lastIndexOf("/");
    if (slash < 0 ? safeSegment(name) !== name : name.split("/").some((p) => safeSegment(p) !== p)) return `file name "${name}" in metadata.json is not a safe relative path`;
    const rel = layout === "files" || slash < 0 ? name : name.slice(slash + 1);
    let source = under(dir, name);
    if (!fs.existsSync(source)) {
      // The original's in-place import lists a file of a sub-folder by its bare name (`model.onnx` for
      // `onnx/model.onnx`): linked as listed, it would be a dangling link. Found once in the folder, that file is
      // linked; else the model is left out, saying why.
      // (by name only: two files of one name, told apart by size, would still land on one target)
      const found = slash < 0 ? filesByBareName(dir, name) : [];
      if (found.length !== 1) {
        return found.length === 0
          ? `file "${name}" listed in metadata.json is not in ${dir}`
          : `file "${name}" listed in metadata.json is in several sub-folders of ${dir} (${found.join(", ")}): which one is meant is unknown`;
      }
      source = under(dir, found[0]);
    }
    items.push({ source, target: under(base, prefix + rel), isDir: false, size: files.zeroIsNone && size === 0 ? undefined : size, action: "create", reason: null });
  }
  return { modelId: m.id, targetDir: rule.target_dir, items };
}
