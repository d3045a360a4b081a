// Facts about where the app lives that change how links work (the original's checks, extended):
// another filesystem than the library (no hard links; symlinks need the app to see the library's path), and
// sandboxes that hide the library from the app (Flatpak, Snap, Docker), with what to add so it can see it.
import * as fs from "node:fs";
import * as path from "node:path";

export interface SandboxInfo {
  type: "flatpak" | "snap" | "docker";
  /** Flatpak app id or snap name when the path tells it. */
  appId: string | null;
  /** What to run or add so the app can read the library (symlinks point into it). */
  fix: string;
}

export interface EnvironmentNotes {
  crossFilesystem: boolean;
  sandbox: SandboxInfo | null;
  /** Human sentences for preview. */
  notes: string[];
}

/** The device of `p`, or of its nearest existing ancestor. */
function deviceOf(p: string): number | null {
  for (let dir = path.resolve(p); ; dir = path.dirname(dir)) {
    try {
      return fs.statSync(dir).dev;
    } catch {
      if (path.dirname(dir) === dir) return null;
    }
  }
}

export function detectSandbox(appRoot: string, libraryRoot: string, env: NodeJS.ProcessEnv = process.env): SandboxInfo | null {
  const abs = path.resolve(appRoot);
  const flatpak = /\/\.var\/app\/([^/]+)\//.exec(`${abs}/`);
  if (flatpak) {
    return { type: "flatpak", appId: flatpak[1], fix: `flatpak override --user --filesystem=${libraryRoot}:ro ${flatpak[1]}` };
  }
  const snap = /\/snap\/([^/]+)\//.exec(`${abs}/`);
  if (snap) {
    return { type: "snap", appId: snap[1], fix: `snaps see only their own folders: connect an interface that exposes ${libraryRoot} (snap connect ${snap[1]}:removable-media, or personal-files), or use --link hardlink/copy` };
  }
  // We ourselves run sandboxed (the original's checks): the app next to us likely is too.
  if (fs.existsSync("/.flatpak-info")) return { type: "flatpak", appId: null, fix: `flatpak override --user --filesystem=${libraryRoot}:ro <app-id>` };
  if (env.SNAP) return { type: "snap", appId: null, fix: "connect the personal-files interface for the library folder" };
  // mlib itself in a container: an app outside it (or in another one) resolves our absolute symlinks only if
  // the library is mounted at the same path there.
  if (fs.existsSync("/.dockerenv")) return { type: "docker", appId: null, fix: `if the app runs in another container or on the host, mount the library at the same path there: -v ${libraryRoot}:${libraryRoot}:ro` };
  return null;
}

export function environmentNotes(appRoot: string, libraryRoot: string): EnvironmentNotes {
  const a = deviceOf(appRoot);
  const b = deviceOf(libraryRoot);
  const crossFilesystem = a !== null && b !== null && a !== b;
  const sandbox = detectSandbox(appRoot, libraryRoot);
  const notes: string[] = [];
  if (crossFilesystem) notes.push(`${appRoot} is on another filesystem than the library ${libraryRoot}: hard links are impossible; symlinks work if the app can read ${libraryRoot}, else copies are made`);
  if (sandbox) notes.push(`the app looks sandboxed (${sandbox.type}${sandbox.appId ? ` ${sandbox.appId}` : ""}): symlinks into ${libraryRoot} resolve only if it can see that folder — ${sandbox.fix}`);
  return { crossFilesystem, sandbox, notes };
}
