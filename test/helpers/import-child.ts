// A child process for the crash and concurrency tests: `node --import tsx import-child.ts LIBRARY PATH... [--mode M]`
// imports the paths and prints the results as JSON on stdout; stage changes go to stderr as `stage <name>:<unit>`.
import { ModelLibrary, importModels, type ImportMode } from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";

const args = process.argv.slice(2);
const modeAt = args.indexOf("--mode");
const mode = (modeAt >= 0 ? args.splice(modeAt, 2)[1] : "copy") as ImportMode;
const [root, ...paths] = args;
const lib = await ModelLibrary.open(root);
try {
  // Each stage change is announced on stderr, so a test can kill the process at a chosen moment.
  let last = "";
  const results = await importModels(lib, paths, {
    mode,
    onProgress: (p) => {
      const marker = `${p.stage}:${p.unitIndex}`;
      if (marker !== last) process.stderr.write(`stage ${marker}\n`);
      last = marker;
    },
  });
  process.stdout.write(JSON.stringify(results));
} finally {
  lib.close();
  await closeHashWorkers();
}
