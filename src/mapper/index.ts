// The mapper: app profiles, the link registry, and one function per operation.
export { listApps, resolveProfile, defaultConfigDir, BUILTIN_CONFIGS, type AppSummary, type ResolvedProfile } from "./profiles.js";
export type { MappingConfig, MappingRule, LinkMethod, LinkChoice, ConflictPolicy, AppTarget } from "./types.js";
export { LinkRegistry, registryPath, REGISTRY_FILE, type LinkEntry } from "./registry.js";
export { previewMapping, type MappingPreview, type PreviewEntry, type PreviewParams } from "./preview-mapping.js";
export { applyMapping, type ApplyParams, type ApplyResult, type AppliedLink } from "./apply-mapping.js";
export { listLinks, type LinkFilter } from "./list-links.js";
export { checkLinks, type CheckResult, type CheckedLink } from "./check-links.js";
export type { LinkStatus } from "./inspect-link.js";
export { repairLinks, type RepairResult, type RepairAction } from "./repair-links.js";
export { unlinkApp, type UnlinkParams, type RemovalResult } from "./unlink-app.js";
export { removeModelLinks, linksOfModel, unlinkBeforeRemoval, removeModelUnlinked, type ModelLinksParams, type BeforeRemovalParams } from "./remove-model-links.js";
export { repointLinks, linksInto, type RepointParams, type RepointResult, type LinkMove, type RepointedLink, type RepointAction } from "./repoint-links.js";
export { writeAppConfig, type AppConfigResult } from "./write-app-config.js";
export { satisfies as versionSatisfies } from "./version-range.js";
