// Which files verify checks in a model folder, and against what. Our metadata.json lists every file with its
// own hashes; the original's lists them with per-file hashes null (only the largest file's hashes, at model
// level), and its in-place import lists a nested file by its bare name (`model.onnx` for `onnx/model.onnx`).
import type { Stats } from "node:fs";
import { stat } from "node:fs/promises";
import { join } from "node:path";
import { readJson } from "../core/atomic-json.js";
import { listFolderFiles, type WalkedFile } from "../identify/folder.js";
import { isModelFileName } from "../formats/sniff.js";
import { unsafeRelativePathReason } from "../formats/naming.js";
import { preferSize } from "../store/bare-name.js";
import type { ModelMetadata } from "../store/metadata.js";
import { METADATA_FILE, OVERRIDES_FILE } from "../store/layout.js";

export interface FileToCheck {
  /** The name metadata.json lists (or, for the model-level hash check, the file's path). */
  name: string;
  /** The file it is, relative to the model folder: null when missing or ambiguous. */
  path: string | null;
  /** "check": hash it; "missing": no such file; "ambiguous": a bare name several sub-folders hold. */
  state: "check" | "missing" | "ambiguous";
  size: number | null;
  sha256: string | null;
  blake3: string | null;
  /** The file's stat, where the plan took one (a name found as listed): callers need not take it again. */
  stat?: Stats;
}

export interface VerifyPlan {
  files: FileToCheck[];
  /** Why the model cannot be verified as recorded (e.g. metadata.json lists no files while weights are there). */
  error: string | null;
}

const isOurs = (rel: string) => rel === METADATA_FILE || rel === OVERRIDES_FILE || rel.endsWith(".bak") || rel.endsWith(".tmp");

/** Whether metadata.json has no `files` (key left out, or null) — as opposed to an empty or malformed list. */
async function filesKeyAbsent(dir: string): Promise<boolean> {
  const raw = await readJson<Record<string, unknown>>(join(dir, METADATA_FILE)).catch(() => null);
  return raw !== null && typeof raw === "object" && (raw.files === undefined || raw.files === null);
}

export async function planVerify(dir: string, m: ModelMetadata): Promise<VerifyPlan> {
  // The folder is listed only when needed (original-style metadata, a name not found as written): verifying our
  // own models stats the listed files and nothing else.
  let listing: WalkedFile[] | null = null;
  const onDisk = async () => (listing ??= (await listFolderFiles(dir)).filter((f) => !isOurs(f.rel)));
  const largestWeight = async () => {
    const weights = (await onDisk()).filter((f) => isModelFileName(f.rel));
    return weights.length > 0 ? weights.reduce((a, b) => (b.size > a.size ? b : a)) : null;
  };
  const listed = m.files ?? [];
  const sha256 = m.hashes?.sha256 || null;
  const blake3 = m.hashes?.blake3 || null;
  if (listed.length === 0) {
    const primary = await largestWeight();
    if (primary && (sha256 || blake3) && (await filesKeyAbsent(dir))) {
      // No `files` at all (null or left out: every field of the original's file is optional): what was
      // recorded is the model-level hash of the largest file, and that is what is checked.
      return { files: [{ name: primary.rel, path: primary.rel, state: "check", size: null, sha256, blake3 }], error: null };
    }
    const names = (await onDisk()).filter((f) => isModelFileName(f.rel)).map((f) => f.rel);
    const error = names.length > 0
      ? `${join(dir, METADATA_FILE)} lists no files (its "files" is empty, missing or not a list of {name}), but the folder holds ` +
        `${names.length} model file(s): ${names.slice(0, 5).join(", ")}${names.length > 5 ? ", ..." : ""}; nothing can be verified ` +
        `(restore metadata.json from its .bak, or remove the model)`
      : null;
    return { files: [], error };
  }
  const files: FileToCheck[] = [];
  const unsafe: string[] = [];
  for (const f of listed) {
    const expected = { size: f.size, sha256: f.sha256 || null, blake3: f.blake3 || null };
    const why = unsafeRelativePathReason(f.name);
    if (why !== null) {
      // A name such as "../../other/model.gguf" (an edited or hostile metadata.json) is never followed out of the folder.
      unsafe.push(`${JSON.stringify(f.name)} (${why})`);
      files.push({ name: f.name, path: null, state: "missing", ...expected });
      continue;
    }
    const direct = await stat(join(dir, ...f.name.split("/"))).catch(() => null);
    if (direct?.isFile()) {
      files.push({ name: f.name, path: f.name, state: "check", ...expected, stat: direct });
      continue;
    }
    const named = f.name.includes("/") ? [] : (await onDisk()).filter((d) => d.rel.slice(d.rel.lastIndexOf("/") + 1) === f.name);
    const candidates = preferSize(named, f.size, (c) => c.size);
    if (candidates.length === 1) files.push({ name: f.name, path: candidates[0].rel, state: "check", ...expected });
    else files.push({ name: f.name, path: null, state: candidates.length === 0 ? "missing" : "ambiguous", ...expected });
  }
  // Metadata as the original writes it (no per-file hash anywhere): the model-level hashes are the largest model
  // file's (the original hashed only the largest model file, at import and in place), so that file is checked
  // against them. Our own metadata hashes every file, and a bigger file added to the folder later is not taken for
  // the one that was hashed.
  const perFileHashes = listed.some((f) => f.sha256 || f.blake3);
  const primary = (sha256 || blake3) && !perFileHashes ? await largestWeight() : null;
  if (primary) {
    const entry = files.find((f) => f.path === primary.rel);
    if (!entry) files.push({ name: primary.rel, path: primary.rel, state: "check", size: null, sha256, blake3 });
    else Object.assign(entry, { sha256, blake3 });
  }
  const error = unsafe.length > 0
    ? `${join(dir, METADATA_FILE)} lists file name(s) that are not inside the model folder: ${unsafe.slice(0, 5).join(", ")}${unsafe.length > 5 ? ", ..." : ""}; not checked`
    : null;
  return { files, error };
}
