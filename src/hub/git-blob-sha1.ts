// The git blob id of a file: sha1 of "blob <size>\0" followed by its bytes. The Hub's tree gives it (`oid`) for every
// plain git (non-LFS) file: config.json, tokenizer.json, README.md... the only check those files can have, as they
// carry no sha256. (An LFS file's `oid` is its pointer's blob id, not its content's: those are checked by sha256.)
import { createHash } from "node:crypto";
import { createReadStream } from "node:fs";

export const GIT_SHA1 = /^[0-9a-f]{40}$/;

/** The git blob sha1 of the file at `path` (read back from disk: these files are small). */
export async function gitBlobSha1(path: string, size: number): Promise<string> {
  const h = createHash("sha1").update(`blob ${size}\0`);
  for await (const chunk of createReadStream(path)) h.update(chunk as Buffer);
  return h.digest("hex");
}
