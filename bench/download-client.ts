// The download benchmark's client process: one downloadFile from the fake Hub, its result as JSON on stdout.
// Run as a child of bench/download.ts, so the client never shares a thread with the server (curl does not).
import { downloadFile } from "../src/hub/download-file.js";

const [url, partialPath, size, sha256, connections] = process.argv.slice(2);
const t = performance.now();
const r = await downloadFile({
  config: { endpoint: new URL(url).origin, token: null, tokenSource: null, offline: false, cacheDir: "/nonexistent" },
  url,
  partialPath,
  expectedSize: Number(size),
  expectedSha256: sha256,
  connections: Number(connections),
});
process.stdout.write(`${JSON.stringify({ ms: performance.now() - t, sha256: r.sha256, partsFetched: r.partsFetched, fetchedBytes: r.fetchedBytes, resumedBytes: r.resumedBytes })}\n`);
