#!/usr/bin/env node
// `mlib`: the command line on top of the library API. Builds the commander program, runs it, and maps
// what goes wrong to an exit status: 0 ok, 1 an operation failed, 2 a usage error, 130/143 cancelled by
// SIGINT/SIGTERM (see signals.ts). Errors print as `mlib: <message>` (the message names the file); stack
// traces only with --debug.
import { Command, CommanderError } from "commander";
import { readFileSync } from "node:fs";
import { ModelLibraryError } from "../core/errors.js";
// worker-host.ts itself, not the hashing facade (hashing/index.ts): closing the hash workers at exit must not
// load the hashing modules into a command that never hashed.
import { closeHashWorkers } from "../hashing/worker-host.js";
import { safeText } from "./output.js";
import { exitStatus, installSignalHandlers, receivedSignal, stoppedLongRunning } from "./signals.js";

type CommandModule = { register(program: Command): void };

// Each command's module, in help order. Only the one being run is loaded (with every module, start-up
// took ~40 ms more: `mlib hash` of 1 GiB is ~1 s in all); help, a typo or no command loads them all.
const COMMANDS: [string[], () => Promise<CommandModule>][] = [
  [["identify"], () => import("./commands/identify.js")],
  [["hash"], () => import("./commands/hash.js")],
  [["init"], () => import("./commands/init.js")],
  [["import"], () => import("./commands/import.js")],
  [["list", "search"], () => import("./commands/list.js")],
  [["show"], () => import("./commands/show.js")],
  [["verify"], () => import("./commands/verify.js")],
  [["reindex"], () => import("./commands/reindex.js")],
  [["rm"], () => import("./commands/rm.js")],
  [["stats"], () => import("./commands/stats.js")],
  [["adopt"], () => import("./commands/adopt.js")],
  [["redetect"], () => import("./commands/redetect.js")],
  [["restore"], () => import("./commands/restore.js")],
  [["edit"], () => import("./commands/edit.js")],
  [["serve"], () => import("./commands/serve.js")],
  [["hub"], () => import("./commands/hub.js")],
  [["download"], () => import("./commands/download.js")],
  [["downloads"], () => import("./commands/downloads.js")],
  [["lookup"], () => import("./commands/lookup.js")],
  [["apps"], () => import("./commands/apps.js")],
  [["map"], () => import("./commands/map.js")],
  [["links"], () => import("./commands/links.js")],
  [["unlink"], () => import("./commands/unlink.js")],
  [["watch"], () => import("./commands/watch.js")],
  [["merge"], () => import("./commands/merge.js")],
  [["doctor"], () => import("./commands/doctor.js")],
  [["demo"], () => import("./commands/demo.js")],
];

/** The command named in argv (the first word that is not an option of mlib itself), or null. */
function commandName(argv: string[]): string | null {
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === "--library") i++; // its value
    else if (!a.startsWith("-")) return a;
  }
  return null;
}

const EXIT_OK = 0;
const EXIT_FAILED = 1;
const EXIT_USAGE = 2;

async function buildProgram(argv: string[]): Promise<Command> {
  const program = new Command("mlib");
  program
    .description("one canonical, searchable, verified store of AI model files (GGUF, safetensors, checkpoints, LoRAs, ONNX)")
    .version(packageVersion(), "-V, --version")
    // Options before the command name belong to mlib, after it to the command; both accept the common ones.
    .enablePositionalOptions()
    .option("--json", "print machine-readable JSON on stdout")
    .option("--library <dir>", "library folder (default: $MODEL_LIBRARY_HOME, $XDG_DATA_HOME/model-library or ~/.local/share/model-library)")
    .option("--debug", "print stack traces of errors")
    .showSuggestionAfterError()
    .exitOverride()
    .configureOutput({ outputError: (text, write) => write(`mlib: ${text.replace(/^error: /, "")}`) });
  // Commands are added with program.command(), so they inherit exitOverride and the output settings.
  const name = commandName(argv);
  const wanted = COMMANDS.filter(([names]) => name !== null && names.includes(name));
  for (const [, load] of wanted.length > 0 ? wanted : COMMANDS) (await load()).register(program);
  return program;
}

/** Runs mlib with `argv` (the arguments after the program name); resolves to the exit status. */
export async function run(argv: string[]): Promise<number> {
  const debug = argv.includes("--debug");
  const program = await buildProgram(argv);
  try {
    if (argv.length === 0) {
      program.outputHelp({ error: true });
      return EXIT_USAGE;
    }
    await program.parseAsync(argv, { from: "user" });
    const status = typeof process.exitCode === "number" ? process.exitCode : EXIT_OK;
    // The command returned: a signal that came after its last cancellable point (while it committed) cancelled
    // nothing, and its output says what was done. Reporting "cancelled" (and 130) would hide work that landed.
    if (receivedSignal()) return reportLateSignal(status);
    return status;
  } catch (e) {
    // After a signal, whatever the operation threw on its way out (E_CANCELLED, an AbortError) is the cancellation.
    if (receivedSignal() && !(e instanceof CommanderError)) return reportCancelled(e);
    return reportError(e, debug);
  } finally {
    await closeHashWorkers().catch(() => undefined);
  }
}

/** A signal the command finished despite: said (unless the command already said it stopped), the command's own status kept. */
function reportLateSignal(status: number): number {
  const sig = receivedSignal()!;
  // watch and serve: a signal is how they stop (exit 0, no message, as before).
  if (stoppedLongRunning()) return exitStatus(sig);
  // A command that handles its own stop (a download pauses) has said so and set 130/143 itself.
  if (status === exitStatus(sig)) return status;
  process.stderr.write(`mlib: ${sig} came after the work was done: nothing was cancelled (the output above is what happened)\n`);
  return status;
}

function reportCancelled(e?: unknown): number {
  const sig = receivedSignal()!;
  if (stoppedLongRunning()) return exitStatus(sig);
  process.stderr.write("mlib: cancelled\n");
  // What a batch committed before the cancel stays: said, so "cancelled" does not read as "nothing happened".
  const completed = e instanceof ModelLibraryError ? e.completed : [];
  for (const line of completed) process.stderr.write(`mlib: done before the cancel (kept): ${safeText(line)}\n`);
  return exitStatus(sig);
}

function reportError(e: unknown, debug: boolean): number {
  if (e instanceof CommanderError) {
    // commander has already printed its message (help, version, or the usage error).
    return e.exitCode === 0 ? EXIT_OK : EXIT_USAGE;
  }
  const message = e instanceof Error ? e.message : String(e);
  process.stderr.write(`mlib: ${safeText(message)}\n`);
  if (debug) {
    if (e instanceof Error && e.stack) process.stderr.write(`${safeText(e.stack, { keepNewlines: true })}\n`);
    const cause = e instanceof Error ? (e.cause as Error | undefined) : undefined;
    if (cause?.stack) process.stderr.write(`caused by: ${safeText(cause.stack, { keepNewlines: true })}\n`);
  }
  if (e instanceof ModelLibraryError && e.code === "E_USAGE") return EXIT_USAGE;
  return EXIT_FAILED;
}

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8")) as { version?: string };
    return pkg.version ?? "0.0.0";
  } catch {
    return "0.0.0";
  }
}

// Output piped into `head` and closed early is not an error; anything thrown outside a command still
// prints as `mlib: <message>` (with its stack only under --debug), never as a raw Node crash.
const debugFlag = process.argv.includes("--debug");
process.stdout.on("error", (e: NodeJS.ErrnoException) => {
  if (e.code === "EPIPE") process.exit(process.exitCode ?? 0);
  process.exit(reportError(e, debugFlag));
});
process.on("uncaughtException", (e) => process.exit(reportError(e, debugFlag)));
process.on("unhandledRejection", (e) => process.exit(reportError(e, debugFlag)));

installSignalHandlers();
process.exitCode = await run(process.argv.slice(2));
