// `mlib map config APP --root DIR`: where the app can read the library's folders itself, say so in its own
// configuration instead of making links.
//   ComfyUI   a `model_library:` section in `<ComfyUI>/extra_model_paths.yaml` (the parent of --root) listing,
//             per folder key, the library folders of the models that rule takes (ComfyUI lists the files in
//             each). Merged with the yaml package's Document API: the user's other sections and comments stay;
//             the previous file is kept as `extra_model_paths.yaml.mlib-bak`; a file that does not parse is
//             refused, never rewritten.
//   A1111/Forge  the `--ckpt-dir/--lora-dir/...` flags, printed (not written): a flag takes one folder, so
//             one is given only where a single library folder holds exactly that rule's models.
import * as fs from "node:fs";
import * as path from "node:path";
import { isDeepStrictEqual } from "node:util";
import { Document, Scalar, isMap, parseDocument } from "yaml";
import { ModelLibraryError, ioError } from "../core/errors.js";
import { leaseTimings, pidAlive } from "../core/lease.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "../operations/types.js";
import { checkTarget } from "./app-target.js";
import { planMapping } from "./plan.js";
import type { AppTarget } from "./types.js";
import { pauseForTest } from "../core/test-pause.js"; // (test-only: MLIB_TEST_PAUSE_AT)

export const COMFY_SECTION = "model_library";

export interface AppConfigResult {
  app: string;
  kind: "comfyui-yaml" | "flags";
  /** The YAML file written (ComfyUI). */
  file: string | null;
  /** Its previous version (when there was one and it changed). */
  backup: string | null;
  changed: boolean;
  /** The flags to add (A1111/Forge), each `--flag <folder>`. */
  flags: string[];
  /** Folders/flags that could not be expressed, and why (link those with `mlib map apply`). */
  notMapped: { targetDir: string; reason: string }[];
}

/** target_dir → the distinct model folders (ids) the rule takes. */
function foldersByRule(library: ModelLibrary, params: AppTarget, signal?: AbortSignal) {
  const t = checkTarget(params);
  const plan = planMapping(library, t.profile, t.root, signal);
  const byDir = new Map<string, Set<string>>();
  for (const u of plan.units) {
    const set = byDir.get(u.targetDir) ?? new Set<string>();
    set.add(u.modelId);
    byDir.set(u.targetDir, set);
  }
  return { t, byDir };
}

export async function writeAppConfig(library: ModelLibrary, params: AppTarget, options: OperationOptions = {}): Promise<AppConfigResult> {
  const { t, byDir } = foldersByRule(library, params, options.signal);
  if (t.profile.app === "comfyui") return writeComfyYaml(library, t.appDir, t.profile.rules, byDir);
  if (Object.keys(t.profile.flags).length > 0) return webuiFlags(library, t.profile.app, t.profile.flags, byDir);
  throw new ModelLibraryError("E_UNSUPPORTED", `${t.profile.app} reads only its own models folder: use \`mlib map apply ${t.profile.app} --root ${t.root}\``);
}

function writeComfyYaml(library: ModelLibrary, appDir: string, rules: { target_dir: string; layout?: string | null }[], byDir: Map<string, Set<string>>): AppConfigResult {
  const file = path.join(appDir, "extra_model_paths.yaml");
  const result: AppConfigResult = { app: "comfyui", kind: "comfyui-yaml", file, backup: null, changed: false, flags: [], notMapped: [] };
  // The file a symlink leads to (a dotfiles repo) is the one written: the user's symlink stays a symlink.
  const written = realFileOf(file);
  let before: string | null = null;
  try {
    before = fs.readFileSync(written, "utf8");
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== "ENOENT") throw ioError(file, "read", e);
  }
  const doc = parseDocument(before ?? "");
  if (doc.errors.length > 0) {
    throw new ModelLibraryError("E_INVALID", `${file}: not valid YAML (${doc.errors[0].message.split("\n")[0]}); fix it first, it is left as it is`, { path: file });
  }
  if (doc.contents !== null && !isMap(doc.contents)) {
    throw new ModelLibraryError("E_INVALID", `${file}: expected a mapping of sections at the top; left as it is`, { path: file });
  }
  const section: Record<string, unknown> = { base_path: library.root, is_default: false };
  for (const rule of rules) {
    const ids = byDir.get(rule.target_dir);
    if (!ids || ids.size === 0) continue;
    if (rule.layout === "folder") {
      result.notMapped.push({ targetDir: rule.target_dir, reason: "ComfyUI lists the folders inside each path as models; link diffusers folders with `mlib map apply`" });
      continue;
    }
    // ComfyUI splits the value on newlines (never a YAML list): one model folder per line, relative to base_path.
    const s = new Scalar([...ids].sort().join("\n") + "\n");
    s.type = Scalar.BLOCK_LITERAL;
    section[rule.target_dir] = s;
  }
  doc.set(COMFY_SECTION, doc.createNode(section));
  // The user's text kept byte for byte around our section; re-written by the yaml package only when that fails.
  const text = spliceSection(before ?? "", section, doc.toJS()) ?? String(doc);
  if (text === before) return result;
  const tmp = path.join(path.dirname(written), `.${path.basename(written)}.${process.pid}.mlib-tmp`);
  // The backup too is written beside and renamed into place: written over in place, a full disk left the earlier
  // backup truncated or torn.
  const backup = `${file}.mlib-bak`;
  const bakTmp = path.join(path.dirname(backup), `.${path.basename(backup)}.${process.pid}.mlib-tmp`);
  removeDeadTemps(written);
  removeDeadTemps(backup);
  try {
    const was = before !== null ? fs.statSync(written) : null;
    fs.writeFileSync(tmp, text, { mode: was ? 0o600 : 0o644 });
    const fd = fs.openSync(tmp, "r+");
    try {
      if (was) {
        // The user's file keeps its mode (not narrowed by the umask) and, when we run as root (sudo), its owner.
        fs.fchmodSync(fd, was.mode & 0o7777);
        if (process.getuid?.() === 0) fs.fchownSync(fd, was.uid, was.gid);
      }
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    if (before !== null) {
      fs.writeFileSync(bakTmp, before);
      fs.renameSync(bakTmp, backup);
      result.backup = backup;
    }
    pauseForTest("before-rename", written);
    fs.renameSync(tmp, written);
  } catch (e) {
    fs.rmSync(tmp, { force: true });
    fs.rmSync(bakTmp, { force: true });
    throw ioError(written, "write", e);
  }
  result.changed = true;
  return result;
}

/**
 * Our temp files of this config left by a run killed before its rename (`.<name>.<pid>.mlib-tmp`, in the app's
 * folder, where no other command looks): removed once their writer is gone (its pid not running) or they are older
 * than a lease's expiry. Nothing but our own name is touched.
 */
function removeDeadTemps(written: string): void {
  const dir = path.dirname(written);
  const prefix = `.${path.basename(written)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch {
    return;
  }
  for (const name of names) {
    const pid = name.startsWith(prefix) ? /^(\d+)\.mlib-tmp$/.exec(name.slice(prefix.length))?.[1] : undefined;
    if (pid === undefined || Number(pid) === process.pid) continue;
    const file = path.join(dir, name);
    const st = fs.lstatSync(file, { throwIfNoEntry: false });
    if (!st?.isFile() || (pidAlive(Number(pid)) && Date.now() - st.mtimeMs < leaseTimings().expireMs)) continue;
    fs.rmSync(file, { force: true });
  }
}

/**
 * `before` with our section replaced (or added at the end) as text: the user's indents, quoting, long lines,
 * blank lines and line endings stay as they were (the yaml package re-indents and re-wraps a whole file it
 * writes). Our section runs from its `model_library:` line at column 0 to the next line at column 0. Null
 * when the result does not read back as `want` (then the caller writes the whole document).
 */
function spliceSection(before: string, section: Record<string, unknown>, want: unknown): string | null {
  const own = new Document();
  own.set(COMFY_SECTION, own.createNode(section));
  const eol = before.includes("\r\n") ? "\r\n" : "\n";
  const ours = own.toString({ lineWidth: 0 }).replace(/\n/g, eol);
  const lines = before.split(/(?<=\n)/);
  const start = lines.findIndex((l) => new RegExp(`^${COMFY_SECTION}\\s*:`).test(l));
  let text: string;
  if (start < 0) {
    text = before === "" || before.endsWith("\n") ? before + ours : before + eol + ours;
  } else {
    let end = start + 1;
    while (end < lines.length && (lines[end].trim() === "" || /^[ \t]/.test(lines[end]))) end++;
    // Blank lines before the next section stay the user's.
    while (end > start + 1 && lines[end - 1].trim() === "") end--;
    text = lines.slice(0, start).join("") + ours + lines.slice(end).join("");
  }
  const check = parseDocument(text);
  return check.errors.length === 0 && isDeepStrictEqual(check.toJS(), want) ? text : null;
}

/** `file`, or the file it leads to when it is a symlink; a symlink leading nowhere is refused (left as it is). */
function realFileOf(file: string): string {
  try {
    if (!fs.lstatSync(file).isSymbolicLink()) return file;
  } catch {
    return file; // absent: created
  }
  try {
    return fs.realpathSync(file);
  } catch (e) {
    throw new ModelLibraryError("E_INVALID", `${file}: a symlink to ${fs.readlinkSync(file)}, which cannot be reached (${(e as NodeJS.ErrnoException).code}); left as it is`, { path: file });
  }
}

function webuiFlags(library: ModelLibrary, app: string, flags: Record<string, string>, byDir: Map<string, Set<string>>): AppConfigResult {
  const result: AppConfigResult = { app, kind: "flags", file: null, backup: null, changed: false, flags: [], notMapped: [] };
  const all = library.allIds();
  for (const [targetDir, flag] of Object.entries(flags)) {
    const ids = byDir.get(targetDir);
    if (!ids || ids.size === 0) continue;
    // The deepest folder holding every one of them...
    const parts = [...ids].map((id) => id.split("/"));
    let common = parts[0].slice(0, -1);
    for (const p of parts) {
      let n = 0;
      while (n < common.length && n < p.length - 1 && common[n] === p[n]) n++;
      common = common.slice(0, n);
    }
    // ...and nothing else (the web UI reads every model file under it).
    const prefix = common.length > 0 ? `${common.join("/")}/` : "";
    const other = all.find((id) => id.startsWith(prefix) && !ids.has(id));
    if (other !== undefined) {
      result.notMapped.push({ targetDir, reason: `no library folder holds only these models (${other} is beside them): link them with \`mlib map apply ${app}\`` });
      continue;
    }
    result.flags.push(`${flag} ${JSON.stringify(path.join(library.root, ...common))}`);
  }
  return result;
}
