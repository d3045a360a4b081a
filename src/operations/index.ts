export { ModelLibrary, type OpenOptions, type ModelOverrides } from "../store/model-library.js";
export { importModels, type ImportOptions, type ImportResult, type ImportProgress, type ImportMode, type ImportStage } from "./import-models.js";
export { planImport, type ImportUnit } from "./plan-import.js";
export { verifyModels, type VerifyResult, type VerifyFileResult, type VerifyProgress } from "./verify-models.js";
export { importInPlace, adoptOrphans, findOrphans, incompleteShardReport, type InPlaceImportSpec, type AdoptResult, type OrphanFolder } from "./import-in-place.js";
export { redetectModels, type RedetectResult } from "./redetect-models.js";
export { defaultLibraryRoot } from "../store/layout.js";
export { blankMetadata, normalizeMetadata, serializeMetadata, type ModelMetadata, type MetadataFile } from "../store/metadata.js";
export type { ReconcileReport, ReconcileMode } from "../store/reconcile.js";
