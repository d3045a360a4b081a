// A merge run in a child process that stops dead at a chosen progress event, so the test can kill -9 it there.
// argv: <library root> <source> <phase> <done>. Prints "STOP" when the event fires, then blocks forever.
import { ModelLibrary } from "../../src/store/model-library.js";
import { mergeLibrary } from "../../src/merge/merge-library.js";

const [root, source, phase, doneText] = process.argv.slice(2);
const lib = await ModelLibrary.open(root);
const block = new Int32Array(new SharedArrayBuffer(4));
await mergeLibrary(lib, { source }, {
  onProgress: (e) => {
    if (e.phase === phase && (doneText === "*" || e.done === Number(doneText))) {
      process.stdout.write("STOP\n");
      Atomics.wait(block, 0, 0); // the parent kills us here
    }
  },
});
process.stdout.write("FINISHED\n");
lib.close();
