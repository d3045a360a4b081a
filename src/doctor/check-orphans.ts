// Folders inside the library with model files but no metadata.json (copied in by hand, a download that landed
// without its metadata): the same finder as `mlib adopt`. A complete set is adopted by --fix (its files hashed,
// metadata.json written, nothing moved); a pickle is not (the import policy); an incomplete shard set is reported.
// A folder whose files changed in the last COPY_SETTLE_MS is a copy still in progress: reported, never adopted half-way
// (the watcher's rule: adopted once the files stopped changing for a moment).
import { readdir, stat } from "node:fs/promises";
import { join } from "node:path";
import { identify } from "../identify/identify.js";
import { importInPlace } from "../operations/import-in-place.js";
import { COPY_SETTLE_MS, findOrphans } from "../operations/find-orphans.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { DoctorProblem } from "./doctor-types.js";


export async function checkOrphans(lib: ModelLibrary): Promise<DoctorProblem[]> {
  const out: DoctorProblem[] = [];
  for (const o of await findOrphans(lib)) {
    if (o.missingFiles.length > 0) {
      out.push({
        kind: "incomplete-shards",
        path: o.dir,
        message: `incomplete shard set: missing ${o.missingFiles.join(", ")} (has ${o.weightFiles.join(", ")})`,
        remedy: "download or copy the missing shards into this folder; it is adopted once complete",
      });
      continue;
    }
    let pickle = false;
    for (const w of o.weightFiles) {
      const ident = await identify(join(o.dir, w)).catch(() => null);
      if (ident?.securityTier === "pickle") pickle = true;
    }
    const changedMsAgo = Date.now() - (await newestFileMtime(o.dir));
    const writing = Math.abs(changedMsAgo) < COPY_SETTLE_MS; // (a future mtime too little ahead to be clock skew: being written)
    out.push({
      kind: "no-metadata",
      path: o.dir,
      message: `model files without metadata.json (${o.weightFiles.join(", ")})${writing ? `; still being written (changed ${Math.max(0, Math.round(changedMsAgo))} ms ago)` : ""}`,
      remedy: pickle
        ? "a pickle (loading it can run code): not adopted unasked; import it with --allow-pickle if you trust it"
        : writing
          ? "wait until the copy is done, then run `mlib doctor --fix` again (it is adopted then)"
          : "adopt it: hash its files and write metadata.json (`mlib adopt`)",
      fix: pickle || writing
        ? undefined
        : async (signal) => {
            // Looked at again just before: a copy that started since the check is not adopted half-way.
            if (Math.abs(Date.now() - (await newestFileMtime(o.dir))) < COPY_SETTLE_MS) throw new Error(`${o.dir}: its files are being written; not adopted (run the doctor again once the copy is done)`);
            const r = await importInPlace(lib, { modelDir: o.dir, officialName: o.officialName, family: o.family === "unknown" ? null : o.family, modelType: o.modelType }, { signal });
            return `adopted ${r.modelId}`;
          },
    });
  }
  return out;
}

/** The newest mtime among a folder's files (hidden ones too: a copy tool's temp file), 0 when none. */
async function newestFileMtime(dir: string): Promise<number> {
  let newest = 0;
  for (const name of await readdir(dir).catch(() => [] as string[])) {
    const st = await stat(join(dir, name)).catch(() => null);
    if (st?.isFile()) newest = Math.max(newest, st.mtimeMs);
  }
  return newest;
}
