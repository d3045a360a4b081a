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
import { DEFAULT_EXTENSIONS, type ResolvedProfile } from "./profiles.js";
import type { MappingRule } from "./types.js";
import { satisfies } from "./version-range.js";

export interface PlannedItem {
  source: string;
  target: string;
  /** The source is a folder (linked as one). */
  isDir: boolean;
  /** The source's size as metadata.json records it. */
  size?: number;
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

const lower = (xs: string[] | null | undefined) => (xs ? xs.map((x) => x.toLowerCase()) : null);

/** All criteria of the rule pass (case-insensitive); an absent list is no constraint. */
export function ruleMatches(rule: MappingRule, m: Pick<ModelFilesRecord, "modelType" | "subtype" | "family" | "tags" | "format">): boolean {
  const inList = (list: string[] | null | undefined, v: string | null) => {
    const l = lower(list);
    return l === null || l.includes((v ?? "").toLowerCase());
  };
  if (!inList(rule.model_types, m.modelType)) return false;
  if (!inList(rule.subtypes, m.subtype)) return false;
  if (!inList(rule.families, m.family)) return false;
  if (!inList(rule.formats, m.format)) return false;
  const tags = m.tags.map((t) => t.toLowerCase());
  const want = lower(rule.tags);
  if (want && want.length > 0 && !want.some((t) => tags.includes(t))) return false;
  const not = lower(rule.exclude_tags);
  if (not && not.some((t) => tags.includes(t))) return false;
  const notFormats = lower(rule.exclude_formats);
  if (notFormats && notFormats.includes((m.format ?? "").toLowerCase())) return false;
  return true;
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
  names: string[];
  sizes: Map<string, number>;
  repoId: string | null;
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
    names: m.files.map((f) => f.name),
    // The index holds 0 where metadata.json gives no size: recorded as no size (nothing to compare later).
    sizes: new Map(m.files.filter((f) => f.size > 0).map((f) => [f.name, f.size])),
    repoId: null,
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
  let meta: { files?: unknown; repo_id?: unknown } = {};
  try {
    meta = JSON.parse(readSmallFile(path.join(dir, METADATA_FILE))) as typeof meta;
  } catch {
    // unreadable metadata: fall back to the folder listing below
  }
  let names: string[] = [];
  const sizes = new Map<string, number>();
  if (Array.isArray(meta.files)) {
    for (const f of meta.files as { name?: unknown; size?: unknown }[]) {
      if (!f || typeof f !== "object" || typeof f.name !== "string") continue;
      names.push(f.name);
      if (typeof f.size === "number") sizes.set(f.name, f.size);
    }
  }
  if (names.length === 0) {
    // The original's rule: the model files directly in the folder.
    try {
      names = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isFile()).map((d) => d.name);
    } catch {
      names = [];
    }
  }
  return { names, sizes, repoId: typeof meta.repo_id === "string" ? meta.repo_id : null, versionRanges: withOverrides ? readVersionRanges(dir) : null };
}

/** The weight files of a model that a rule links: by extension; a shard set's index.json goes with its shards. */
function unitFiles(names: string[], rule: MappingRule): string[] {
  const exts = new Set((rule.extensions ?? DEFAULT_EXTENSIONS).map((e) => e.toLowerCase().replace(/^\./, "")));
  const picked = names.filter((n) => {
    const base = n.slice(n.lastIndexOf("/") + 1);
    if (base === METADATA_FILE || base === OVERRIDES_FILE || base.startsWith(".")) return false;
    const dot = base.lastIndexOf(".");
    return dot > 0 && exts.has(base.slice(dot + 1).toLowerCase());
  });
  if (picked.some((n) => shardInfoOf(n.slice(n.lastIndexOf("/") + 1)))) {
    for (const n of names) if (n.endsWith(".index.json") && !picked.includes(n)) picked.push(n);
  }
  return picked;
}

/** The link units of `profile` for this library into the app folder `root`. */
export function planMapping(lib: ModelLibrary, profile: ResolvedProfile, root: string, signal?: AbortSignal): MappingPlan {
  const absRoot = path.resolve(root);
  const appDir = path.dirname(absRoot);
  const units: PlannedUnit[] = [];
  const excluded: PlanExclusion[] = [];
  let n = 0;
  // Names, sizes and rule fields come from the index in one statement (reading 10,000 metadata.json files
  // for them was most of an apply's time outside the links); metadata.json is read only for a model whose
  // row lists no files, or when a rule's layout needs its repo_id.
  for (const m of lib.modelFiles()) {
    if (++n % 512 === 0) throwIfAborted(signal, "map");
    const rules = profile.rules.filter((r) => ruleMatches(r, m));
    if (rules.length === 0) continue;
    const dir = lib.modelDir(m.id);
    const needRepo = rules.some((r) => r.layout === "publisher-repo");
    const files = m.files.length > 0 && !needRepo ? indexedFiles(m, dir, profile.appVersion !== null) : readModelFiles(dir, profile.appVersion !== null);
    const range = files.versionRanges?.[profile.app];
    if (range && profile.appVersion !== null && !safeSatisfies(profile.appVersion, range)) {
      excluded.push({ modelId: m.id, reason: `overrides.json version_ranges limits it to ${profile.app} ${range} (not ${profile.appVersion})` });
      continue;
    }
    for (const rule of rules) {
      const base = path.resolve(absRoot, rule.target_dir);
      if (!isInside(appDir, base) && base !== appDir) {
        excluded.push({ modelId: m.id, reason: `rule target_dir "${rule.target_dir}" leaves the app folder ${appDir}` });
        continue;
      }
      const unit = planUnit(m, dir, files, rule, base);
      if (typeof unit === "string") excluded.push({ modelId: m.id, reason: unit });
      else if (unit.items.some((i) => !isInside(appDir, i.target))) excluded.push({ modelId: m.id, reason: `a target would leave the app folder ${appDir}` });
      else units.push(unit);
    }
  }
  return { appDir, root: absRoot, units, excluded };
}

function safeSatisfies(version: string, range: string): boolean {
  try {
    return satisfies(version, range);
  } catch {
    return true; // an unreadable range is reported by nobody here; it does not hide the model
  }
}

function planUnit(m: ModelFilesRecord, dir: string, files: ModelFiles, rule: MappingRule, base: string): PlannedUnit | string {
  const layout = rule.layout ?? "files";
  if (layout === "folder") {
    const name = safeSegment(path.basename(dir));
    if (!name) return `folder name of ${dir} is not usable`;
    return { modelId: m.id, targetDir: rule.target_dir, items: [{ source: dir, target: path.join(base, name), isDir: true }] };
  }
  const names = unitFiles(files.names, rule);
  if (names.length === 0) return `no ${(rule.extensions ?? DEFAULT_EXTENSIONS).join("/")} file to link for ${rule.target_dir}`;
  let prefix: string[] = [];
  if (layout === "publisher-repo") {
    const [owner, repo] = (files.repoId ?? "").split("/");
    const o = files.repoId ? safeSegment(owner ?? "") : "local";
    const r = files.repoId ? safeSegment(repo ?? "") : safeSegment(m.family ?? "unknown");
    if (!o || !r) return `repo_id "${files.repoId}" is not owner/name`;
    prefix = [o, r];
  }
  const items: PlannedItem[] = [];
  for (const name of names) {
    const parts = name.split("/");
    if (parts.some((p) => safeSegment(p) !== p)) return `file name "${name}" in metadata.json is not a safe relative path`;
    const rel = layout === "files" ? parts : [parts[parts.length - 1]];
    items.push({ source: path.join(dir, ...parts), target: path.join(base, ...prefix, ...rel), isDir: false, size: files.sizes.get(name) });
  }
  return { modelId: m.id, targetDir: rule.target_dir, items };
}
