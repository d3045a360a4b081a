// Git LFS pointer files: what a clone without `git lfs` leaves where the model should be.
// Spec: https://github.com/git-lfs/git-lfs/blob/main/docs/spec.md (version line first, then keys).
import type { LfsPointerInfo } from "./types.js";

/** Pointer files are tiny; the spec caps them below 1024 bytes. */
export const LFS_POINTER_MAX_BYTES = 1024;
export const LFS_VERSION_LINE = "version https://git-lfs.github.com/spec/v1";

/** Parses a whole pointer file; null when the bytes are not one (too big, no version line, no oid/size). */
export function parseLfsPointer(bytes: Buffer): LfsPointerInfo | null {
  if (bytes.length >= LFS_POINTER_MAX_BYTES) return null;
  let text: string;
  try {
    text = new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
  // Accept CRLF: pointers checked out on Windows with autocrlf end their lines that way.
  const lines = text.split(/\r?\n/);
  if (lines[0] !== LFS_VERSION_LINE) return null;
  let oid: string | null = null;
  let size: number | null = null;
  for (const line of lines.slice(1)) {
    if (line === "") continue;
    const space = line.indexOf(" ");
    if (space <= 0) return null;
    const key = line.slice(0, space);
    const value = line.slice(space + 1);
    if (key === "oid") {
      const m = /^sha256:([0-9a-fA-F]{64})$/.exec(value);
      if (!m || oid !== null) return null;
      oid = `sha256:${m[1].toLowerCase()}`;
    } else if (key === "size") {
      if (!/^\d{1,16}$/.test(value) || size !== null) return null;
      size = Number(value);
      if (!Number.isSafeInteger(size)) return null;
    } else if (!/^[a-z0-9.-]+$/.test(key)) {
      return null; // other keys (ext-0-…) are allowed by the spec, garbage is not
    }
  }
  if (oid === null || size === null) return null;
  return { oid, size };
}

/** What the user is told when a model file turns out to be a pointer. */
export function lfsPointerMessage(path: string, info: LfsPointerInfo): string {
  const hash = info.oid.replace(/^sha256:/, "");
  return (
    `${path} is a Git LFS pointer, not the model: the file was never downloaded ` +
    `(expected ${info.size} bytes, sha256 ${hash}). Run \`git lfs pull\` or download it again.`
  );
}
