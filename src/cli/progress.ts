// A byte progress bar on stderr, only when stderr is a terminal and the output is not JSON;
// otherwise every call is a no-op, so pipes, logs and tests never see control characters.
import { createRequire } from "node:module";
import { formatBytes, safeText } from "./output.js";

export interface Progress {
  /** Bytes done out of `total`; `label` is what is being worked on (a file, a model id). */
  update(done: number, total: number, label?: string): void;
  /** Removes the bar (leaves the terminal line clean for the results). */
  stop(): void;
}

const NOOP: Progress = { update: () => undefined, stop: () => undefined };

export function startProgress(options: { json: boolean; title: string }): Progress {
  if (options.json || !process.stderr.isTTY) return NOOP;
  // Loaded only when a bar is drawn (~15 ms of start-up that pipes and --json never need).
  const cliProgress = createRequire(import.meta.url)("cli-progress") as typeof import("cli-progress");
  const bar = new cliProgress.SingleBar(
    {
      stream: process.stderr,
      format: `${options.title} {bar} {percentage}% {doneH}/{totalH} {label}`,
      barsize: 24,
      hideCursor: true,
      clearOnComplete: true,
      fps: 10,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  return {
    update(done, total, label = "") {
      const safe = safeText(label);
      const shortLabel = safe.length > 40 ? `…${safe.slice(-39)}` : safe;
      const payload = { doneH: formatBytes(done), totalH: formatBytes(total), label: shortLabel };
      if (!started) {
        bar.start(Math.max(total, 1), done, payload);
        started = true;
        return;
      }
      bar.setTotal(Math.max(total, 1));
      bar.update(done, payload);
    },
    stop() {
      if (started) bar.stop();
      started = false;
    },
  };
}
