// A byte progress bar on stderr, only when stderr is a terminal and the output is not JSON;
// otherwise every call is a no-op, so pipes, logs and tests never see control characters.
// The bar hides the cursor and turns line wrap off while it draws: on Ctrl-C it is stopped at once and both
// are turned back on (ESC[?25h, ESC[?7h), and it stays stopped while the operation reaches its safe point.
import { createRequire } from "node:module";
import { formatBytes, safeText } from "./output.js";
import { onInterrupt } from "./signals.js";

const SHOW_CURSOR = "\x1b[?25h";
const WRAP_LINES = "\x1b[?7h";

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
  let closed = false;
  const stop = () => {
    if (started) bar.stop();
    started = false;
  };
  const removeHandler = onInterrupt(() => {
    // What bar.stop() restores, said again: the bar may not have drawn its last frame yet.
    const drawn = started;
    stop();
    if (drawn) process.stderr.write(SHOW_CURSOR + WRAP_LINES);
    closed = true;
  });
  return {
    update(done, total, label = "") {
      if (closed) return;
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
      stop();
      closed = true;
      removeHandler();
    },
  };
}
