// The worker side of WorkerPrefixHasher, as plain JavaScript run with `new Worker(source, { eval: true })`: it
// reads the file's written prefix back (from the page cache, just written) and feeds SHA-256 and BLAKE3, off the
// thread that receives the bytes. Plain JS because a worker started from TypeScript sources (tests, benches under
// tsx) had to register tsx and compile its imports first: ~200 ms and ~0.15 s of core time taken from the download
// it runs beside. BLAKE3 is the same backend hashing/blake3.ts chose: its native module by path, else hash-wasm.
// workerData: { native: absolute path or null, wasm: hash-wasm's URL or null }.
// Messages: {type:"open",path}, {type:"prefix",end} (hash up to `end`), {type:"finish"} →
// {type:"done",sha256,blake3,hashed} or {type:"error",message}.
export const PREFIX_HASH_WORKER_SOURCE = `
const { parentPort, workerData } = require("node:worker_threads");
const { createHash } = require("node:crypto");
const { openSync, readSync, closeSync } = require("node:fs");
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
const sha = createHash("sha256");
let fd = null;
let hashed = 0;
let failed = null;
let blake3 = null;
const queue = [];

function hashTo(end) {
  while (fd !== null && hashed < end && !failed) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - hashed), hashed);
    if (n <= 0) {
      failed = "short read at " + hashed + " while hashing the download";
      return;
    }
    const chunk = buf.subarray(0, n);
    sha.update(chunk);
    blake3.update(chunk);
    hashed += n;
  }
}

function handle(msg) {
  try {
    if (msg.type === "open") fd = openSync(msg.path, "r");
    else if (msg.type === "prefix") hashTo(msg.end);
    else if (msg.type === "finish") {
      if (fd !== null) closeSync(fd);
      fd = null;
      if (failed) parentPort.postMessage({ type: "error", message: failed });
      else parentPort.postMessage({ type: "done", sha256: sha.digest("hex"), blake3: blake3.digest("hex"), hashed });
    }
  } catch (e) {
    failed = e.message;
    if (msg.type === "finish") parentPort.postMessage({ type: "error", message: failed });
  }
}

// Messages that arrive while the wasm backend loads wait in order.
parentPort.on("message", (msg) => (blake3 ? handle(msg) : queue.push(msg)));
(async () => {
  if (workerData.native) {
    blake3 = new (require(workerData.native).Blake3Hasher)();
  } else {
    const h = await (await import(workerData.wasm)).createBLAKE3();
    h.init();
    blake3 = { update: (b) => h.update(b), digest: (f) => h.digest(f) };
  }
  for (const msg of queue.splice(0)) handle(msg);
})().catch((e) => {
  failed = "cannot start BLAKE3: " + e.message;
  for (const msg of queue.splice(0)) handle(msg);
  parentPort.on("message", handle);
});
`;
