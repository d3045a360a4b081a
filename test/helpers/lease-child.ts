// A child process for the lease tests: `node --import tsx lease-child.ts staging|lock ROOT` makes a staging
// folder (or takes the commit lock) of the library at ROOT, prints `ready <path>` and then waits to be killed.
import { join } from "node:path";
import { makeStagingDir } from "../../src/store/staging.js";
import { acquireLock } from "../../src/core/lock.js";
import { COMMIT_LOCK } from "../../src/store/layout.js";

const [what, root] = process.argv.slice(2);
let path: string;
if (what === "staging") {
  path = await makeStagingDir(root);
} else {
  path = join(root, COMMIT_LOCK);
  await acquireLock(path);
}
process.stdout.write(`ready ${path}\n`);
setInterval(() => undefined, 1000); // stay alive until killed
