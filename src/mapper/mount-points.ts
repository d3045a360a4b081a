// Which folders are mount points: mounted now (/proc/self/mountinfo) or where a disk is configured to be mounted
// (/etc/fstab). A link of ours on a disk that is not mounted looks as if it and its folders were deleted: its
// folder is gone, or is the empty folder the disk is normally mounted on. Such a link is "unreadable" (not
// judged, its registry entry kept), never "missing" (which repair and unlink forget).
import { readFileSync } from "node:fs";

export interface Mount {
  /** Where it is mounted (the 5th field of a mountinfo line, octal escapes undone). */
  mountPoint: string;
  /** The `st_dev` its files have (from the `major:minor` field, encoded as glibc's makedev does). */
  dev: number;
}

/** The `\040`-style octal escapes of mountinfo and fstab (space, tab, newline, backslash in a path). */
function unescapeOctal(s: string): string {
  return s.replace(/\\([0-7]{3})/g, (_m, o: string) => String.fromCharCode(parseInt(o, 8)));
}

/** glibc's makedev: the `st_dev` Node reports for a filesystem with this major and minor number. */
export function makedev(major: number, minor: number): number {
  // (major & 0xfffff000) << 32 | (major & 0xfff) << 8 | (minor & 0xffffff00) << 12 | (minor & 0xff), in doubles.
  return Math.floor(major / 0x1000) * 2 ** 44 + (major & 0xfff) * 2 ** 8 + Math.floor(minor / 0x100) * 2 ** 20 + (minor & 0xff);
}

/** The mounts in a /proc/self/mountinfo text (lines that do not parse are skipped). */
export function parseMountInfo(text: string): Mount[] {
  const out: Mount[] = [];
  for (const line of text.split("\n")) {
    // id parent major:minor root mount-point options [optional fields...] - fstype source super-options
    const f = line.split(" ");
    const mm = /^(\d+):(\d+)$/.exec(f[2] ?? "");
    if (!mm || f.length < 5) continue;
    out.push({ mountPoint: unescapeOctal(f[4]), dev: makedev(Number(mm[1]), Number(mm[2])) });
  }
  return out;
}

/** The mount points an fstab text configures (swap and `none` left out). */
export function parseFstab(text: string): string[] {
  const out: string[] = [];
  for (const raw of text.split("\n")) {
    const line = raw.trim();
    if (!line || line.startsWith("#")) continue;
    const f = line.split(/\s+/);
    if (f.length < 3 || !f[1].startsWith("/") || f[2] === "swap") continue;
    out.push(unescapeOctal(f[1]).replace(/(.)\/+$/, "$1"));
  }
  return out;
}

export interface MountTable {
  mounted: Mount[];
  /** Configured in fstab. */
  configured: string[];
}

let cached: { at: number; table: MountTable } | null = null;

/** The system's mount table, read at most once a second (a `links check` of many links reads it once). */
export function mountTable(): MountTable {
  const now = Date.now();
  if (cached && now - cached.at < 1000) return cached.table;
  const read = (p: string): string => {
    try {
      return readFileSync(p, "utf8");
    } catch {
      return "";
    }
  };
  const table = { mounted: parseMountInfo(read("/proc/self/mountinfo")), configured: parseFstab(read("/etc/fstab")) };
  cached = { at: now, table };
  return table;
}

/** Why `dir`, found empty, looks like a disk that is not mounted: configured in fstab, nothing mounted there now. */
export function unmountedMountPoint(dir: string, table: MountTable): string | null {
  if (!table.configured.includes(dir) || table.mounted.some((m) => m.mountPoint === dir)) return null;
  return `${dir} is where /etc/fstab mounts a disk, and nothing is mounted there now`;
}

/** Whether a filesystem with this `st_dev` is mounted anywhere now. */
export function isMounted(dev: number, table: MountTable): boolean {
  return table.mounted.some((m) => m.dev === dev);
}
