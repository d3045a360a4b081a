// Opening a file to read it, with the error every layer reports the same way (naming the file and the OS reason).
import { open, type FileHandle } from "node:fs/promises";
import { ioError } from "./errors.js";

export async function openForReading(path: string): Promise<FileHandle> {
  try {
    return await open(path, "r");
  } catch (e) {
    throw ioError(path, "open", e);
  }
}
