// A model folder filled the way rsync (and other copy tools) fill it: each file written under a hidden temporary
// name, renamed to its own name when complete. The watcher must not adopt the folder while the next file is still
// being written under its hidden name (it would adopt the model without that file, and never look at it again).
import { test } from "node:test";
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { spawn } from "node:child_process";
import { ModelLibrary } from "../../../src/store/model-library.js";
import { watchLibrary, type WatchEvent } from "../../../src/watcher/watch-library.js";
import { tempDir, writeGgufModel } from "../../helpers/library-fixtures.js";

test("a folder copied file by file under hidden temporary names is adopted once the last file is in, with every file", async () => {
  const t = tempDir("mlib-watch-copy-");
  const root = path.join(t.dir, "lib");
  const lib = await ModelLibrary.open(root);
  const events: WatchEvent[] = [];
  const w = await watchLibrary(lib, { debounceMs: 50, settleMs: 300, onEvent: (e) => events.push(e) });
  const dir = path.join(root, "llm", "llama", "pair");
  const from = writeGgufModel(path.join(t.dir, "from", "b.gguf"), "Pair B", 82);
  fs.truncateSync(from, 1024 * 1024);
  try {
    writeGgufModel(path.join(dir, "a.gguf"), "Pair A", 81); // the first file, complete
    // The second, copied in by another process: 16 KiB every 20 ms into `.b.gguf.Xy12Ab` (about 1.3 s, well past
    // the settle time), then renamed to b.gguf.
    const writer = spawn(process.execPath, ["-e", `
      const fs = require("node:fs");
      const src = fs.readFileSync(${JSON.stringify(from)});
      const tmp = ${JSON.stringify(path.join(dir, ".b.gguf.Xy12Ab"))};
      const fd = fs.openSync(tmp, "w");
      let at = 0;
      const timer = setInterval(() => {
        const n = Math.min(16384, src.length - at);
        fs.writeSync(fd, src, at, n);
        at += n;
        if (at < src.length) return;
        clearInterval(timer);
        fs.closeSync(fd);
        fs.renameSync(tmp, ${JSON.stringify(path.join(dir, "b.gguf"))});
      }, 20);
    `], { stdio: "inherit" });
    await new Promise((resolve) => writer.on("exit", resolve));
    const end = Date.now() + 10_000;
    while (!events.some((e) => e.type === "adopted") && Date.now() < end) await new Promise((r) => setTimeout(r, 50));
    await w.flush();
    const adopted = events.filter((e) => e.type === "adopted");
    assert.equal(adopted.length, 1, JSON.stringify(events));
    const meta = await lib.getMetadata("llm/llama/pair");
    assert.deepEqual(meta.files!.map((f) => f.name).sort(), ["a.gguf", "b.gguf"], "adopted before the copy of b.gguf was over");
  } finally {
    await w.close();
    lib.close();
    t.cleanup();
  }
});
