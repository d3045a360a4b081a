#!/usr/bin/env node
// Builds the optional native addon (native/copy_range.c -> build/Release/copy_range.node) with node-gyp,
// against the headers of the running Node (npm's config may point node-gyp at them: nodedir). Run by
// `npm ci`/`npm install` (the install script) and `npm run build`. A failed build is not an error: the
// chunked copy then reads and writes through a buffer instead of copy_file_range (slower, same bytes),
// so this prints a warning and exits 0. MLIB_NATIVE_REQUIRED=1 makes a failure fatal (CI that must test it).
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** node-gyp's entry: the one npm gives its scripts, else npm's bundled copy beside this node, else one on PATH. */
function nodeGyp() {
  const fromNpm = process.env.npm_config_node_gyp;
  if (fromNpm && existsSync(fromNpm)) return [process.execPath, fromNpm];
  const bundled = path.join(path.dirname(process.execPath), "../lib/node_modules/npm/node_modules/node-gyp/bin/node-gyp.js");
  if (existsSync(bundled)) return [process.execPath, bundled];
  try {
    return [process.execPath, createRequire(import.meta.url).resolve("node-gyp/bin/node-gyp.js")];
  } catch {
    return ["node-gyp"];
  }
}

/**
 * Outside npm (which passes its `nodedir` config on), the headers installed beside this node (e.g. Debian's
 * /usr/include/node) are used when present, so the build needs no download.
 */
function nodedirArgs() {
  if (process.env.npm_config_nodedir) return [];
  const prefix = path.resolve(path.dirname(process.execPath), "..");
  return existsSync(path.join(prefix, "include/node/node_api.h")) ? [`--nodedir=${prefix}`] : [];
}

const [cmd, ...pre] = nodeGyp();
const res = spawnSync(cmd, [...pre, "rebuild", "--release", ...nodedirArgs()], { cwd: root, stdio: "inherit" });
if (res.status !== 0) {
  const why = res.error ? res.error.message : `exit status ${res.status}`;
  console.warn(`model-library: the native copy addon did not build (${why}); copies will use the slower read/write fallback`);
  if (process.env.MLIB_NATIVE_REQUIRED === "1") process.exit(1);
}
