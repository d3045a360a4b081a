// `mlib map preview APP --root DIR`: what apply would create, leave, replace, and every conflict with its
// reason; plus whether the app is on another filesystem or sandboxed. Reads only.
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import { checkTarget } from "./app-target.js";
import { classifyPlan, type ClassifiedItem } from "./classify.js";
import { environmentNotes, type SandboxInfo } from "./environment.js";
import { planMapping, type PlanExclusion } from "./plan.js";
import { LinkRegistry } from "./registry.js";
import type { AppTarget } from "./types.js";

export type PreviewParams = AppTarget;

export interface PreviewEntry {
  modelId: string;
  targetDir: string;
  source: string;
  target: string;
  isDir: boolean;
  reason: string | null;
}

export interface MappingPreview {
  app: string;
  appVersion: string | null;
  root: string;
  appDir: string;
  rootExists: boolean;
  creates: PreviewEntry[];
  /** Already in place. */
  skips: PreviewEntry[];
  /** Broken links of ours that apply re-makes. */
  replaces: PreviewEntry[];
  conflicts: PreviewEntry[];
  excluded: PlanExclusion[];
  crossFilesystem: boolean;
  sandbox: SandboxInfo | null;
  notes: string[];
}

export async function previewMapping(library: ModelLibrary, params: PreviewParams, options: OperationOptions = {}): Promise<MappingPreview> {
  const t = checkTarget(params);
  options.onProgress?.({ op: "map", phase: "plan" });
  const plan = planMapping(library, t.profile, t.root, options.signal, true);
  const reg = LinkRegistry.load(library.root);
  const units = classifyPlan(plan, reg);
  const env = environmentNotes(t.root, library.root);
  const out: MappingPreview = {
    app: t.profile.app,
    appVersion: t.profile.appVersion,
    root: t.root,
    appDir: t.appDir,
    rootExists: t.rootExists,
    creates: [],
    skips: [],
    replaces: [],
    conflicts: [],
    excluded: plan.excluded,
    crossFilesystem: env.crossFilesystem,
    sandbox: env.sandbox,
    notes: env.notes,
  };
  const bucket: Record<ClassifiedItem["action"], PreviewEntry[]> = { create: out.creates, exists: out.skips, replace: out.replaces, conflict: out.conflicts };
  for (const u of units) {
    for (const i of u.items) bucket[i.action].push({ modelId: u.modelId, targetDir: u.targetDir, source: i.source, target: i.target, isDir: i.isDir, reason: i.reason });
  }
  if (!t.rootExists) out.notes.push(`${t.root} does not exist yet: apply creates it`);
  options.onProgress?.({ op: "map", phase: "done" });
  return out;
}
