/* global self */
// One /api/events stream shared by every tab of the page (a SharedWorker). A browser opens at most 6 HTTP/1.1
// connections to one host, and an event stream holds one for as long as it is open: with a stream per tab,
// the 6th tab's requests waited forever (its page stayed at "Loading…") and a 7th tab did not load at all.
// Each tab says "bye" when it goes away (and "hello" when it comes back from the back/forward cache); when
// the last tab has gone the stream is closed, and the worker ends with the browser's last tab of the page.
const ports = new Set();
let source = null;

function openStream() {
  if (typeof EventSource !== "function") {
    // No EventSource in workers here: each tab opens its own stream.
    for (const port of ports) port.postMessage({ fallback: true });
    return;
  }
  source = new EventSource("/api/events");
  source.onmessage = (message) => {
    for (const port of ports) port.postMessage({ data: message.data });
  };
}

function closeStream() {
  source?.close();
  source = null;
}

self.onconnect = (event) => {
  const port = event.ports[0];
  port.onmessage = (message) => {
    if (message.data === "bye") {
      ports.delete(port);
      if (ports.size === 0) closeStream();
    } else if (message.data === "hello") {
      ports.add(port);
      if (!source) openStream();
    }
  };
  port.start();
  ports.add(port);
  if (source) return;
  openStream();
};
