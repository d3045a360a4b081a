// `mlib hash PATH...`: SHA-256, BLAKE3, the fast hash and AutoV2 of files, on every core. Reads only.
// A folder stands for every regular file under it.
import type { Command } from "commander";
import { stat } from "node:fs/promises";
import { ModelLibraryError, ioError } from "../../core/errors.js";
import { listFiles } from "../../core/walk.js";
import { commonOptions, errorInfo, markFailed, withCommonOptions } from "../common.js";
import { err, formatBytes, out, printJson } from "../output.js";
import { startProgress } from "../progress.js";
import { cliSignal } from "../signals.js";

export function register(program: Command): void {
  const cmd = program
    .command("hash")
    .description("hash files: SHA-256, BLAKE3, fast hash and AutoV2 (folders: every file inside)")
    .argument("<path...>", "files or folders")
    .action(async (paths: string[]) => {
      const common = commonOptions(cmd);
      const files: string[] = [];
      const errors: { path: string; error: { code: string; message: string } }[] = [];
      for (const p of paths) {
        try {
          files.push(...(await expand(p)));
        } catch (e) {
          errors.push({ path: p, error: errorInfo(e) });
        }
      }
      for (const e of errors) {
        markFailed();
        if (!common.json) err(e.error.message);
      }
      const { hashFiles } = await import("../../hashing/index.js");
      const progress = startProgress({ json: common.json, title: "hashing" });
      let hashes;
      try {
        hashes = await hashFiles(files, { signal: cliSignal(), onProgress: (p) => progress.update(p.bytesDone, p.totalBytes, `${p.filesDone}/${p.totalFiles} files`) });
      } finally {
        progress.stop();
      }
      const records = files.map((path, i) => ({ path, ...hashes[i] }));
      if (common.json) {
        printJson([
          ...records.map((r) => ({ path: r.path, size: r.size, sha256: r.sha256, blake3: r.blake3, fastHash: r.fastHash, autoV2: r.autoV2 })),
          ...errors,
        ]);
        return;
      }
      const sizes = records.map((r) => formatBytes(r.size));
      const width = Math.max(0, ...sizes.map((s) => s.length));
      records.forEach((r, i) => out(`${r.sha256}  ${r.blake3}  ${sizes[i].padStart(width)}  ${r.path}`));
    });
  withCommonOptions(cmd, { library: "hidden" });
}

/** A file as itself, a folder as its regular files (sorted, recursively). */
async function expand(path: string): Promise<string[]> {
  let st;
  try {
    st = await stat(path);
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === "ENOENT") throw new ModelLibraryError("E_NOT_FOUND", `${path}: no such file or folder`, { path });
    throw ioError(path, "read", e);
  }
  if (st.isFile()) return [path];
  if (!st.isDirectory()) throw new ModelLibraryError("E_INVALID", `${path}: not a regular file or folder`, { path });
  // Hidden files too: hashing is asked for everything under the folder.
  return (await listFiles(path, { skip: () => false })).map((f) => f.abs);
}
