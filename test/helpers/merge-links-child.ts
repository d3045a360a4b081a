// A merge run as `mlib merge` runs it (links re-pointed before the journal is removed) that stops dead inside the
// re-pointing, holding both registry locks, so the test can kill -9 it there. argv: <library root> <source>.
import { ModelLibrary } from "../../src/store/model-library.js";
import { mergeLibrary } from "../../src/merge/merge-library.js";
import { repointLinks } from "../../src/mapper/repoint-links.js";

const [root, source] = process.argv.slice(2);
const lib = await ModelLibrary.open(root);
const block = new Int32Array(new SharedArrayBuffer(4));
await mergeLibrary(lib, {
  source,
  beforeFinish: async (r) => {
    const moves = r.results.filter((x) => x.outcome !== "left" && x.destId).map((x) => ({ fromId: x.source, toId: x.destId!, toDir: lib.modelDir(x.destId!), files: r.plan.find((p) => p.source === x.source)?.files }));
    await repointLinks(lib, { sourceRoot: r.source, moves }, {
      onProgress: (e) => {
        if (e.phase === "repoint") {
          process.stdout.write("STOP\n");
          Atomics.wait(block, 0, 0); // the parent kills us here
        }
      },
    });
  },
});
process.stdout.write("FINISHED\n");
lib.close();
