// initLibrary (`mlib init`): the library is created (or opened) by ModelLibrary.open; this says where it is and
// how many models it holds.
import { throwIfAborted } from "../core/errors.js";
import type { ModelLibrary } from "../store/model-library.js";
import type { OperationOptions } from "./types.js";

export interface LibraryInfo {
  root: string;
  models: number;
}

export async function initLibrary(library: ModelLibrary, _params: Record<string, never> = {}, options: OperationOptions = {}): Promise<LibraryInfo> {
  throwIfAborted(options.signal, "init");
  return { root: library.root, models: library.count() };
}
