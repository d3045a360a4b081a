// stat / lstat that answer null instead of throwing, for code that only asks "is something there?" (the store's
// walks and staging checks). Any error counts as "not there": a path that cannot be stat'ed cannot be used either.
import { lstatSync, statSync, type Stats } from "node:fs";

export function statOrNull(path: string): Stats | null {
  try {
    return statSync(path);
  } catch {
    return null;
  }
}

export function lstatOrNull(path: string): Stats | null {
  try {
    return lstatSync(path);
  } catch {
    return null;
  }
}
