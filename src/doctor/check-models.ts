// Every model folder read once: metadata.json that does not parse (the .bak offered), files missing or changed
// since they were hashed (size, and mtime where recorded), files never hashed, shard sets with shards missing,
// `.part` files nobody can resume, models identified by an older identify (by the revision their metadata.json
// records: no model bytes read), and the index compared with what is on disk.
import type { Dirent } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { join } from "node:path";
import { backupPathOf } from "../core/atomic-json.js";
import { ModelLibraryError, throwIfAborted } from "../core/errors.js";
import { walkFolders } from "../core/walk.js";
import { hashFile } from "../hashing/index.js";
import { isModelFileName } from "../formats/sniff.js";
import { unsafeRelativePathReason } from "../formats/naming.js";
import { IDENTIFY_VERSION, recordedIdentifyVersion } from "../identify/identify-version.js";
import { incompleteSets } from "../operations/find-orphans.js";
import { planVerify } from "../operations/verify-files.js";
import { normalizeMetadata } from "../store/metadata.js";
import type { ModelLibrary } from "../store/model-library.js";
import { METADATA_FILE } from "../store/layout.js";
import type { DoctorProblem } from "./doctor-types.js";
import { jsonTempProblem, partProblem } from "./check-housekeeping.js";

const MAX_DEPTH = 8;

export async function checkModels(lib: ModelLibrary, signal?: AbortSignal): Promise<{ problems: DoctorProblem[]; notices: DoctorProblem[]; models: number }> {
  const problems: DoctorProblem[] = [];
  const onDisk = new Map<string, { mtimeMs: number; size: number }>();
  const corrupt = new Set<string>();
  const outdated: string[] = [];

  // Hidden folders (.model-library, staging) are not entered; hidden files still count (a `.part` record's name).
  // An unreadable folder is left out here (the checks that read a model report it).
  await walkFolders(
    lib.root,
    async ({ abs, rel, entries }) => {
      throwIfAborted(signal, "doctor");
      const names = new Set(entries.map((e) => e.name));
      for (const e of entries) {
        if (!e.isFile()) continue;
        pushIf(problems, partProblem(join(abs, e.name), names, e.name));
        pushIf(problems, await jsonTempProblem(join(abs, e.name), e.name));
      }
      if (!rel || !names.has(METADATA_FILE)) return true;
      await checkModel(lib, rel, abs, problems, onDisk, corrupt, outdated);
      await partsUnder(abs, problems);
      return false; // a model's sub-folders are its own: only looked at for `.part` files
    },
    { maxDepth: MAX_DEPTH, skip: hiddenFolder, unreadable: "skip" },
  );

  // The index against the disk: models missing from it, rows of folders gone, rows older than their file.
  const indexed = lib.indexedState();
  const missing = [...onDisk.keys()].filter((id) => !indexed.has(id) && !corrupt.has(id));
  const gone = [...indexed.keys()].filter((id) => !onDisk.has(id));
  const stale = [...onDisk].filter(([id, st]) => {
    const row = indexed.get(id);
    return row && !corrupt.has(id) && (row.metaMtimeMs !== st.mtimeMs || row.metaSize !== st.size);
  }).map(([id]) => id);
  if (missing.length + gone.length + stale.length > 0) {
    const sample = (ids: string[]) => (ids.length > 5 ? `${ids.slice(0, 5).join(", ")}...` : ids.join(", "));
    const parts = [
      missing.length ? `${missing.length} not in the index (${sample(missing)})` : "",
      gone.length ? `${gone.length} indexed but gone (${sample(gone)})` : "",
      stale.length ? `${stale.length} changed since indexed (${sample(stale)})` : "",
    ].filter(Boolean);
    problems.push({
      kind: "index-out-of-step",
      path: lib.root,
      message: `the index disagrees with the metadata.json files: ${parts.join("; ")}`,
      remedy: "re-read the models concerned (what `mlib reindex` does for all)",
      fix: async () => {
        const r = await lib.reconcile("full");
        return `index brought in step: ${r.added} added, ${r.updated} updated, ${r.removed} removed`;
      },
    });
  }
  const old = outdatedIdentification(lib, outdated);
  return { problems, notices: old ? [old] : [], models: onDisk.size };
}

/**
 * Models whose metadata.json was written by an older identify (or records no revision: imported before it was
 * recorded, or by the original): their type, subtype or family may be what identify said then. One notice for
 * them all (a library imported before an upgrade has thousands), naming a few. Not a --fix: a redetect re-reads
 * every model's header and may re-classify models (and so where `mlib map` links them), which the user runs.
 */
function outdatedIdentification(lib: ModelLibrary, ids: string[]): DoctorProblem | null {
  if (ids.length === 0) return null;
  ids.sort();
  const n = ids.length;
  const few = n <= 5;
  return {
    kind: "identify-outdated",
    path: lib.root,
    message: `${n} model${n === 1 ? " was" : "s were"} identified by an older version of mlib (${few ? ids.join(", ") : `${ids.slice(0, 5).join(", ")}...`}): type, subtype or family may be out of date (e.g. a FLUX transformer kept as a checkpoint, a FLUX GGUF as an LLM)`,
    remedy: few ? `mlib redetect ${ids.join(" ")}` : "mlib redetect (identifies every model again; choices made by hand are kept)",
  };
}

async function checkModel(
  lib: ModelLibrary,
  id: string,
  dir: string,
  problems: DoctorProblem[],
  onDisk: Map<string, { mtimeMs: number; size: number }>,
  corrupt: Set<string>,
  outdated: string[],
): Promise<void> {
  const file = join(dir, METADATA_FILE);
  const st = await stat(file).catch(() => null);
  if (!st?.isFile()) return;
  onDisk.set(id, { mtimeMs: st.mtimeMs, size: st.size });
  let parsed: unknown;
  let damage: string | null = null;
  try {
    parsed = JSON.parse(await readFile(file, "utf8"));
    // Valid JSON that is no object (`null`, `[]`: a bad hand edit) says nothing of the model: as damaged as a torn file.
    if (!isObject(parsed)) damage = `metadata.json is valid JSON but not an object (${parsed === null ? "null" : Array.isArray(parsed) ? "an array" : typeof parsed})`;
  } catch {
    damage = "metadata.json is not valid JSON";
  }
  if (damage) {
    corrupt.add(id);
    const bak = backupPathOf(file);
    const bakOk = await readFile(bak, "utf8").then((t) => isObject(JSON.parse(t)), () => false);
    problems.push({
      kind: "metadata-corrupt",
      path: file,
      id,
      message: damage,
      remedy: bakOk
        ? `restore the previous version from ${bak} (the damaged file is kept as metadata.json.corrupt)`
        : "no usable backup: move metadata.json away and run `mlib adopt` to make a new one from the files",
      fix: bakOk
        ? async () => {
            // Kept aside and restored under one hold of the commit lock, only while still damaged: renamed away
            // first, the folder had no metadata.json for a moment, which another doctor or `mlib watch` adopted as
            // a new model (and this restore then refused to replace), and a second doctor moved the restored file
            // over the damaged one it kept.
            const r = await lib.restoreMetadataBackup(id, { onlyDamaged: true, keepAs: `${file}.corrupt` });
            if (!r.restored) return `${file} is whole again (another process restored or rewrote it meanwhile): left as it is`;
            return `restored ${file} from ${bak} (damaged file kept as ${r.keptAs ?? `${file}.corrupt`})`;
          }
        : undefined,
    });
    return;
  }
  const meta = normalizeMetadata(parsed);
  // What redetect would look at again: not a choice made by hand (it keeps those), not a model without weights.
  const weights = (meta.files ?? []).some((f) => isModelFileName(f.name));
  if (weights && meta.match_source !== "manual" && recordedIdentifyVersion(meta) < IDENTIFY_VERSION) outdated.push(id);
  // Each listed file is found as verify finds it: the original's in-place import lists a nested file by its bare
  // name (`model.onnx` for `onnx/model.onnx`), and only model-level hashes, of its largest file. planVerify keeps
  // the listed order, one entry per listed file.
  const plan = await planVerify(dir, meta);
  const unhashed: { index: number; name: string; path: string }[] = [];
  // Files covered by the model-level hashes only (the original's largest): hashed by the same --fix, so that one fix
  // settles the model (with the others given per-file hashes, nothing would cover this one at the next check).
  const coveredOnly: { index: number; name: string; path: string; sha256: string | null; blake3: string | null }[] = [];
  for (const [i, f] of (meta.files ?? []).entries()) {
    // A name such as "../../x" (an edited or hostile metadata.json) is never followed: --fix would hash that
    // outside file and record its hashes as the model's.
    const why = unsafeRelativePathReason(f.name);
    if (why !== null) {
      problems.push({
        kind: "unsafe-name",
        path: join(dir, METADATA_FILE),
        id,
        message: `lists the file name ${JSON.stringify(f.name)}, which is not inside the model folder (${why}); not checked`,
        remedy: `correct or remove that entry of its "files" list (\`mlib restore ${id}\` puts back the previous metadata.json)`,
      });
      continue;
    }
    const found = plan.files[i];
    if (found?.state === "ambiguous") continue; // several sub-folders hold that name: there, not missing
    const path = found?.path ? join(dir, ...found.path.split("/")) : join(dir, ...f.name.split("/"));
    const fst = found?.state === "missing" ? null : (found?.stat ?? (await stat(path).catch(() => null)));
    if (!fst?.isFile()) {
      problems.push({ kind: "file-missing", path, id, message: "listed in metadata.json but missing", remedy: `put the file back, or remove the model (\`mlib rm ${id}\`)` });
      continue;
    }
    const sizeChanged = f.size !== null && f.size !== fst.size;
    const mtimeChanged = typeof f.mtime === "number" && Math.abs(f.mtime - fst.mtimeMs) > 1;
    if (sizeChanged) {
      problems.push({
        kind: "file-changed",
        path,
        id,
        message: `size changed since it was hashed (${f.size} → ${fst.size} bytes)`,
        remedy: `check it with \`mlib verify ${id}\`; if the new content is wanted, import it again`,
      });
    } else if (mtimeChanged) {
      // Only the mtime moved (a touch, a copy back, a restore from backup): the content may well be the same, and
      // `mlib verify` then says OK while this would be reported forever. The fix re-hashes the file and records the
      // new mtime only when its SHA-256 is still the recorded one.
      const recordedSha = f.sha256;
      problems.push({
        kind: "file-changed",
        path,
        id,
        message: "modified since it was hashed (mtime differs)",
        remedy: recordedSha
          ? `\`mlib doctor --fix\` re-hashes it and, if the content is the same, records its new mtime; else check it with \`mlib verify ${id}\`, and if the new content is wanted, import it again`
          : `check it with \`mlib verify ${id}\`; if the new content is wanted, import it again`,
        fix: recordedSha ? (signal) => refreshMtime(lib, id, f.name, path, recordedSha, signal) : undefined,
      });
    } else if (!f.sha256 && !found?.sha256 && !found?.blake3) {
      // (the original's largest file is covered by the model-level hashes: verify checks it against them)
      unhashed.push({ index: i, name: f.name, path });
    } else if (!f.sha256) {
      coveredOnly.push({ index: i, name: f.name, path, sha256: found?.sha256 ?? null, blake3: found?.blake3 ?? null });
    }
  }
  const incomplete = incompleteShards(lib, id, dir, meta.files ?? [], meta.repo_id);
  if (incomplete) problems.push(incomplete);
  if (unhashed.length > 0) {
    problems.push({
      kind: "no-hashes",
      path: dir,
      id,
      message: `${unhashed.length} file${unhashed.length === 1 ? "" : "s"} never hashed (${unhashed.slice(0, 3).map((u) => u.name).join(", ")}${unhashed.length > 3 ? "..." : ""}): verify and duplicate checks cannot cover them`,
      remedy: "hash them and record the hashes in metadata.json",
      fix: async (signal) => {
        // By place in the list, not by name: the original lists two sub-folders' files of one name (a diffusers
        // folder's `diffusion_pytorch_model.safetensors`) by that bare name.
        const hashed = new Map<number, { name: string; sha256: string; blake3: string; fastHash: string; mtime: number; size: number }>();
        const toHash: { index: number; name: string; path: string; sha256?: string | null; blake3?: string | null }[] = [...unhashed, ...coveredOnly];
        for (const { index, name, path: p, sha256, blake3 } of toHash) {
          const before = await stat(p);
          const h = await hashFile(p, { signal });
          const after = await stat(p);
          if (before.mtimeMs !== after.mtimeMs || before.size !== after.size) continue; // changing while read: next time
          // A covered file is recorded only as what the model-level hashes say it is (else verify reports it).
          if ((sha256 && sha256 !== h.sha256) || (blake3 && blake3 !== h.blake3)) continue;
          hashed.set(index, { name, sha256: h.sha256, blake3: h.blake3, fastHash: h.fastHash, mtime: after.mtimeMs, size: after.size });
        }
        await lib.updateMetadata(id, (m) => {
          for (const [i, f] of (m.files ?? []).entries()) {
            const h = hashed.get(i);
            if (!h || h.name !== f.name || f.sha256) continue;
            Object.assign(f, { sha256: h.sha256, blake3: h.blake3, fast_hash: h.fastHash, mtime: h.mtime, size: h.size });
          }
          const largest = (m.files ?? []).reduce<(typeof m.files & object)[number] | null>((a, f) => (!a || (f.size ?? 0) > (a.size ?? 0) ? f : a), null);
          if (largest?.sha256 && !m.hashes?.sha256) m.hashes = { sha256: largest.sha256, blake3: largest.blake3 };
        });
        return `hashed ${hashed.size} file${hashed.size === 1 ? "" : "s"} of ${id}`;
      },
    });
  }
}

/**
 * The fix of an mtime-only change: re-hash the file; the same SHA-256 as recorded → record its new mtime (nothing
 * else changes); another one → an error naming the file (the problem stays reported, `mlib verify` shows it).
 */
async function refreshMtime(lib: ModelLibrary, id: string, name: string, path: string, recordedSha: string, signal?: AbortSignal): Promise<string> {
  const before = await stat(path);
  const h = await hashFile(path, { signal });
  const after = await stat(path);
  if (before.mtimeMs !== after.mtimeMs || before.size !== after.size) {
    throw new ModelLibraryError("E_IO", `${path}: changed while it was re-hashed; run \`mlib doctor --fix\` again once it is left alone`, { path });
  }
  if (h.sha256 !== recordedSha) {
    throw new ModelLibraryError("E_HASH_MISMATCH", `${path}: its content changed since it was hashed (SHA-256 ${h.sha256}, recorded ${recordedSha}); see \`mlib verify ${id}\``, { path });
  }
  await lib.updateMetadata(id, (m) => {
    for (const f of m.files ?? []) if (f.name === name && f.sha256 === recordedSha) f.mtime = after.mtimeMs;
  });
  return `recorded the new mtime of ${path} (re-hashed: same SHA-256 as recorded)`;
}

/**
 * A stored shard set with shards missing (stored on purpose incomplete, or never all downloaded). When its Hub
 * repo is known the remedy is the command that fetches only the missing shards (`mlib download --complete`);
 * the doctor names it but cannot run it (the Hub is a feature above the doctor).
 */
function incompleteShards(lib: ModelLibrary, id: string, dir: string, files: { name: string }[], repoId: string | null): DoctorProblem | null {
  let missing: string[];
  try {
    missing = incompleteSets(files.map((f) => f.name).filter(isModelFileName));
  } catch {
    return null; // a set beyond the shard limit: not ours to judge here
  }
  if (missing.length === 0) return null;
  const list = `${missing.slice(0, 5).join(", ")}${missing.length > 5 ? `, ... (${missing.length} in all)` : ""}`;
  return {
    kind: "incomplete-shards",
    path: dir,
    id,
    message: `incomplete shard set: missing ${list}`,
    remedy: repoId
      ? `fetch only the missing shards from the Hub (${repoId}): \`mlib download --complete ${id}\``
      : `its Hub repo is not known: \`mlib lookup ${id}\` (a hash match fills repo_id), then \`mlib download --complete ${id}\`; or copy the missing shards into ${lib.modelDir(id)}`,
  };
}

/** `.part` files in a model's sub-folders, four levels down. */
async function partsUnder(modelDir: string, problems: DoctorProblem[]): Promise<void> {
  await walkFolders(
    modelDir,
    ({ abs, depth, entries }) => {
      if (depth === 0) return; // the model folder itself: already looked at
      const names = new Set(entries.map((e) => e.name));
      for (const e of entries) if (e.isFile()) pushIf(problems, partProblem(join(abs, e.name), names, e.name));
    },
    { maxDepth: 4, skip: hiddenFolder, unreadable: "skip" },
  );
}

function hiddenFolder(e: Dirent): boolean {
  return e.isDirectory() && e.name.startsWith(".");
}

function isObject(v: unknown): boolean {
  return v !== null && typeof v === "object" && !Array.isArray(v);
}

function pushIf(list: DoctorProblem[], p: DoctorProblem | null): void {
  if (p) list.push(p);
}
