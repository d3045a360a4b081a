export { ModelLibrary, type OpenOptions, type ModelOverrides } from "./model-library.js";
export { importModels, type ImportOptions, type ImportResult, type ImportProgress, type ImportMode, type ImportStage } from "./importer.js";
export { planImport, type ImportUnit } from "./import-plan.js";
export { verifyModels, type VerifyResult, type VerifyFileResult, type VerifyProgress } from "./verify.js";
export { importInPlace, adoptOrphans, findOrphans, incompleteShardReport, type InPlaceImportSpec, type AdoptResult, type OrphanFolder } from "./in-place.js";
export { redetectModels, type RedetectResult } from "./redetect.js";
export { defaultLibraryRoot } from "./paths.js";
export { blankMetadata, normalizeMetadata, serializeMetadata, type ModelMetadata, type MetadataFile } from "./metadata.js";
export type { ReconcileReport, ReconcileMode } from "./reconcile.js";
