// A small real filesystem to fill up: a tmpfs of a few MiB mounted for one test (root only; where mounting is
// not allowed, e.g. an unprivileged CI container, the test is skipped with the reason said), and a filler file
// that takes every free byte but a few, so the next write of the code under test meets ENOSPC for real.
import { spawnSync } from "node:child_process";
import { closeSync, mkdtempSync, openSync, rmSync, statfsSync, unlinkSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { TestContext } from "node:test";

export interface SmallDisk {
  dir: string;
  /** Takes all free space but `leaveBytes` (default: none); returns a function that gives it back. */
  fill(leaveBytes?: number): () => void;
  /** Unmounts and removes the mount point. */
  cleanup(): void;
}

/** Mounts a tmpfs of `sizeMiB` at a new temp folder; null (test skipped, reason said) where mounting is refused. */
export function smallDisk(t: TestContext, sizeMiB = 4): SmallDisk | null {
  const dir = mkdtempSync(join(tmpdir(), "mlib-full-"));
  const r = spawnSync("mount", ["-t", "tmpfs", "-o", `size=${sizeMiB}m`, "tmpfs", dir], { encoding: "utf8" });
  if (r.status !== 0) {
    rmSync(dir, { recursive: true, force: true });
    t.skip(`cannot mount a tmpfs here (${(r.stderr || r.error?.message || "").trim() || "mount failed"}): full-disk test SKIPPED`);
    return null;
  }
  let n = 0;
  return {
    dir,
    fill: (leaveBytes = 0) => fillDisk(dir, leaveBytes, `.filler-${n++}`),
    cleanup: () => {
      spawnSync("umount", ["-l", dir]);
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

function fillDisk(dir: string, leaveBytes: number, name: string): () => void {
  const filler = join(dir, name);
  const fd = openSync(filler, "w");
  try {
    const big = Buffer.alloc(256 * 1024, 1);
    const small = Buffer.alloc(4096, 1);
    for (;;) {
      const st = statfsSync(dir);
      const free = st.bavail * st.bsize;
      if (free <= leaveBytes) break;
      try {
        writeSync(fd, free - leaveBytes > big.length * 2 ? big : small);
      } catch {
        break; // ENOSPC: full
      }
    }
  } finally {
    closeSync(fd);
  }
  return () => unlinkSync(filler);
}
