// The download benchmark's client process: one downloadFile from the fake Hub, its result as JSON on stdout.
// Run as a child of bench/download.ts, so the client never shares a thread with the server (curl does not).
// With --wait-go it prints "ready" once started and begins when a line comes on stdin: the benchmark then
// starts the timed download as it starts curl, right after deleting the previous run's files (see there).
import { downloadFile } from "../src/hub/download-file.js";

const args = process.argv.slice(2);
const waitGo = args[0] === "--wait-go";
const [url, partialPath, size, sha256, connections] = waitGo ? args.slice(1) : args;
if (waitGo) {
  process.stdout.write("ready\n");
  await new Promise((resolve) => process.stdin.once("data", resolve));
  process.stdin.destroy();
}
const t = performance.now();
const r = await downloadFile({
  config: { endpoint: new URL(url).origin, token: null, tokenSource: null, offline: false, cacheDir: "/nonexistent" },
  url,
  partialPath,
  expectedSize: Number(size),
  expectedSha256: sha256,
  connections: Number(connections),
});
const cpu = process.cpuUsage();
process.stdout.write(
  `${JSON.stringify({ ms: performance.now() - t, cpuMs: (cpu.user + cpu.system) / 1000, sha256: r.sha256, partsFetched: r.partsFetched, fetchedBytes: r.fetchedBytes, resumedBytes: r.resumedBytes })}\n`,
);
