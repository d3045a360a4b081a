// Child process for the mapper's crash and concurrency tests: `applyMapping` of one app, as `mlib map apply`
// would run it. argv: libraryRoot app root linkMethod [killAtLink]. Prints the result's counts as JSON.
// With killAtLink "kill-at-link", the process kills itself (SIGKILL, as kill -9) at the first progress event
// after 100 links were made: a kill at a known point of the run, for tests that need one every time.
import { ModelLibrary } from "../../src/store/model-library.js";
import { applyMapping } from "../../src/mapper/apply-mapping.js";
import type { LinkChoice } from "../../src/mapper/types.js";

const [libraryRoot, app, root, link, killAtLink] = process.argv.slice(2);
const lib = await ModelLibrary.open(libraryRoot, { reconcile: "none" });
try {
  const r = await applyMapping(
    lib,
    { app, root, link: link as LinkChoice, configDir: "/nonexistent-mlib-config" },
    {
      onProgress: (e) => {
        if (killAtLink === "kill-at-link" && e.phase === "link" && (e.done ?? 0) > 100) process.kill(process.pid, "SIGKILL");
      },
    },
  );
  process.stdout.write(JSON.stringify({ made: r.made.length, existing: r.existing, conflicts: r.conflicts.length, errors: r.errors }) + "\n");
} finally {
  lib.close();
}
