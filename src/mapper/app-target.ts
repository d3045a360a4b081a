// Shared checks of the app a mapping operation names: the profile, and an app folder that exists.
import * as fs from "node:fs";
import * as path from "node:path";
import { ModelLibraryError } from "../core/errors.js";
import { resolveProfile, type ResolvedProfile } from "./profiles.js";
import type { AppTarget } from "./types.js";

export interface CheckedTarget {
  profile: ResolvedProfile;
  root: string;
  appDir: string;
  rootExists: boolean;
}

/** Resolves the profile and checks the app folder (the parent of --root) exists: we never create it. */
export function checkTarget(t: AppTarget): CheckedTarget {
  if (!t.root) throw new ModelLibraryError("E_USAGE", "the app's models folder is needed (--root DIR)");
  const profile = resolveProfile(t.app, t.appVersion ?? null, t.configDir);
  const root = path.resolve(t.root);
  const appDir = path.dirname(root);
  if (root === appDir) throw new ModelLibraryError("E_USAGE", `--root ${root}: the filesystem root cannot be an app's models folder`);
  let st: fs.Stats;
  try {
    st = fs.statSync(appDir);
  } catch {
    throw new ModelLibraryError("E_NOT_FOUND", `${appDir}: the app folder (the parent of --root) does not exist; nothing is created outside it`, { path: appDir });
  }
  if (!st.isDirectory()) throw new ModelLibraryError("E_INVALID", `${appDir}: not a folder`, { path: appDir });
  let rootExists = false;
  try {
    const r = fs.statSync(root);
    if (!r.isDirectory()) throw new ModelLibraryError("E_INVALID", `${root}: --root is not a folder`, { path: root });
    rootExists = true;
  } catch (e) {
    if (e instanceof ModelLibraryError) throw e;
  }
  return { profile, root, appDir, rootExists };
}
