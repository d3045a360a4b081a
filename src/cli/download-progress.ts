// The download progress on a terminal: two lines, the file being fetched and the whole download, each with bytes
// done of its size, speed and ETA. Speeds are over the last few seconds, so a resume's bytes already on disk do not
// inflate them (the original's quirk). Like progress.ts: only on a terminal and without --json; on Ctrl-C the lines
// are stopped at once and the cursor and line wrap turned back on.
import { createRequire } from "node:module";
import type { ProgressEvent } from "../operations/types.js";
import { formatBytes } from "./output.js";
import { barLabel, restoreOnInterrupt } from "./progress.js";

const WINDOW_MS = 5000;

export interface DownloadProgress {
  update(e: ProgressEvent): void;
  stop(): void;
}

/** Bytes per second over the last WINDOW_MS of samples, and the seconds left at that rate. */
export class RateMeter {
  private samples: [number, number][] = [];

  add(now: number, done: number): void {
    this.samples.push([now, done]);
    while (this.samples.length > 2 && now - this.samples[0][0] > WINDOW_MS) this.samples.shift();
  }

  reset(): void {
    this.samples = [];
  }

  rate(): number {
    if (this.samples.length < 2) return 0;
    const [t0, d0] = this.samples[0];
    const [t1, d1] = this.samples[this.samples.length - 1];
    return t1 > t0 ? ((d1 - d0) * 1000) / (t1 - t0) : 0;
  }

  /** "12s", "3m05s", or "-" while the rate is unknown. */
  eta(left: number): string {
    const rate = this.rate();
    if (rate <= 0) return "-";
    const s = Math.round(left / rate);
    return s < 60 ? `${s}s` : `${Math.floor(s / 60)}m${String(s % 60).padStart(2, "0")}s`;
  }
}

const NOOP: DownloadProgress = { update: () => undefined, stop: () => undefined };

export function startDownloadProgress(json: boolean): DownloadProgress {
  if (json || !process.stderr.isTTY) return NOOP;
  // Loaded only when lines are drawn (start-up that pipes and --json never need).
  const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
  const multi = new cliProgress.MultiBar(
    { stream: process.stderr, barsize: 20, hideCursor: true, clearOnComplete: true, fps: 5, gracefulExit: false },
    cliProgress.Presets.shades_classic,
  );
  const line = "{bar} {percentage}% {doneH}/{totalH} {speed}/s ETA {etaH}";
  let fileBar: ReturnType<typeof multi.create> | null = null;
  let totalBar: ReturnType<typeof multi.create> | null = null;
  let file = "";
  const fileRate = new RateMeter();
  const totalRate = new RateMeter();
  let closed = false;
  const stop = () => {
    if (fileBar) multi.stop();
    fileBar = totalBar = null;
  };
  const removeHandler = restoreOnInterrupt(() => {
    const drawn = fileBar !== null;
    stop();
    closed = true;
    return drawn;
  });
  return {
    update(e) {
      if (closed || e.phase !== "download" || e.done === undefined || !e.total) return;
      const now = Date.now();
      const item = e.item ?? "";
      if (item !== file) {
        file = item;
        fileRate.reset();
      }
      const itemTotal = e.itemTotal ?? e.total;
      const itemDone = e.itemDone ?? e.done;
      fileRate.add(now, itemDone);
      totalRate.add(now, e.done);
      const name = barLabel(item);
      const filePayload = { name, doneH: formatBytes(itemDone), totalH: formatBytes(itemTotal), speed: formatBytes(fileRate.rate()), etaH: fileRate.eta(itemTotal - itemDone) };
      const totalPayload = { doneH: formatBytes(e.done), totalH: formatBytes(e.total), speed: formatBytes(totalRate.rate()), etaH: totalRate.eta(e.total - e.done) };
      if (!fileBar || !totalBar) {
        fileBar = multi.create(Math.max(itemTotal, 1), itemDone, filePayload, { format: `${line} {name}` });
        totalBar = multi.create(Math.max(e.total, 1), e.done, totalPayload, { format: `${line} total` });
        return;
      }
      fileBar.setTotal(Math.max(itemTotal, 1));
      fileBar.update(itemDone, filePayload);
      totalBar.setTotal(Math.max(e.total, 1));
      totalBar.update(e.done, totalPayload);
    },
    stop() {
      stop();
      closed = true;
      removeHandler();
    },
  };
}
