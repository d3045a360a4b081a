// Public API of the Hugging Face Hub feature: the client (search, info, files), downloads and lookups.
export { hubConfig, tokenFilePath, DEFAULT_ENDPOINT, type HubConfig } from "./config.js";
export { HubClient, checkRepoId, HUB_SORTS, type HubSearchParams, type HubSearchResult, type HubSort, type RepoInfo } from "./hub-client.js";
export { toHubModel, kindFromConfig, modelTypeOfKind, compatibleEngines, downloadOptions, type HubModel, type DownloadOption, type RepoFile } from "./convert-model.js";
export { HubCache, type CacheSettings } from "./search-cache.js";
export { downloadFile, type DownloadFileParams, type DownloadFileResult } from "./download-file.js";
export { downloadModel, type DownloadModelParams, type DownloadModelResult, type DownloadedFile } from "./download-model.js";
export { chooseFiles, type FileChoice } from "./choose-files.js";
export { listDownloads, downloadsFile, type DownloadEntry, type DownloadStatus } from "./download-state.js";
export { pauseDownloads, cancelDownloads, type ControlResult } from "./control-downloads.js";
export { lookupModels, nameConfidence, type LookupParams, type LookupResult } from "./lookup-models.js";
