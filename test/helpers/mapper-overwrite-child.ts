// Child process for the overwrite crash test: `applyMapping` with --link copy --on-conflict overwrite.
// argv: libraryRoot app root. The test makes the model's file a FIFO, so the copy blocks (as a copy of a big
// file takes minutes) right after the user's file was moved aside; the test then kills this process (SIGKILL).
import { ModelLibrary } from "../../src/store/model-library.js";
import { applyMapping } from "../../src/mapper/apply-mapping.js";

const [libraryRoot, app, root] = process.argv.slice(2);
const lib = await ModelLibrary.open(libraryRoot, { reconcile: "none" });
try {
  await applyMapping(lib, { app, root, link: "copy", onConflict: "overwrite", configDir: "/nonexistent-mlib-config" });
} finally {
  lib.close();
}
