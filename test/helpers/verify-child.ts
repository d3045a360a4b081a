// `mlib verify` through the API in a child process that pauses at its first progress event until the file GO
// exists: `node --import tsx verify-child.ts LIBRARY GO [ID...]`. Prints "HASHING" when it pauses, then the
// summary as JSON. (The pause blocks this thread; the test meanwhile changes the library from another process.)
import { existsSync } from "node:fs";
import { ModelLibrary, verifyModels } from "../../src/index.js";
import { closeHashWorkers } from "../../src/hashing/index.js";

const [root, go, ...ids] = process.argv.slice(2);
const lib = await ModelLibrary.open(root);
const block = new Int32Array(new SharedArrayBuffer(4));
let paused = false;
try {
  const summary = await verifyModels(lib, { ids }, {
    onProgress: () => {
      if (paused) return;
      paused = true;
      process.stdout.write("HASHING\n");
      while (!existsSync(go)) Atomics.wait(block, 0, 0, 20);
    },
  });
  process.stdout.write(JSON.stringify(summary) + "\n");
} finally {
  lib.close();
  await closeHashWorkers();
}
