// The Hugging Face cache (huggingface_hub): `<hub>/models--<org>--<name>/snapshots/<revision>/` holds the repo's
// files as symlinks into `../../blobs/<hash>`. A snapshot is one model: its links are followed, but only into its
// own repo's blobs/ (a link anywhere else is not part of the model and is never followed).
import { realpath, stat } from "node:fs/promises";
import type { Stats } from "node:fs";
import { join, sep } from "node:path";

export interface HfSnapshot {
  /** `<hub>/models--org--name` */
  repoDir: string;
  blobsDir: string;
  /** `org/name` (a repo without an org: `name`). */
  repoId: string;
  /** The repo's name, the model's default name. */
  name: string;
}

const REPO_FOLDER = /^models--(.+)$/;

/** The snapshot `dir` is (or is inside), or null when it is not in a Hugging Face cache. */
export function hfSnapshotOf(dir: string): HfSnapshot | null {
  const parts = dir.split(sep);
  for (let i = parts.length - 2; i >= 1 && i >= parts.length - 6; i--) {
    if (parts[i] !== "snapshots") continue;
    const m = REPO_FOLDER.exec(parts[i - 1]);
    if (!m) continue;
    const repoDir = parts.slice(0, i).join(sep) || sep;
    const segments = m[1].split("--");
    return { repoDir, blobsDir: join(repoDir, "blobs"), repoId: segments.join("/"), name: segments[segments.length - 1] };
  }
  return null;
}

/** The stat of what a symlink in a snapshot points at, when that is a regular file inside the repo's blobs/; else null. */
export async function statBlobLink(link: string, snapshot: HfSnapshot): Promise<Stats | null> {
  try {
    const [target, blobs] = await Promise.all([realpath(link), realpath(snapshot.blobsDir)]);
    if (!target.startsWith(blobs + sep)) return null;
    const st = await stat(target);
    return st.isFile() ? st : null;
  } catch {
    return null;
  }
}
