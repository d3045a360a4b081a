// A download paused (Ctrl-C, an abort) while its control poll waits for downloads.json's lock: the poll must not write
// after the pause. It did: it recorded this process as the runner again, and as long as the process lived (a server,
// an API user), the paused download read as "already running" to every other process.
import { test, before, after } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readJson } from "../../../src/core/atomic-json.js";
import { acquireLock, releaseLock } from "../../../src/core/lock.js";
import { downloadModel } from "../../../src/hub/download-model.js";
import { downloadsFile, type DownloadEntry } from "../../../src/hub/download-state.js";
import { openHubWorld, type HubWorld } from "../../helpers/hub-world.js";

let world: HubWorld;
before(async () => {
  world = await openHubWorld({ repos: [{ id: "acme/slow-GGUF", files: [{ path: "slow-Q4_K_M.gguf", content: randomBytes(2 * 1024 * 1024) }] }] }, "mlib-pause-race-");
});
after(() => world.close());

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

test("a pause while the control poll waits for the lock leaves the download paused with no runner", async () => {
  const { lib, hub, client } = world;
  const lockPath = `${downloadsFile(lib.root)}.lock`;
  for (let round = 0; round < 3; round++) {
    hub.faults.push({ kind: "stall", afterBytes: 1000, stallMs: 5000, times: 1 });
    const ac = new AbortController();
    const run = downloadModel(lib, { repoId: "acme/slow-GGUF", client, controlPollMs: 20, retry: { attempts: 3, baseMs: 1, capMs: 5, maxServerWaitMs: 1000 }, stallMs: 10_000 }, { signal: ac.signal });
    run.catch(() => undefined);
    for (let i = 0; i < 200 && !hub.requests.some((q) => q.origin === "cdn" && q.range && q.range !== "bytes=0-0"); i++) await sleep(10);
    await sleep(100);
    // The poll (every 20 ms) now waits for the lock, its backoff growing; the pause then queues behind it too.
    const holder = await acquireLock(lockPath);
    await sleep(200);
    ac.abort();
    await sleep(15);
    await releaseLock(lockPath, holder);
    await assert.rejects(run, /paused/);
    await sleep(300); // whatever poll was still waiting has written by now
    const file = await readJson<{ downloads: DownloadEntry[] }>(downloadsFile(lib.root));
    const [entry] = file!.downloads;
    assert.equal(entry.status, "paused", `round ${round}`);
    assert.equal(entry.runner ?? null, null, `round ${round}: no runner recorded after the pause (${JSON.stringify(entry.runner)})`);
    hub.faults.length = 0;
    hub.requests.length = 0;
  }
});
