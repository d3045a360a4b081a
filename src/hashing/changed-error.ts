// The one error for a file that is written to while we hash it: its hashes would describe no real content.
import { ModelLibraryError } from "../core/errors.js";

export function changedWhileHashing(path: string, sizeAtStart: number, bytesRead: number, sizeAtEnd: number): ModelLibraryError {
  const detail =
    sizeAtEnd !== sizeAtStart
      ? `size went from ${sizeAtStart} to ${sizeAtEnd} bytes`
      : bytesRead !== sizeAtStart
        ? `read ${bytesRead} of ${sizeAtStart} bytes`
        : "it was modified";
  return new ModelLibraryError("E_IO", `${path}: changed while hashing (${detail}); hash it again once it is complete`, { path });
}
