// The worker side of WorkerPrefixHasher: reads the file's written prefix back (from the page cache, just
// written) and feeds SHA-256 and BLAKE3, off the thread that receives the bytes. Messages: {type:"open",path},
// {type:"prefix",end} (hash up to `end`), {type:"finish"} → {type:"done",sha256,blake3,hashed} or {type:"error"}.
import { createHash } from "node:crypto";
import { openSync, readSync, closeSync } from "node:fs";
import { parentPort } from "node:worker_threads";
import { createBlake3 } from "../hashing/blake3.js";

const port = parentPort!;
const buf = Buffer.allocUnsafe(4 * 1024 * 1024);
const sha = createHash("sha256");
const blake3 = await createBlake3();
let fd: number | null = null;
let hashed = 0;
let failed: string | null = null;

function hashTo(end: number): void {
  while (fd !== null && hashed < end && !failed) {
    const n = readSync(fd, buf, 0, Math.min(buf.length, end - hashed), hashed);
    if (n <= 0) {
      failed = `short read at ${hashed} while hashing the download`;
      return;
    }
    const chunk = buf.subarray(0, n);
    sha.update(chunk);
    blake3.update(chunk);
    hashed += n;
  }
}

port.on("message", (msg: { type: string; path?: string; end?: number }) => {
  try {
    if (msg.type === "open") fd = openSync(msg.path!, "r");
    else if (msg.type === "prefix") hashTo(msg.end!);
    else if (msg.type === "finish") {
      if (fd !== null) closeSync(fd);
      fd = null;
      if (failed) port.postMessage({ type: "error", message: failed });
      else port.postMessage({ type: "done", sha256: sha.digest("hex"), blake3: blake3.digestHex(), hashed });
    }
  } catch (e) {
    failed = (e as Error).message;
    if (msg.type === "finish") port.postMessage({ type: "error", message: failed });
  }
});
port.postMessage({ type: "ready" });
