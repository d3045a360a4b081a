// Folders inside the library with model files but no metadata.json (copied in by hand, a download that landed
// without its metadata): the same finder as `mlib adopt`. A complete set is adopted by --fix (its files hashed,
// metadata.json written, nothing moved); a pickle is not (the import policy); an incomplete shard set is reported.
import { join } from "node:path";
import { identify } from "../identify/identify.js";
import { importInPlace } from "../operations/import-in-place.js";
import { findOrphans } from "../operations/find-orphans.js";
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
    out.push({
      kind: "no-metadata",
      path: o.dir,
      message: `model files without metadata.json (${o.weightFiles.join(", ")})`,
      remedy: pickle
        ? "a pickle (loading it can run code): not adopted unasked; import it with --allow-pickle if you trust it"
        : "adopt it: hash its files and write metadata.json (`mlib adopt`)",
      fix: pickle
        ? undefined
        : async () => {
            const r = await importInPlace(lib, { modelDir: o.dir, officialName: o.officialName, family: o.family === "unknown" ? null : o.family, modelType: o.modelType });
            return `adopted ${r.modelId}`;
          },
    });
  }
  return out;
}
