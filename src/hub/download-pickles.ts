// The pickle policy (operations/pickle-policy.ts) applied to a download, decided before the files land:
//   - before fetching: each chosen weight file named like a pickle (.bin/.pt/.pth/.ckpt) has its first
//     bytes read with one small Range request — a name says little (a whisper.cpp `ggml-*.bin` is safe), the
//     bytes say which it is. Without consent a pickle beside safe weights in its folder is not downloaded at
//     all; a pickle that is the only weights of its folder refuses the download before any byte of it is
//     fetched, naming the files and --allow-pickle;
//   - after fetching, still in staging: every weight file's bytes are looked at again (a pickle under a safe
//     name, or a server that changed its answer): such a file is removed from staging and the download fails,
//     so nothing lands.
import { rm } from "node:fs/promises";
import { join } from "node:path";
import { ModelLibraryError } from "../core/errors.js";
import { readHead } from "../formats/file-bytes.js";
import { isModelFileName, sniffFormat } from "../formats/sniff.js";
import { securityTierOf } from "../formats/types.js";
import { picklesAlone } from "../operations/pickle-policy.js";
import type { RepoFile } from "./convert-model.js";

const HEAD_BYTES = 64;
/** Names a pickle usually has; only these are looked at before fetching (the rest after, in staging). */
export const PICKLE_NAME = /\.(bin|pt|pth|ckpt)$/i;

const isPickle = (head: Buffer, size: number, name: string): boolean => securityTierOf(sniffFormat(head, size, name)) === "pickle";
const list = (names: string[]): string => `${names.slice(0, 5).join(", ")}${names.length > 5 ? `, ... (${names.length} in all)` : ""}`;

export interface PicklePlan {
  files: RepoFile[];
  /** Pickle files left out: safe weights beside them make them unnecessary. */
  skipped: string[];
}

/**
 * Which chosen files to fetch under the pickle policy. `head` reads a Hub file's first bytes. Throws E_PICKLE
 * (before anything is fetched) when a pickle is the only weights of its folder and `allowPickle` is false.
 */
export async function planPickles(
  repoId: string,
  files: RepoFile[],
  allowPickle: boolean,
  head: (f: RepoFile, bytes: number) => Promise<Buffer>,
): Promise<PicklePlan> {
  if (allowPickle) return { files, skipped: [] };
  const weights = files.filter((f) => isModelFileName(f.path));
  const pickles: string[] = [];
  for (const f of weights) {
    if (PICKLE_NAME.test(f.path) && isPickle(await head(f, HEAD_BYTES), f.size, f.path)) pickles.push(f.path);
  }
  if (pickles.length === 0) return { files, skipped: [] };
  const alone = picklesAlone(pickles, weights.map((f) => f.path));
  if (alone.length > 0) {
    throw new ModelLibraryError(
      "E_PICKLE",
      `${repoId}: ${list(alone)} ${alone.length === 1 ? "is a pickle and the only weights of its folder" : "are pickles and the only weights of their folders"}: ` +
        `loading ${alone.length === 1 ? "it" : "them"} can run arbitrary code. Nothing was downloaded. Prefer a safetensors version of the model; ` +
        `to download it anyway pass --allow-pickle (API: allowPickle: true)`,
    );
  }
  return { files: files.filter((f) => !pickles.includes(f.path)), skipped: pickles };
}

/** The warning a result carries when pickle files were left out of a download. */
export function skippedPicklesNote(repoId: string, skipped: string[]): string {
  return `${repoId}: not downloaded: ${skipped.length} pickle file(s) that safe weights beside them make unnecessary: ${list(skipped)} (--allow-pickle fetches them too)`;
}

/**
 * The staged files' bytes checked once more before anything lands: a weight file that is a pickle (whatever its
 * name) is removed from staging with its part record, and E_PICKLE says so. `paths` are Hub paths under `staging`.
 */
export async function refuseStagedPickles(repoId: string, staging: string, paths: string[], allowPickle: boolean): Promise<void> {
  if (allowPickle) return;
  const found: string[] = [];
  for (const p of paths.filter(isModelFileName)) {
    const abs = join(staging, ...p.split("/"));
    const { bytes, size } = await readHead(abs, HEAD_BYTES);
    if (isPickle(bytes, size, p)) found.push(p);
  }
  if (found.length === 0) return;
  for (const p of found) {
    const abs = join(staging, ...p.split("/"));
    await rm(abs, { force: true });
    await rm(`${abs}.part.json`, { force: true });
  }
  throw new ModelLibraryError(
    "E_PICKLE",
    `${repoId}: ${list(found)} turned out to be ${found.length === 1 ? "a pickle" : "pickles"} once downloaded (by ${found.length === 1 ? "its" : "their"} bytes, not ${found.length === 1 ? "its" : "their"} name): ` +
      `loading ${found.length === 1 ? "it" : "them"} can run arbitrary code. Removed from the download; nothing was stored. ` +
      `To download it anyway pass --allow-pickle (API: allowPickle: true)`,
  );
}
