// The download progress line on a terminal: the file, bytes done of the total, speed and ETA (over the last
// few seconds, so a resume's bytes already on disk do not inflate the speed — the original's quirk).
import { createRequire } from "node:module";
import type { ProgressEvent } from "../operations/types.js";
import { formatBytes } from "./output.js";

export interface DownloadProgress {
  update(e: ProgressEvent): void;
  stop(): void;
}

export function startDownloadProgress(json: boolean): DownloadProgress {
  if (json || !process.stderr.isTTY) return { update: () => undefined, stop: () => undefined };
  const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
  const bar = new cliProgress.SingleBar(
    { stream: process.stderr, format: "{bar} {percentage}% {doneH}/{totalH} {speed}/s ETA {etaH} {file}", barsize: 20, hideCursor: true, clearOnComplete: true, fps: 5 },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const samples: [number, number][] = [];
  return {
    update(e) {
      if (e.phase !== "download" || e.done === undefined || !e.total) return;
      const now = Date.now();
      samples.push([now, e.done]);
      while (samples.length > 2 && now - samples[0][0] > 5000) samples.shift();
      const [t0, d0] = samples[0];
      const rate = now > t0 ? ((e.done - d0) * 1000) / (now - t0) : 0;
      const eta = rate > 0 ? Math.round((e.total - e.done) / rate) : null;
      const file = e.item && e.item.length > 40 ? `…${e.item.slice(-39)}` : (e.item ?? "");
      const payload = { doneH: formatBytes(e.done), totalH: formatBytes(e.total), speed: formatBytes(rate), etaH: eta === null ? "-" : `${eta}s`, file };
      if (!started) {
        bar.start(e.total, e.done, payload);
        started = true;
      } else {
        bar.setTotal(e.total);
        bar.update(e.done, payload);
      }
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
