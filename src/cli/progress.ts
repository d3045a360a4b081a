// A byte progress bar on stderr, only when stderr is a terminal and the output is not JSON;
// otherwise every call is a no-op, so pipes, logs and tests never see control characters.
// The bar hides the cursor and turns line wrap off while it draws: on Ctrl-C it is stopped at once and both
// are turned back on (ESC[?25h, ESC[?7h), and it stays stopped while the operation reaches its safe point.
import { createRequire } from "node:module";
import { formatBytes, safeText } from "./output.js";
import { onInterrupt } from "./signals.js";

const SHOW_CURSOR = "\x1b[?25h";
const WRAP_LINES = "\x1b[?7h";

/** A label for a bar: escaped (text from files) and cut to its last 40 characters. */
export function barLabel(text: string): string {
  const safe = safeText(text);
  return safe.length > 40 ? `…${safe.slice(-39)}` : safe;
}

/**
 * On Ctrl-C/SIGTERM, `stop` removes the bars and says whether any was drawn; cursor and line wrap are then turned
 * back on once more (the bars may not have drawn their last frame yet). Returns the handler's remover.
 */
export function restoreOnInterrupt(stop: () => boolean): () => void {
  return onInterrupt(() => {
    if (stop()) process.stderr.write(SHOW_CURSOR + WRAP_LINES);
  });
}

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
  const removeHandler = restoreOnInterrupt(() => {
    const drawn = started;
    stop();
    closed = true;
    return drawn;
  });
  return {
    update(done, total, label = "") {
      if (closed) return;
      const payload = { doneH: formatBytes(done), totalH: formatBytes(total), label: barLabel(label) };
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
