// GET /api/events: server-sent events. Each operation event is one `data:` line of JSON; a comment line
// every 15 s keeps proxies and the browser from closing an idle stream.
import type { IncomingMessage, ServerResponse } from "node:http";
import type { OperationRunner } from "./operation-runner.js";

const KEEPALIVE_MS = 15_000;

export function openEventStream(req: IncomingMessage, res: ServerResponse, runner: OperationRunner): void {
  res.writeHead(200, {
    "content-type": "text/event-stream; charset=utf-8",
    "cache-control": "no-store",
    connection: "keep-alive",
    "x-accel-buffering": "no",
  });
  // A HEAD asks for the headers only: there is no stream to keep open for it.
  if (req.method === "HEAD") {
    res.end();
    return;
  }
  res.write("retry: 2000\n\n");
  const unsubscribe = runner.subscribe((event) => {
    res.write(`data: ${JSON.stringify(event)}\n\n`);
  });
  const keepalive = setInterval(() => res.write(": keepalive\n\n"), KEEPALIVE_MS);
  const close = () => {
    clearInterval(keepalive);
    unsubscribe();
  };
  req.on("close", close);
  res.on("close", close);
}
