// Child process for the mapper's crash and concurrency tests: `applyMapping` of one app, as `mlib map apply`
// would run it. argv: libraryRoot app root linkMethod. Prints the result's counts as JSON.
import { ModelLibrary } from "../../src/store/model-library.js";
import { applyMapping } from "../../src/mapper/apply-mapping.js";
import type { LinkChoice } from "../../src/mapper/types.js";

const [libraryRoot, app, root, link] = process.argv.slice(2);
const lib = await ModelLibrary.open(libraryRoot, { reconcile: "none" });
try {
  const r = await applyMapping(lib, { app, root, link: link as LinkChoice, configDir: "/nonexistent-mlib-config" });
  process.stdout.write(JSON.stringify({ made: r.made.length, existing: r.existing, conflicts: r.conflicts.length, errors: r.errors }) + "\n");
} finally {
  lib.close();
}
