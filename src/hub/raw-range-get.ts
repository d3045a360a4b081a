// The hot path of a download: a Range GET straight to the CDN on a socket that reads into ONE reused buffer
// (net/tls `onread`), instead of node:http. Profiled on 256 MiB from the local fake Hub, node:http cost the
// receiving thread ~0.15 s (llhttp, a fresh 64 KiB Buffer per read and the garbage they make) that curl does not
// spend; here each read (up to 1 MiB) is handed to the caller as a view of the same buffer, which it writes at
// its offset synchronously. Only plain answers take this path: a status line, headers, and a Content-Length body
// (what a CDN sends for a range); anything else — chunked encoding, a redirect — is returned as `null` before any
// of its body is read, and the caller asks again through hubGet. Never used on the Hub's own origin (no token
// is ever sent from here).
import { EventEmitter } from "node:events";
import net from "node:net";
import tls from "node:tls";
import type { RawResponse } from "./http-get.js";

const READ_BUFFER = 1024 * 1024;
const MAX_HEADER = 64 * 1024;

/**
 * A body that emits 'data' with views of the shared read buffer: valid only during the (synchronous) handler.
 * What arrives before the caller listens (the bytes read with the headers) is copied and delivered, with any
 * end, error or close that came meanwhile, once it does.
 */
class RawBody extends EventEmitter {
  complete = false;
  private listening = false;
  private held: { kind: "data" | "end" | "error" | "close"; value?: unknown }[] = [];

  constructor(private readonly socket: net.Socket) {
    super();
    this.on("newListener", (event: string) => {
      if (event !== "data" || this.listening) return;
      this.listening = true;
      queueMicrotask(() => {
        for (const h of this.held.splice(0)) if (h.kind !== "error" || this.listenerCount("error") > 0) this.emit(h.kind, h.value);
      });
    });
  }

  push(kind: "data" | "end" | "error" | "close", value?: unknown): void {
    if (!this.listening || this.held.length > 0) this.held.push({ kind, value: kind === "data" ? Buffer.from(value as Buffer) : value });
    else if (kind !== "error" || this.listenerCount("error") > 0) this.emit(kind, value); // an unheard error: its close follows
  }

  destroy(): void {
    this.socket.destroy();
  }

  resume(): void {}
}

export async function rawRangeGet(url: string, headers: Record<string, string>, signal: AbortSignal | undefined): Promise<RawResponse | null> {
  const u = new URL(url);
  const secure = u.protocol === "https:";
  const port = Number(u.port || (secure ? 443 : 80));
  const buffer = Buffer.allocUnsafe(READ_BUFFER);
  let head: Buffer | null = Buffer.alloc(0);
  let body: RawBody | null = null;
  let left = 0;
  let resolveHead!: (r: RawResponse | null) => void;
  let rejectHead!: (e: unknown) => void;
  const headDone = new Promise<RawResponse | null>((res, rej) => ((resolveHead = res), (rejectHead = rej)));

  const onread = {
    buffer,
    callback: (n: number, buf: Uint8Array): boolean => {
      let chunk = Buffer.from(buf.buffer, buf.byteOffset, n);
      if (head) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) {
          if (head.length > MAX_HEADER) socket.destroy(new Error(`${url}: response headers larger than ${MAX_HEADER} bytes`));
          return true;
        }
        const parsed = parseHead(head.subarray(0, end).toString("latin1"));
        const rest = head.subarray(end + 4);
        head = null;
        const length = parsed ? Number(parsed.fields["content-length"]) : NaN;
        if (!parsed || parsed.fields["transfer-encoding"] || !Number.isSafeInteger(length) || (parsed.status >= 300 && parsed.status < 400)) {
          socket.destroy();
          resolveHead(null); // not a plain answer: the caller asks through node:http
          return false;
        }
        body = new RawBody(socket);
        left = length;
        resolveHead({
          status: parsed.status,
          headers: { get: (name: string) => parsed.fields[name.toLowerCase()] ?? null },
          body: body as unknown as RawResponse["body"],
          url,
          redirectHeaders: null,
        });
        if (rest.length === 0 && left > 0) return true;
        chunk = rest;
      }
      deliver(chunk);
      return true;
    },
  };
  const deliver = (chunk: Buffer): void => {
    const b = body!;
    if (b.complete) return;
    const take = chunk.length > left ? chunk.subarray(0, left) : chunk;
    left -= take.length;
    if (take.length > 0) b.push("data", take);
    if (left === 0 && !b.complete) {
      b.complete = true;
      socket.end();
      b.push("end");
    }
  };

  const socket: net.Socket = secure
    ? tls.connect({ host: u.hostname, port, servername: net.isIP(u.hostname) ? undefined : u.hostname, onread } as tls.ConnectionOptions)
    : net.connect({ host: u.hostname, port, onread });
  const onAbort = (): void => void socket.destroy(Object.assign(new Error("aborted"), { name: "AbortError" }));
  if (signal?.aborted) onAbort();
  signal?.addEventListener("abort", onAbort, { once: true });
  socket.on("error", (e) => {
    if (head) rejectHead(e);
    else if (body && !body.complete) body.push("error", e);
  });
  socket.on("close", () => {
    signal?.removeEventListener("abort", onAbort);
    if (head) rejectHead(Object.assign(new Error(`${url}: connection closed before the answer`), { code: "ECONNRESET" }));
    else body?.push("close");
  });
  const path = `${u.pathname}${u.search}`;
  const lines = [`GET ${path} HTTP/1.1`, `Host: ${u.host}`, "Connection: close", ...Object.entries(headers).map(([k, v]) => `${k}: ${v}`)];
  socket.write(`${lines.join("\r\n")}\r\n\r\n`);
  return headDone;
}

function parseHead(text: string): { status: number; fields: Record<string, string> } | null {
  const lines = text.split("\r\n");
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? "");
  if (!m) return null;
  const fields: Record<string, string> = {};
  for (const line of lines.slice(1)) {
    const i = line.indexOf(":");
    if (i <= 0) continue;
    const k = line.slice(0, i).trim().toLowerCase();
    const v = line.slice(i + 1).trim();
    fields[k] = k in fields ? `${fields[k]}, ${v}` : v;
  }
  return { status: Number(m[1]), fields };
}
