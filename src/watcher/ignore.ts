// Which names the watcher never reacts to: the library's own writes (index files, locks, staging, the
// atomic-write temp files `.<name>.<pid>.<rand>.tmp`, `.bak` backups) and downloads still in progress (`.part`).
// Without this the original's watcher re-triggered on its own writes (link_registry.json and metadata.json
// matched its `json` extension rule, so a callback that rewrote metadata fired it again).

const IGNORED_SUFFIXES = [".tmp", ".bak", ".part", ".db", ".db-wal", ".db-shm", ".db-journal", ".lock"];
const IGNORED_NAMES = new Set(["link_registry.json", "models.db", "overrides.json"]);

/** True for a name whose appearance, change or removal says nothing about the models. */
export function isIgnoredName(name: string): boolean {
  if (name.startsWith(".")) return true; // .model-library/, .staging/, .commit.lock, temp files, .tmp_import_*
  if (IGNORED_NAMES.has(name)) return true;
  const lower = name.toLowerCase();
  return IGNORED_SUFFIXES.some((s) => lower.endsWith(s));
}
