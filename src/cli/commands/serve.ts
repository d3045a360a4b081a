// `mlib serve [--port P] [--host H] [--open]`: the local web page and JSON API over the library. Prints the
// URL with the token (the page needs it to change anything); runs until SIGINT/SIGTERM, then stops cleanly.
// Unlike the read commands it creates the library when there is none: a new user may start with the web page.
import type { Command } from "commander";
import { spawn } from "node:child_process";
import { ModelLibraryError } from "../../core/errors.js";
import { commonOptions, libraryRoot, parseNonNegativeInt, usageError, withCommonOptions } from "../common.js";
import { err, out, printJson } from "../output.js";
import { untilInterrupted } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("serve")
    .description("serve a local web page and JSON API over the library (loopback only by default; creates the library if there is none yet)")
    .option("--port <n>", "port to listen on (0: any free port)", parseNonNegativeInt, 8765)
    .option("--host <addr>", "address to listen on", "127.0.0.1")
    .option("--open", "open the page in the default browser")
    .action(async () => {
      const common = commonOptions(cmd);
      const opts = cmd.opts<{ port: number; host: string; open?: boolean }>();
      if (opts.port > 65535) throw usageError(`--port ${opts.port}: a port is at most 65535`);
      const { isLoopback } = await import("../../server/request-guard.js");
      if (!isLoopback(opts.host)) {
        err(`warning: listening on ${opts.host}: other machines that can reach it can read the library; changes still need the token`);
      }
      const { ModelLibrary } = await import("../../store/model-library.js");
      const { startServer } = await import("../../server/server.js");
      // Notices (index moved or rebuilt, staging removed...) on stderr, as every command prints them.
      const library = await ModelLibrary.open(libraryRoot(common), { onNotice: (n) => err(n.message) });
      let server;
      try {
        server = await startServer({ library, port: opts.port, host: opts.host });
      } catch (e) {
        library.close();
        const code = (e as NodeJS.ErrnoException).code;
        // A busy port is the machine's state, not a wrong command line: exit 1 ("something failed"), not 2.
        if (code === "EADDRINUSE") {
          const why = `port ${opts.port} on ${opts.host} is in use (another mlib serve, or another program): pick another with --port`;
          throw new ModelLibraryError("E_IO", why, { cause: e });
        }
        // A --host that names no address of this machine is a wrong argument (a typo): a usage error.
        if (code === "EADDRNOTAVAIL") throw usageError(`--host ${opts.host}: no such address on this machine`);
        throw e;
      }
      // SIGINT/SIGTERM are this command's normal end (exit 0); the handlers are main.ts's, installed before
      // the URL is out, so whoever reads it may stop us at once.
      const stopped = (signal: AbortSignal) =>
        new Promise<void>((resolve) => (signal.aborted ? resolve() : signal.addEventListener("abort", () => resolve(), { once: true })));
      if (common.json) printJson({ url: server.url, origin: server.origin, port: server.port, host: server.host, library: library.root });
      else {
        out(`model-library at ${library.root}`);
        out(`serving on ${server.url}`);
        out("(the token in the URL lets the page change the library; Ctrl-C stops)");
      }
      if (opts.open) openBrowser(server.url);
      await untilInterrupted(async (signal) => {
        await stopped(signal);
        if (!common.json) err("stopping");
        await server.close();
        library.close();
      });
    });
  withCommonOptions(cmd);
}

function openBrowser(url: string): void {
  const command = process.platform === "darwin" ? "open" : process.platform === "win32" ? "explorer" : "xdg-open";
  const child = spawn(command, [url], { stdio: "ignore", detached: true });
  child.on("error", () => err(`could not start ${command}: open ${url} yourself`));
  // xdg-open with no browser set up (a server, a container) exits non-zero without a word on a closed stderr.
  child.on("exit", (code) => {
    if (code !== 0 && code !== null) err(`${command} could not open a browser (exit ${code}): open ${url} yourself`);
  });
  child.unref();
}
