// The operations layer: one exported function per user-level operation, each in a file named after it, all
// with the call shape `op(library, params, { signal, onProgress })` → a typed result (see types.ts).
export type { OperationOptions, ProgressEvent, ProgressListener } from "./types.js";
export { ModelLibrary, UNCHANGED, type OpenOptions, type ModelOverrides, type LibraryNotice } from "../store/model-library.js";
export type { StagingReport } from "../store/staging.js";
export type { LeaseTimings } from "../core/lease.js";
export {
  importModels,
  type ImportParams,
  type ImportSettings,
  type ImportSummary,
  type ImportResult,
  type ImportStatus,
  type ImportMode,
  type ImportOptions,
  type ImportProgress,
  type ImportStage,
} from "./import-models.js";
export { planImport, type ImportUnit, type PlanImportParams, type PlanImportResult } from "./plan-import.js";
export { importInPlace, type InPlaceImportSpec, type InPlaceResult } from "./import-in-place.js";
export { adoptOrphans, type AdoptParams, type AdoptResult } from "./adopt-orphans.js";
export { findOrphans, incompleteShardReport, type OrphanFolder } from "./find-orphans.js";
export { verifyModels, type VerifyParams, type VerifySummary, type VerifyResult, type VerifyFileResult, type VerifyProgress, type FileCheck } from "./verify-models.js";
export { redetectModels, type RedetectParams, type RedetectSummary, type RedetectResult } from "./redetect-models.js";
export { removeModel, type RemoveParams, type RemoveResult } from "./remove-model.js";
export { restoreMetadata, type RestoreParams, type RestoreResult } from "./restore-metadata.js";
export { reindexLibrary, type ReindexResult } from "./reindex-library.js";
export { searchModels, type SearchParams, type SearchModelsResult } from "./search-models.js";
export { listModels, type ListParams } from "./list-models.js";
export { getFacets, type FacetsParams } from "./get-facets.js";
export { getStats, type LibraryStats, type StatsGroup } from "./get-stats.js";
export { showModel, type ShowParams, type ModelDetails } from "./show-model.js";
export { initLibrary, type LibraryInfo } from "./init-library.js";
export { defaultLibraryRoot } from "../store/layout.js";
export { blankMetadata, normalizeMetadata, serializeMetadata, type ModelMetadata, type MetadataFile } from "../store/metadata.js";
export type { ReconcileReport, ReconcileMode } from "../store/reconcile.js";
