// Live progress of long operations: one /api/events stream for every tab of the page; each operation gets a
// card in the corner with a progress bar, what it is working on, a cancel button, and its outcome.
/* global SharedWorker */
import { api } from "./api.js";
import { h } from "./dom.js";
import { formatBytes } from "./format.js";

const ops = new Map();
const endListeners = new Set();
const eventListeners = new Set();
let panel = null;

/** Calls fn(event) when any operation ends (state done, failed or cancelled). */
export function onOperationEnd(fn) {
  endListeners.add(fn);
  return () => endListeners.delete(fn);
}

/** Calls fn(event) with every operation event (progress included). */
export function onOperationEvent(fn) {
  eventListeners.add(fn);
  return () => eventListeners.delete(fn);
}

/** How often an operation the page waits for is asked after, besides its events (ms). */
const ASK_EVERY_MS = 2000;

/**
 * Resolves with the end event of operation `id`. The end may come over the stream before the POST that
 * started it has answered (a small verify takes a few ms), so an end already seen resolves at once. The
 * operation is also asked after now and then: an end the stream did not bring (dropped, reconnecting, refused
 * on the way) left the page waiting for good.
 */
export function operationEnd(id) {
  const seen = ops.get(id);
  if (seen?.phase === "end") return Promise.resolve(seen);
  return new Promise((resolve) => {
    const ask = setInterval(() => {
      api.operation(id).then((info) => {
        if (info.state !== "running" && info.last?.phase === "end") deliver(info.last);
      }, () => undefined);
    }, ASK_EVERY_MS);
    const stop = onOperationEnd((e) => {
      if (e.id !== id) return;
      clearInterval(ask);
      stop();
      resolve(e);
    });
  });
}

/** An operation's event, from the stream or asked for: shown and passed on; nothing after its end (once). */
function deliver(event) {
  const known = ops.get(event.id) ?? { id: event.id, op: event.op };
  if (known.phase === "end") return;
  ops.set(event.id, { ...known, ...event });
  render();
  for (const fn of eventListeners) fn(event);
  if (event.phase === "end") for (const fn of endListeners) fn(event);
}

/** Shows an operation the page just started (before its first event arrives). */
export function trackOperation(id, op) {
  if (!ops.has(id)) ops.set(id, { id, op, phase: "start", state: "running" });
  render();
}

export function startOperationEvents(container) {
  panel = container;
  openEvents((data) => deliver(JSON.parse(data)));
  // Operations already running when the page was opened (another tab started them).
  api.operations().then(({ operations }) => {
    for (const o of operations) if (o.state === "running" && !ops.has(o.id)) ops.set(o.id, { ...(o.last ?? {}), id: o.id, op: o.op, state: o.state });
    render();
  }, () => undefined);
}

/**
 * Calls onData with each event's JSON text. Every tab of the page shares one stream through a SharedWorker
 * (events-worker.js: a stream per tab used up the browser's 6 connections to the server at the 6th tab);
 * where there is none, the tab opens its own.
 */
function openEvents(onData) {
  const own = () => {
    const source = new EventSource("/api/events");
    source.onmessage = (message) => onData(message.data);
  };
  let worker;
  try {
    worker = typeof SharedWorker === "function" ? new SharedWorker("/events-worker.js", { name: "mlib-events" }) : null;
  } catch {
    worker = null;
  }
  if (!worker) return own();
  let fellBack = false;
  worker.port.onmessage = (message) => {
    if (message.data.fallback && !fellBack) {
      fellBack = true;
      worker.port.postMessage("bye");
      own();
    } else if (!fellBack && typeof message.data.data === "string") onData(message.data.data);
  };
  // A closed tab's port gives the worker no sign of its own: the tab says so.
  window.addEventListener("pagehide", () => worker.port.postMessage("bye"));
  window.addEventListener("pageshow", (e) => {
    if (e.persisted && !fellBack) worker.port.postMessage("hello");
  });
}

function percent(o) {
  if (o.state && o.state !== "running") return 100;
  if (typeof o.done === "number" && typeof o.total === "number" && o.total > 0) return Math.min(100, (100 * o.done) / o.total);
  return null;
}

function amount(o) {
  if (typeof o.done !== "number" || typeof o.total !== "number") return "";
  return o.unit === "bytes" ? `${formatBytes(o.done)} of ${formatBytes(o.total)}` : `${o.done} of ${o.total}`;
}

function outcome(o) {
  if (o.state === "failed") return o.error?.message ?? "failed";
  if (o.state === "cancelled") {
    if (o.op === "download") return "paused (resume it in Hub → Downloads)";
    const kept = o.error?.completed?.length ?? 0;
    return kept > 0 ? `cancelled; ${kept} done before the cancel (kept)` : "cancelled";
  }
  const s = o.summary;
  if (!s) return "done";
  if (o.op === "verify") return `${s.ok} OK, ${s.failed} failed`;
  if (o.op === "import") return `${s.imported} imported, ${s.duplicates} already there, ${s.failed} failed`;
  if (o.op === "redetect") return `${s.changed} changed, ${s.unchanged} unchanged${s.errors ? `, ${s.errors} errors` : ""}`;
  if (o.op === "map") return `${s.made} links made, ${s.existing} already there, ${s.conflicts} conflicts${s.errors ? `, ${s.errors} errors` : ""}`;
  if (o.op === "unlink") return `${s.removed} links removed${s.kept ? `, ${s.kept} kept (changed since)` : ""}${s.errors ? `, ${s.errors} errors` : ""}`;
  if (o.op === "download") return `${s.modelId ?? s.repoId}: ${formatBytes(s.totalBytes)}`;
  return "done";
}

/** The cards on screen, by operation id. */
const cards = new Map();

/**
 * Shows the last 4 operations. Each card is made once and then only changed: a card rebuilt at every progress
 * event (10 a second) took the focus off its Cancel button before a keyboard user could press it, and a click
 * whose press and release fell on two different buttons did nothing.
 */
function render() {
  if (!panel) return;
  const shown = [...ops.values()].slice(-4);
  const keep = new Set(shown.map((o) => o.id));
  for (const [id, card] of cards) {
    if (keep.has(id)) continue;
    card.el.remove();
    cards.delete(id);
  }
  shown.forEach((o, i) => {
    let card = cards.get(o.id);
    if (!card) {
      card = makeCard(o.id);
      cards.set(o.id, card);
    }
    // moved only when out of place: a node taken out of the page loses the focus
    if (panel.children[i] !== card.el) panel.insertBefore(card.el, panel.children[i] ?? null);
    card.fill(o);
  });
}

function makeCard(id) {
  let current = null;
  const op = h("strong");
  const phase = h("span", { class: "op-phase" });
  const button = h("button", { class: "small", onclick: () => {
    if (current.state === "running" || !current.state) api.cancel(id).catch(() => undefined);
    else {
      ops.delete(id);
      render();
    }
  } });
  const fill = h("div", { class: "fill" });
  const bar = h("div", { class: "bar", role: "progressbar", "aria-valuemin": "0", "aria-valuemax": "100" }, fill);
  const detail = h("div", { class: "op-detail" });
  const failures = h("ul", { class: "op-failures", hidden: true });
  const el = h("div", { class: "op" }, h("div", { class: "op-head" }, op, phase, button), bar, detail, failures);
  let announced = "";
  return {
    el,
    fill(o) {
      current = o;
      const state = o.state ?? "running";
      const running = state === "running";
      const p = percent(o);
      el.className = `op op-${state}`;
      Object.assign(el.dataset, { op: o.op, id: o.id, state });
      op.textContent = o.op;
      phase.textContent = running ? o.phase ?? "" : state;
      button.textContent = running ? (o.op === "download" ? "Pause" : "Cancel") : "×";
      if (running) button.removeAttribute("aria-label");
      else button.setAttribute("aria-label", "close");
      fill.className = p === null ? "fill busy" : "fill";
      fill.style.width = p === null ? "" : `${p.toFixed(1)}%`;
      if (p === null) bar.removeAttribute("aria-valuenow");
      else bar.setAttribute("aria-valuenow", p.toFixed(0));
      detail.textContent = running ? `${amount(o)}${o.item ? ` — ${o.item}` : ""}` : outcome(o);
      const failed = !running && o.op === "verify" ? (o.summary?.failures ?? []).slice(0, 5) : [];
      if (failed.length) failures.replaceChildren(...failed.map((f) => h("li", {}, f.id)));
      failures.hidden = failed.length === 0;
      // Said once when it starts and once when it ends, not at every progress event.
      const say = running ? `${o.op} started` : `${o.op} ${state}: ${outcome(o)}`;
      if (say !== announced) {
        announced = say;
        const status = document.getElementById("operations-status");
        if (status) status.textContent = say;
      }
    },
  };
}
